"""Legal rules of a by-election, one function per rule.

Articles: Organic Law of Villagers' Committees (村民委员会组织法), 2010 revision as
amended 2018-12-29. A by-election follows the election procedure of Art. 15 (Art. 19).
Candidate vetting is policy: the 2019 Guiding Opinions on Strengthening and Improving
Rural Governance (CPC General Office / State Council General Office) require a
county-level joint review that keeps people with criminal penalties, village bullies
and gang ties off the ballot.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from villageaffairs.legal import RuleFailure, policy, vcol

VOTER_LIST_DAYS = 20
VETTING = "vetting_2019"


def method_allowed(method: str) -> list[RuleFailure]:
    """A by-election is held by the villagers' meeting or the representatives' assembly.

    Organic Law (2018), Art. 19.
    """
    if method in ("villagers_meeting", "representatives_assembly"):
        return []
    return [RuleFailure("method_allowed", "elections.rules.method_allowed", vcol("19"))]


def voter_list_published_in_time(
    published_on: dt.date | None, election_date: dt.date
) -> list[RuleFailure]:
    """The voter list is published 20 days before the election. Organic Law (2018), Art. 14."""
    latest = election_date - dt.timedelta(days=VOTER_LIST_DAYS)
    if published_on is not None and published_on <= latest:
        return []
    return [
        RuleFailure(
            "voter_list_published_in_time",
            "elections.rules.voter_list_published_in_time",
            vcol("14"),
            {"days": VOTER_LIST_DAYS, "latest": latest.isoformat()},
        )
    ]


def more_candidates_than_seats(post: str, candidates: int, seats: int) -> list[RuleFailure]:
    """There must be more candidates than seats (差额选举). Organic Law (2018), Art. 15."""
    if candidates > seats:
        return []
    return [
        RuleFailure(
            "more_candidates_than_seats",
            "elections.rules.more_candidates_than_seats",
            vcol("15"),
            {"post": post, "candidates": candidates, "seats": seats},
        )
    ]


def turnout_valid(ballots_cast: int, registered: int) -> list[RuleFailure]:
    """The election is valid only if more than half of the registered voters voted.

    Organic Law (2018), Art. 15(2).
    """
    if ballots_cast * 2 > registered:
        return []
    return [
        RuleFailure(
            "turnout_valid",
            "elections.rules.turnout_valid",
            vcol("15"),
            {"ballots": ballots_cast, "registered": registered},
        )
    ]


def ballots_within_register(ballots_cast: int, registered: int) -> list[RuleFailure]:
    """More ballots than voters makes the vote invalid (provincial election rules under
    Art. 15)."""
    if 0 <= ballots_cast <= registered:
        return []
    return [
        RuleFailure(
            "ballots_within_register",
            "elections.rules.ballots_within_register",
            vcol("15"),
            {"ballots": ballots_cast, "registered": registered},
        )
    ]


def votes_within_ballots(name: str, votes: int, ballots_cast: int) -> list[RuleFailure]:
    """A candidate cannot get more votes than ballots were cast (one vote per ballot)."""
    if 0 <= votes <= ballots_cast:
        return []
    return [
        RuleFailure(
            "votes_within_ballots",
            "elections.rules.votes_within_ballots",
            vcol("15"),
            {"name": name, "votes": votes, "ballots": ballots_cast},
        )
    ]


def elected_first_round(votes: int, ballots_cast: int) -> bool:
    """A candidate is elected with more than half of the ballots cast. Art. 15(2)."""
    return votes * 2 > ballots_cast


def elected_further_round(votes: int, ballots_cast: int) -> bool:
    """In a further round for unfilled seats the most votes win, but only with at least
    one third of the ballots cast. Organic Law (2018), Art. 15(2)."""
    return votes * 3 >= ballots_cast


def not_elected(name: str, votes: int, ballots_cast: int, round_no: int) -> RuleFailure:
    """Why a candidate was not elected in a round (shown with the tally)."""
    if round_no == 1:
        return RuleFailure(
            "elected_first_round",
            "elections.rules.elected_first_round",
            vcol("15"),
            {"name": name, "votes": votes, "ballots": ballots_cast},
        )
    return RuleFailure(
        "elected_further_round",
        "elections.rules.elected_further_round",
        vcol("15"),
        {"name": name, "votes": votes, "ballots": ballots_cast},
    )


def candidate_not_flagged(name: str, results: Iterable[str]) -> list[RuleFailure]:
    """Any agency's flag bars the candidate (2019 Guiding Opinions, county joint review)."""
    if "flagged" not in set(results):
        return []
    return [
        RuleFailure(
            "candidate_not_flagged",
            "elections.rules.candidate_not_flagged",
            policy(VETTING),
            {"name": name},
        )
    ]


def vetting_complete(
    name: str, results: dict[str, str], required: Iterable[str]
) -> list[RuleFailure]:
    """Every required agency has answered (no ``pending``, none missing) before the joint
    review closes (2019 Guiding Opinions)."""
    missing = [a for a in required if results.get(a, "pending") == "pending"]
    if not missing:
        return []
    return [
        RuleFailure(
            "vetting_complete",
            "elections.rules.vetting_complete",
            policy(VETTING),
            {"name": name, "count": len(missing)},
        )
    ]
