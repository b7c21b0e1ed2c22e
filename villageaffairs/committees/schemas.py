"""Committees, members and vacancies as pages, the API and other packages see them."""

from __future__ import annotations

import datetime as dt

import msgspec

from villageaffairs.committees.exceptions import BadField
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


# The village page's forms (drawn by villageaffairs.overview): text as typed, each read
# with the check its field needs (a refused one names the field).

MAX_MEMBERS = 7  # member rows on the village page's committee form


def text(value: str, field: str, max_length: int, required: bool = False) -> str:
    kept = value.strip()[:max_length]
    if required and not kept:
        raise BadField(field=field)
    return kept


def integer(value: str, field: str, default: int | None = None) -> int:
    raw = value.strip()
    if not raw and default is not None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadField(field=field) from None


def day(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise BadField(field=field) from None


class PersonForm(msgspec.Struct, frozen=True):
    name: str = ""
    gender: str = ""
    id_number: str = ""


class RelationForm(msgspec.Struct, frozen=True):
    person_a: str = ""
    person_b: str = ""
    kind: str = ""


class PostForm(msgspec.Struct, frozen=True):
    person_id: str = ""
    kind: str = ""
    start: str = ""


class CommitteeForm(msgspec.Struct, frozen=True):
    """A general election's result: rows 1 to :data:`MAX_MEMBERS` of person and post
    (``person_N``, ``post_N``); a row without a person is left out."""

    term_start: str = ""
    seats: str = ""
    person_1: str = ""
    post_1: str = ""
    person_2: str = ""
    post_2: str = ""
    person_3: str = ""
    post_3: str = ""
    person_4: str = ""
    post_4: str = ""
    person_5: str = ""
    post_5: str = ""
    person_6: str = ""
    post_6: str = ""
    person_7: str = ""
    post_7: str = ""

    def members(self) -> list[MemberIn]:
        members = []
        for slot in range(1, MAX_MEMBERS + 1):
            person_id = integer(getattr(self, f"person_{slot}"), f"person_{slot}", 0)
            if not person_id:
                continue
            post = text(getattr(self, f"post_{slot}"), f"post_{slot}", 16) or MemberPost.member
            if post not in tuple(MemberPost):
                raise BadField(field=f"post_{slot}")
            members.append(MemberIn(person_id=person_id, post=MemberPost(post)))
        return members


class EndForm(msgspec.Struct, frozen=True):
    reason: str = ""
    end: str = ""
    village_id: str = ""


class WaiveForm(msgspec.Struct, frozen=True):
    decision_ref: str = ""
