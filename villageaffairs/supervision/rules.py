"""Who may sit on a village affairs supervisory committee: every rule in one place.

Each function returns :class:`villageaffairs.legal.RuleFailure`s citing its source;
:func:`composition_failures` runs them all so a form shows every problem at once.
Article numbers are those of the Organic Law of Villagers' Committees (2010, amended
2018); the 2017 guidance is the CPC General Office / State Council General Office
《关于建立健全村务监督委员会的指导意见》.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import msgspec

from villageaffairs.legal import LegalBasis, RuleFailure, policy, vcol

GUIDANCE_2017 = policy("supervision.law.guidance_2017")
COUNTY_PLAN_2020 = policy("supervision.law.county_plan_2020")


@dataclasses.dataclass(frozen=True)
class CompositionRules:
    """The configurable part: sizes, and which village posts bar a member.

    The 2017 guidance sets 3-5 members; barring the accountant and bookkeeper (会计、
    报账员) comes from local rules ("村文书、财务人员等村聘用人员也不得兼任"), so a
    county may widen or narrow ``excluded_posts`` (e.g. add ``hired_staff``).
    """

    min_members: int = 3
    max_members: int = 5
    excluded_posts: frozenset[str] = frozenset({"accountant", "bookkeeper"})
    report_every_months: int = 3
    report_due_days: int = 15
    record_by: tuple[int, int] = (6, 30)


COMPOSITION_FILE = Path(__file__).resolve().parent / "composition.json"


def load_rules(path: Path = COMPOSITION_FILE) -> CompositionRules:
    """The county's settings from ``composition.json`` (data, not code), else the defaults."""
    defaults = CompositionRules()
    if not path.is_file():
        return defaults
    data = json.loads(path.read_text(encoding="utf-8"))
    record_by = data.get("record_by", defaults.record_by)
    return CompositionRules(
        min_members=int(data.get("min_members", defaults.min_members)),
        max_members=int(data.get("max_members", defaults.max_members)),
        excluded_posts=frozenset(data.get("excluded_posts", defaults.excluded_posts)),
        report_every_months=int(data.get("report_every_months", defaults.report_every_months)),
        report_due_days=int(data.get("report_due_days", defaults.report_due_days)),
        record_by=(int(record_by[0]), int(record_by[1])),
    )


DEFAULT_RULES = load_rules()


class ProposedMember(msgspec.Struct, frozen=True):
    person_id: int
    name: str
    post: str  # chair | member
    accounting_knowledge: bool = False
    management_knowledge: bool = False


def _fail(rule: str, basis: LegalBasis, **values: object) -> RuleFailure:
    return RuleFailure(rule=rule, key=f"supervision.rule.{rule}", basis=basis, values=values)


def size_failures(members: Sequence[ProposedMember], rules: CompositionRules) -> list[RuleFailure]:
    """3-5 members (2017 guidance, part 2: "一般由3至5人组成")."""
    if rules.min_members <= len(members) <= rules.max_members:
        return []
    return [
        _fail(
            "size",
            GUIDANCE_2017,
            count=len(members),
            min=rules.min_members,
            max=rules.max_members,
        )
    ]


def chair_failures(members: Sequence[ProposedMember]) -> list[RuleFailure]:
    """Exactly one chair (2017 guidance: "设主任1名")."""
    chairs = sum(1 for m in members if m.post == "chair")
    return [] if chairs == 1 else [_fail("one_chair", GUIDANCE_2017, count=chairs)]


def duplicate_failures(members: Sequence[ProposedMember]) -> list[RuleFailure]:
    seen: set[int] = set()
    failures = []
    for member in members:
        if member.person_id in seen:
            failures.append(_fail("duplicate", GUIDANCE_2017, name=member.name))
        seen.add(member.person_id)
    return failures


def committee_member_failures(
    members: Sequence[ProposedMember],
    committee_person_ids: Mapping[int, str],
    near_relatives: Mapping[int, set[int]],
) -> list[RuleFailure]:
    """No villagers' committee member, nor a near relative of one (Art. 32:
    "村民委员会成员及其近亲属不得担任村务监督机构成员").

    ``committee_person_ids`` maps each sitting committee member to their name;
    ``near_relatives`` maps a proposed member to the people declared their near
    relatives (spouse, lineal and other near relatives all count).
    """
    failures = []
    for member in members:
        if member.person_id in committee_person_ids:
            failures.append(_fail("on_village_committee", vcol("32"), name=member.name))
            continue
        related = near_relatives.get(member.person_id, set()) & committee_person_ids.keys()
        for other in sorted(related):
            failures.append(
                _fail(
                    "relative_of_committee_member",
                    vcol("32"),
                    name=member.name,
                    relative=committee_person_ids[other],
                )
            )
    return failures


def excluded_post_failures(
    members: Sequence[ProposedMember],
    posts: Mapping[int, set[str]],
    rules: CompositionRules,
) -> list[RuleFailure]:
    """Not the village accountant or bookkeeper, or another barred post (2017 guidance
    and local rules; the list is ``rules.excluded_posts``)."""
    failures = []
    for member in members:
        for post in sorted(posts.get(member.person_id, set()) & rules.excluded_posts):
            failures.append(_fail("excluded_post", GUIDANCE_2017, name=member.name, post=post))
    return failures


def expertise_failures(members: Sequence[ProposedMember]) -> list[RuleFailure]:
    """At least one member with accounting or management knowledge (Art. 32:
    "村务监督机构成员中应有具备财会、管理知识的人员")."""
    if any(m.accounting_knowledge or m.management_knowledge for m in members):
        return []
    return [_fail("expertise", vcol("32"))]


def term_failures(
    term_start: dt.date, term_end: dt.date, committee_term: tuple[dt.date, dt.date] | None
) -> list[RuleFailure]:
    """Same term as the villagers' committee (2017 guidance: "任期与村民委员会的任期相同"),
    so there must be a committee to match."""
    if committee_term is None:
        return [_fail("no_village_committee", GUIDANCE_2017)]
    if term_end != committee_term[1] or term_start > term_end:
        return [
            _fail(
                "term",
                GUIDANCE_2017,
                start=committee_term[0].isoformat(),
                end=committee_term[1].isoformat(),
            )
        ]
    return []


def composition_failures(
    members: Sequence[ProposedMember],
    *,
    committee_person_ids: Mapping[int, str],
    near_relatives: Mapping[int, set[int]],
    posts: Mapping[int, set[str]],
    rules: CompositionRules = DEFAULT_RULES,
) -> list[RuleFailure]:
    """Every composition rule at once (size, chair, duplicates, Art. 32 bars, posts, expertise)."""
    return [
        *size_failures(members, rules),
        *chair_failures(members),
        *duplicate_failures(members),
        *committee_member_failures(members, committee_person_ids, near_relatives),
        *excluded_post_failures(members, posts, rules),
        *expertise_failures(members),
    ]


def record_deadline(year: int, rules: CompositionRules = DEFAULT_RULES) -> dt.date:
    """Recorded by 30 June (the county's 2020 plan: "6月底前全面建立村务监督委员会")."""
    return dt.date(year, *rules.record_by)


def quarter_of(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def expected_periods(
    recorded_on: dt.date, today: dt.date, rules: CompositionRules = DEFAULT_RULES
) -> list[tuple[str, dt.date]]:
    """The work-report periods from the quarter after recording up to today, each with
    its due date (``report_due_days`` after the period ends).

    Committees report their work to the county discipline commission and the civil
    affairs bureau (the county's 2020 plan); the cadence is a county setting,
    quarterly by default.
    """
    step = rules.report_every_months
    month0 = ((recorded_on.month - 1) // step) * step  # first month (0-based) of its period
    year, month = recorded_on.year, month0
    periods = []
    while True:
        start = dt.date(year + month // 12, month % 12 + 1, 1)
        end_month = month + step
        end = dt.date(year + end_month // 12, end_month % 12 + 1, 1) - dt.timedelta(days=1)
        if end >= today:
            break
        label = quarter_of(start) if step == 3 else f"{start.year}-{start.month:02d}"
        periods.append((label, end + dt.timedelta(days=rules.report_due_days)))
        month = end_month
    return periods
