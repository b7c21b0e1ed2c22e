"""Committees, members and vacancies as pages, the API and other packages see them."""

from __future__ import annotations

import datetime as dt

import msgspec

from villageaffairs.committees.tables import MemberPost, VacancyStatus
from villageaffairs.people.tables import Gender


class CommitteeOut(msgspec.Struct, frozen=True):
    id: int
    village_id: int
    term_start: dt.date
    term_end: dt.date
    seats: int
    law_version: str


class MemberOut(msgspec.Struct, frozen=True):
    membership_id: int
    committee_id: int
    person_id: int
    name: str
    gender: Gender
    post: MemberPost
    start: dt.date
    end: dt.date | None
    end_reason: str
    source: str


class VacancyOut(msgspec.Struct, frozen=True):
    id: int
    committee_id: int
    village_id: int
    post: MemberPost
    opened_on: dt.date
    status: VacancyStatus
    cause_membership_id: int | None
    cause_reason: str
    cause_name: str
    filled_by_membership_id: int | None
    closed_on: dt.date | None
    note: str


class CommitteeView(msgspec.Struct, frozen=True):
    committee: CommitteeOut | None
    members: list[MemberOut]
    former: list[MemberOut]
    vacancies: list[VacancyOut]


class MemberIn(msgspec.Struct, forbid_unknown_fields=True):
    person_id: int
    post: MemberPost


class CommitteeIn(msgspec.Struct, forbid_unknown_fields=True):
    """A general-election result: the term's start, the seats and the elected members."""

    village_id: int
    term_start: dt.date
    seats: int
    members: list[MemberIn]


class EndMembershipIn(msgspec.Struct, forbid_unknown_fields=True):
    end: dt.date
    reason: str


class WaiveIn(msgspec.Struct, forbid_unknown_fields=True):
    decision_ref: str
