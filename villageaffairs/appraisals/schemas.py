"""Appraisal rounds and their results."""

from __future__ import annotations

import datetime as dt

import msgspec

from villageaffairs.appraisals.tables import Forum, RoundKind, RoundStatus


class VoteOut(msgspec.Struct, frozen=True):
    membership_id: int
    name: str
    post: str
    competent: int
    basically_competent: int
    not_competent: int
    verdict: str
    gang_involvement: bool
    law_discipline_violation: bool
    office_ended: bool


class RoundOut(msgspec.Struct, frozen=True):
    id: int
    village_id: int
    village_name: str
    year: int
    kind: RoundKind
    host: str
    forum: Forum
    participants: int
    held_on: dt.date
    status: RoundStatus
    province: str
    published_on: dt.date | None
    votes: list[VoteOut] = []


class RoundIn(msgspec.Struct, forbid_unknown_fields=True):
    village_id: int
    year: int
    kind: RoundKind
    forum: Forum
    participants: int
    held_on: dt.date
    host: str = ""


class VoteIn(msgspec.Struct, forbid_unknown_fields=True):
    membership_id: int
    competent: int
    basically_competent: int
    not_competent: int
    gang_involvement: bool = False
    law_discipline_violation: bool = False


class ResultsIn(msgspec.Struct, forbid_unknown_fields=True):
    votes: list[VoteIn]
