"""Legal rules on a village committee's composition and term, one function per rule.

Each function takes plain values and returns the failures it finds (an empty list
when the rule holds), so forms, the API, by-elections and tests call the same code.
Articles: Organic Law of Villagers' Committees (村民委员会组织法), 2010 revision as
amended 2018-12-29.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from villageaffairs.legal import RuleFailure, vcol

MIN_SEATS = 3
MAX_SEATS = 7
# The 2018 amendment (in force 2018-12-29) lengthened the term from 3 to 5 years.
FIVE_YEAR_TERMS_FROM = dt.date(2018, 12, 29)


def seats_in_range(seats: int) -> list[RuleFailure]:
    """A committee has a director, deputy director(s) and members, 3 to 7 in total.

    Organic Law of Villagers' Committees (2018), Art. 6.
    """
    if MIN_SEATS <= seats <= MAX_SEATS:
        return []
    return [
        RuleFailure(
            "seats_in_range", "committees.rules.seats_in_range", vcol("6"), {"seats": seats}
        )
    ]


def members_within_seats(members: int, seats: int) -> list[RuleFailure]:
    """No more members than approved seats. Organic Law (2018), Art. 6."""
    if members <= seats:
        return []
    return [
        RuleFailure(
            "members_within_seats",
            "committees.rules.members_within_seats",
            vcol("6"),
            {"members": members, "seats": seats},
        )
    ]


def has_woman(genders: Iterable[str]) -> list[RuleFailure]:
    """The committee must include women members. Organic Law (2018), Art. 6(2)."""
    if any(g == "female" for g in genders):
        return []
    return [RuleFailure("has_woman", "committees.rules.has_woman", vcol("6"))]


def one_director(posts: Sequence[str]) -> list[RuleFailure]:
    """A committee has one director (主任). Organic Law (2018), Art. 6."""
    if sum(1 for p in posts if p == "director") <= 1:
        return []
    return [RuleFailure("one_director", "committees.rules.one_director", vcol("6"))]


def term_years(term_start: dt.date) -> int:
    """5 years for terms beginning on or after 2018-12-29, 3 years before.

    Organic Law (2018), Art. 11(2), as amended by the NPCSC decision of 2018-12-29.
    """
    return 5 if term_start >= FIVE_YEAR_TERMS_FROM else 3


def term_end_for(term_start: dt.date) -> dt.date:
    years = term_years(term_start)
    try:
        return term_start.replace(year=term_start.year + years)
    except ValueError:  # 29 February
        return term_start.replace(year=term_start.year + years, day=28)


def term_length(term_start: dt.date, term_end: dt.date) -> list[RuleFailure]:
    """The term ends 5 (before 2018-12-29: 3) years after it starts. Art. 11(2)."""
    if term_end == term_end_for(term_start):
        return []
    return [
        RuleFailure(
            "term_length",
            "committees.rules.term_length",
            vcol("11"),
            {"years": term_years(term_start), "expected": term_end_for(term_start).isoformat()},
        )
    ]


def no_spouses_or_lineal(pairs: Iterable[tuple[str, str, str]], barred: bool) -> list[RuleFailure]:
    """Members may not be spouses or lineal relatives of each other where the province
    says so (provincial implementing measures; the national law is silent). ``pairs``
    holds (name, name, relation kind) of relations among the members."""
    if not barred:
        return []
    return [
        RuleFailure(
            "no_spouses_or_lineal",
            "committees.rules.no_spouses_or_lineal",
            vcol("6"),
            {"a": a, "b": b},
        )
        for a, b, kind in pairs
        if kind in ("spouse", "lineal")
    ]


def composition(
    seats: int,
    members: Sequence[tuple[str, str, str]],
    relations: Iterable[tuple[str, str, str]] = (),
    relatives_barred: bool = True,
) -> list[RuleFailure]:
    """Every composition rule for a committee of ``members`` (name, gender, post)."""
    return [
        *seats_in_range(seats),
        *members_within_seats(len(members), seats),
        *one_director([m[2] for m in members]),
        *has_woman([m[1] for m in members]),
        *no_spouses_or_lineal(relations, relatives_barred),
    ]


def waiver_allowed(remaining_members: int, decision_ref: str) -> list[RuleFailure]:
    """A vacancy may be left unfilled only if at least 3 members remain and a villagers'
    meeting or representatives' assembly decided so (local practice under Art. 19)."""
    failures = []
    if remaining_members < MIN_SEATS:
        failures.append(
            RuleFailure(
                "waiver_remaining",
                "committees.rules.waiver_remaining",
                vcol("19"),
                {"remaining": remaining_members},
            )
        )
    if not decision_ref.strip():
        failures.append(
            RuleFailure("waiver_decision", "committees.rules.waiver_decision", vcol("19"))
        )
    return failures
