"""Legal rules of democratic appraisal (民主评议), one function per rule.

National rule: Organic Law of Villagers' Committees (2010, amended 2018), Art. 33:
committee members (and staff paid a lost-time subsidy) are appraised at least once
a year by the villagers' meeting or the representatives' assembly, hosted by the
village affairs supervisory body; a member rated "not competent" twice in a row has
their office terminated. The share of "not competent" votes that makes the verdict
comes from the province's implementing measures: it is data in the province profile
(``villageaffairs/provinces.json``), Hunan by default.
"""

from __future__ import annotations

from fractions import Fraction

from villageaffairs.legal import LegalBasis, ProvinceProfile, RuleFailure, vcol


def province_basis(profile: ProvinceProfile) -> LegalBasis:
    return LegalBasis("province", profile.code, "")


def votes_within_participants(
    name: str, competent: int, basic: int, unfit: int, participants: int
) -> list[RuleFailure]:
    """Nobody votes twice: the votes about one cadre cannot exceed the participants.

    Organic Law (2018), Art. 33.
    """
    if min(competent, basic, unfit) >= 0 and competent + basic + unfit <= participants:
        return []
    return [
        RuleFailure(
            "votes_within_participants",
            "appraisals.rules.votes_within_participants",
            vcol("33"),
            {"name": name, "total": competent + basic + unfit, "participants": participants},
        )
    ]


def is_not_competent(unfit: int, participants: int, forum: str, profile: ProvinceProfile) -> bool:
    """ "Not competent" when the share of participants saying so passes the province's
    threshold for the forum (Hunan default: more than half; Shaanxi: more than half at
    a villagers' meeting, at least two-thirds at a representatives' assembly)."""
    if participants <= 0:
        return False
    share, strict = profile.unfit_share(forum)
    ratio = Fraction(unfit, participants)
    return ratio > share if strict else ratio >= share


def verdict(
    competent: int, basic: int, unfit: int, participants: int, forum: str, profile: ProvinceProfile
) -> str:
    """The computed verdict: not competent by the province threshold; competent with
    more than half of the participants saying so; basically competent otherwise."""
    if is_not_competent(unfit, participants, forum, profile):
        return "not_competent"
    if competent * 2 > participants:
        return "competent"
    return "basically_competent"


def office_ends(previous_verdict: str | None, current_verdict: str) -> bool:
    """Two consecutive "not competent" verdicts end the office. Organic Law (2018), Art. 33."""
    return previous_verdict == "not_competent" and current_verdict == "not_competent"


def participants_positive(participants: int) -> list[RuleFailure]:
    """An appraisal needs participants (villagers' meeting or representatives' assembly,
    Organic Law (2018), Art. 33)."""
    if participants > 0:
        return []
    return [
        RuleFailure("participants_positive", "appraisals.rules.participants_positive", vcol("33"))
    ]
