"""Look-back reviews as pages and the API see them."""

from __future__ import annotations

import datetime as dt

import msgspec

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
