"""The village rules workflow's input: the API's structs and the page's form."""

from __future__ import annotations

import datetime as dt

import msgspec

from villageaffairs.villagerules.exceptions import BadField
from villageaffairs.villagerules.tables import AdoptionMethod, RulesKind


class DraftIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    title: str
    text: str
    kind: RulesKind = RulesKind.village_rules
    anti_gang_marked: bool = False
    anti_gang_excerpt: str = ""
    version_reason: str = ""


class ReviewIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    approved: bool
    comment: str = ""


class AdoptionIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    method: AdoptionMethod
    adopted_on: dt.date
    eligible_voters: int | None = None
    attended: int | None = None
    votes_for: int | None = None
    households_total: int | None = None
    attended_households: int | None = None
    households_signed: int | None = None


def _number(value: str, field: str) -> int | None:
    text = value.strip()
    if not text:
        return None
    if not text.isdigit():
        raise BadField(field=field)
    return int(text)


def _day(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise BadField(field=field) from None


class StepForm(msgspec.Struct, frozen=True):
    """What the page's forms post to ``/villages/{id}/{step}``: each step reads its fields."""

    rules_id: str = ""
    title: str = ""
    text: str = ""
    kind: RulesKind = RulesKind.village_rules
    anti_gang_marked: bool = False
    anti_gang_excerpt: str = ""
    version_reason: str = ""
    decision: str = ""
    comment: str = ""
    method: str = ""
    adopted_on: str = ""
    eligible_voters: str = ""
    attended: str = ""
    votes_for: str = ""
    households_total: str = ""
    attended_households: str = ""
    households_signed: str = ""
    filed_on: str = ""
    published_on: str = ""

    def rules(self) -> int | None:
        return _number(self.rules_id, "rules_id")

    def draft(self) -> DraftIn:
        return DraftIn(
            title=self.title,
            text=self.text,
            kind=self.kind,
            anti_gang_marked=self.anti_gang_marked,
            anti_gang_excerpt=self.anti_gang_excerpt,
            version_reason=self.version_reason,
        )

    def review(self) -> ReviewIn:
        return ReviewIn(approved=self.decision == "approve", comment=self.comment)

    def adoption(self) -> AdoptionIn:
        if self.method not in tuple(AdoptionMethod):
            raise BadField(field="method")
        return AdoptionIn(
            method=AdoptionMethod(self.method),
            adopted_on=_day(self.adopted_on, "adopted_on"),
            **{
                name: _number(getattr(self, name), name)
                for name in (
                    "eligible_voters",
                    "attended",
                    "votes_for",
                    "households_total",
                    "attended_households",
                    "households_signed",
                )
            },
        )

    def filed(self) -> dt.date:
        return _day(self.filed_on, "filed_on")

    def published(self) -> dt.date:
        return _day(self.published_on, "published_on")
