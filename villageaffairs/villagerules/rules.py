"""When village rules (村规民约) or a residents' convention (居民公约) count as adopted.

Art. 27 of the Organic Law of Villagers' Committees (2010, amended 2018) gives the
villagers' meeting the power to make them; Art. 22 sets the meeting's quorum (more
than half of the villagers aged 18 and over, or two thirds of the households'
representatives) and its majority (more than half of those present). The county's
2020 plan also allows adoption by household representatives' signatures; no national
text sets that threshold, so it is a setting (default: more than half of households).
The seven-ministry guidance of December 2018 (民政部等7部门《关于做好村规民约和居民公约
工作的指导意见》) requires the rules to cover gang-related (涉黑涉恶) problems, so
adoption needs the anti-gang clause marked with its excerpt.
"""

from __future__ import annotations

import dataclasses
import json
from fractions import Fraction
from pathlib import Path

from villageaffairs.legal import LegalBasis, RuleFailure, policy, vcol

GUIDANCE_2018 = policy("villagerules.law.guidance_2018")
COUNTY_PLAN_2020 = policy("villagerules.law.county_plan_2020")


@dataclasses.dataclass(frozen=True)
class AdoptionRules:
    """``signature_share``: the share of households that must sign; ``strict`` means the
    share must be exceeded (more than half), not only reached."""

    signature_share: Fraction = Fraction(1, 2)
    signature_strict: bool = True


ADOPTION_FILE = Path(__file__).resolve().parent / "adoption.json"


def load_adoption(path: Path = ADOPTION_FILE) -> AdoptionRules:
    """The county's signature threshold from ``adoption.json`` (data), else more than half."""
    if not path.is_file():
        return AdoptionRules()
    data = json.loads(path.read_text(encoding="utf-8"))
    numerator, denominator = data.get("signature_share", (1, 2))
    return AdoptionRules(
        signature_share=Fraction(int(numerator), int(denominator)),
        signature_strict=bool(data.get("signature_strict", True)),
    )


DEFAULT_ADOPTION = load_adoption()


def _fail(rule: str, basis: LegalBasis, **values: object) -> RuleFailure:
    return RuleFailure(rule=rule, key=f"villagerules.rule.{rule}", basis=basis, values=values)


def meeting_failures(
    eligible_voters: int | None,
    attended: int | None,
    votes_for: int | None,
    households_total: int | None = None,
    attended_households: int | None = None,
) -> list[RuleFailure]:
    """Art. 22: quorum = more than half of the villagers aged 18+ present, or at least two
    thirds of the households' representatives; adopted by more than half of those present."""
    if not eligible_voters or attended is None or votes_for is None or attended < 0:
        return [_fail("meeting_numbers", vcol("22"))]
    if attended > eligible_voters or votes_for > attended or votes_for < 0:
        return [_fail("meeting_numbers", vcol("22"))]
    failures = []
    by_villagers = attended * 2 > eligible_voters
    by_households = bool(
        households_total
        and attended_households is not None
        and attended_households * 3 >= households_total * 2
    )
    if not (by_villagers or by_households):
        failures.append(_fail("quorum", vcol("22"), attended=attended, eligible=eligible_voters))
    if votes_for * 2 <= attended:
        failures.append(_fail("majority", vcol("22"), votes_for=votes_for, attended=attended))
    return failures


def signature_failures(
    households_total: int | None,
    households_signed: int | None,
    rules: AdoptionRules = DEFAULT_ADOPTION,
) -> list[RuleFailure]:
    """Household representatives' signatures above the county's threshold."""
    if not households_total or households_signed is None or households_signed < 0:
        return [_fail("signature_numbers", COUNTY_PLAN_2020)]
    if households_signed > households_total:
        return [_fail("signature_numbers", COUNTY_PLAN_2020)]
    share = Fraction(households_signed, households_total)
    enough = (
        share > rules.signature_share
        if rules.signature_strict
        else (share >= rules.signature_share)
    )
    if enough:
        return []
    return [
        _fail(
            "signatures",
            COUNTY_PLAN_2020,
            signed=households_signed,
            total=households_total,
            share=f"{rules.signature_share.numerator}/{rules.signature_share.denominator}",
        )
    ]


def anti_gang_failures(text: str, marked: bool, excerpt: str) -> list[RuleFailure]:
    """The anti-gang clause must be marked, with an excerpt found in the text."""
    clean = excerpt.strip()
    if not marked or not clean:
        return [_fail("anti_gang_clause", GUIDANCE_2018)]
    if clean not in text:
        return [_fail("anti_gang_excerpt", GUIDANCE_2018)]
    return []
