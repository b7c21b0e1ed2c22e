"""By-elections as pages, the API and tests see them."""

from __future__ import annotations

import datetime as dt

import msgspec

from tipline.web.forms import Repeated, each
from villageaffairs.elections.exceptions import BadField
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


# The pages' forms: text as typed, each step reading its own fields and deriving the
# API's body above (a refused one names the field).


def _text(value: str, max_length: int) -> str:
    return value.strip()[:max_length]


def _integer(value: str, field: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise BadField(field=field) from None


def _date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise BadField(field=field) from None


class PlanForm(msgspec.Struct, frozen=True):
    """The village page's plan: a checkbox per open vacancy (``vacancy_id``)."""

    vacancy_id: Repeated = []
    method: str = ""
    election_date: str = ""

    def vacancy_ids(self) -> list[int]:
        ids = [v for v in each(self.vacancy_id) if v]
        if not all(v.isdigit() for v in ids):
            raise BadField(field="vacancy_id")
        return [int(v) for v in ids]

    def method_named(self) -> str:
        """The method as typed: one the law does not allow is the legal check's refusal
        (with its article), not a bad field."""
        method = _text(self.method, 32)
        if not method:
            raise BadField(field="method")
        return method

    def date(self) -> dt.date:
        return _date(self.election_date, "election_date")


class StepForm(msgspec.Struct, frozen=True):
    """What the by-election page's forms post to ``/{id}/{step}``: each step reads its
    fields. The tally posts one ``candidate`` (a hidden id) and one ``votes`` per
    standing candidate, in the same order."""

    person_id: str = ""
    post: str = ""
    candidate_id: str = ""
    agency: str = ""
    result: str = ""
    flag: str = ""
    document_ref: str = ""
    joint_review_ref: str = ""
    registered_voters: str = ""
    voter_list_published_on: str = ""
    candidates_published_on: str = ""
    held_on: str = ""
    ballots_cast: str = ""
    candidate: Repeated = []
    votes: Repeated = []
    reason: str = ""

    def nominate(self) -> NominateIn:
        return NominateIn(
            person_id=_integer(self.person_id, "person_id"), post=_text(self.post, 16)
        )

    def check(self) -> CheckIn:
        return CheckIn(
            candidate_id=_integer(self.candidate_id, "candidate_id"),
            agency=_text(self.agency, 24),
            result=_text(self.result, 8),
            flag=_text(self.flag, 24),
            document_ref=_text(self.document_ref, 100),
        )

    def close_vetting(self) -> CloseVettingIn:
        ref = _text(self.joint_review_ref, 100)
        if not ref:
            raise BadField(field="joint_review_ref")
        return CloseVettingIn(joint_review_ref=ref)

    def publish(self) -> PublishIn:
        return PublishIn(
            registered_voters=_integer(self.registered_voters, "registered_voters"),
            voter_list_published_on=_date(self.voter_list_published_on, "voter_list_published_on"),
            candidates_published_on=_date(self.candidates_published_on, "candidates_published_on"),
        )

    def tally(self) -> TallyIn:
        candidates, votes = each(self.candidate), each(self.votes)
        if len(candidates) != len(votes):
            raise BadField(field="votes")
        return TallyIn(
            held_on=_date(self.held_on, "held_on"),
            ballots_cast=_integer(self.ballots_cast, "ballots_cast"),
            votes=[
                VoteIn(candidate_id=_integer(c, "candidate"), votes=_integer(v, "votes"))
                for c, v in zip(candidates, votes, strict=True)
            ],
        )

    def fail(self) -> FailIn:
        return FailIn(reason=_text(self.reason, 2000))
