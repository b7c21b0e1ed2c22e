"""By-elections as pages, the API and tests see them."""

from __future__ import annotations

import datetime as dt

import msgspec

from villageaffairs.elections.tables import ByElectionStatus, Eligibility, Method
from villageaffairs.legal import FailureOut


class SeatOut(msgspec.Struct, frozen=True):
    vacancy_id: int
    post: str


class CheckOut(msgspec.Struct, frozen=True):
    id: int
    agency: str
    result: str
    flag: str
    document_ref: str
    checked_on: dt.date | None


class CandidateOut(msgspec.Struct, frozen=True):
    id: int
    person_id: int
    name: str
    gender: str
    post: str
    eligibility: Eligibility
    elected: bool
    checks: list[CheckOut] = []


class TallyLineOut(msgspec.Struct, frozen=True):
    candidate_id: int
    name: str
    post: str
    votes: int
    elected: bool


class RoundOut(msgspec.Struct, frozen=True):
    round_no: int
    held_on: dt.date
    registered_voters: int
    ballots_cast: int
    lines: list[TallyLineOut]


class ByElectionOut(msgspec.Struct, frozen=True):
    id: int
    village_id: int
    village_name: str
    committee_id: int
    method: Method
    status: ByElectionStatus
    election_date: dt.date
    registered_voters: int | None
    voter_list_published_on: dt.date | None
    candidates_published_on: dt.date | None
    township_approved_on: dt.date | None
    vetting_closed_on: dt.date | None
    joint_review_ref: str
    held_on: dt.date | None
    filed_on: dt.date | None
    failed_reason: str
    seats: list[SeatOut] = []


class ByElectionDetail(msgspec.Struct, frozen=True):
    by_election: ByElectionOut
    candidates: list[CandidateOut]
    rounds: list[RoundOut]
    agencies: list[str]


class TallyOutcome(msgspec.Struct, frozen=True):
    status: ByElectionStatus
    elected: list[int]
    unfilled: dict[str, int]
    notes: list[FailureOut]


class PlanIn(msgspec.Struct, forbid_unknown_fields=True):
    vacancy_ids: list[int]
    method: Method
    election_date: dt.date


class NominateIn(msgspec.Struct, forbid_unknown_fields=True):
    person_id: int
    post: str


class CheckIn(msgspec.Struct, forbid_unknown_fields=True):
    candidate_id: int
    agency: str
    result: str
    flag: str = ""
    document_ref: str = ""
    checked_on: dt.date | None = None


class CloseVettingIn(msgspec.Struct, forbid_unknown_fields=True):
    joint_review_ref: str


class PublishIn(msgspec.Struct, forbid_unknown_fields=True):
    registered_voters: int
    voter_list_published_on: dt.date
    candidates_published_on: dt.date


class VoteIn(msgspec.Struct, forbid_unknown_fields=True):
    candidate_id: int
    votes: int


class TallyIn(msgspec.Struct, forbid_unknown_fields=True):
    held_on: dt.date
    ballots_cast: int
    votes: list[VoteIn]


class FailIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: str
