"""Look-back reviews as pages and the API see them."""

from __future__ import annotations

import datetime as dt

import msgspec

from villageaffairs.reviews.exceptions import BadField
from villageaffairs.reviews.tables import ReviewStatus


class ItemOut(msgspec.Struct, frozen=True):
    id: int
    person_id: int
    name: str
    role: str
    outcome: str
    issue: str
    action: str
    referral_ledger_no: str
    document_ref: str
    decided_on: dt.date | None


class ReviewOut(msgspec.Struct, frozen=True):
    id: int
    village_id: int
    village_name: str
    campaign: str
    status: ReviewStatus
    started_on: dt.date
    signed_off_on: dt.date | None
    total: int
    cleared: int
    handled: int
    pending: int
    items: list[ItemOut] = []


class StartIn(msgspec.Struct, forbid_unknown_fields=True):
    village_id: int
    campaign: str = "2020"


class DecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    outcome: str
    issue: str = ""
    action: str = ""
    referral_ledger_no: str = ""
    document_ref: str = ""
    decided_on: dt.date | None = None


# The pages' forms (posted from the village's page and the review's page): text with
# defaults, each deriving the API's body above.


class StartForm(msgspec.Struct, frozen=True):
    village_id: str = ""
    campaign: str = ""

    def body(self) -> StartIn:
        village_id = self.village_id.strip()
        if not village_id.isdigit():
            raise BadField(field="village_id")
        return StartIn(village_id=int(village_id), campaign=self.campaign.strip()[:40] or "2020")


class DecisionForm(msgspec.Struct, frozen=True):
    outcome: str = ""
    issue: str = ""
    action: str = ""
    referral_ledger_no: str = ""
    document_ref: str = ""

    def body(self) -> DecisionIn:
        return DecisionIn(
            outcome=self.outcome.strip()[:16],
            issue=self.issue.strip()[:24],
            action=self.action.strip()[:24],
            referral_ledger_no=self.referral_ledger_no.strip()[:16],
            document_ref=self.document_ref.strip()[:100],
        )
