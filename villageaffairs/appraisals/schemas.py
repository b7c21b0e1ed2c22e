"""Appraisal rounds and their results."""

from __future__ import annotations

import datetime as dt

import msgspec

from tipline.web.forms import Repeated, each
from villageaffairs.appraisals.exceptions import BadField
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


# The pages' forms: text as typed, each deriving the API's body above (a refused one
# names the field).


def _integer(value: str, field: str, default: int | None = None) -> int:
    text = value.strip()
    if not text and default is not None:
        return default
    try:
        return int(text)
    except ValueError:
        raise BadField(field=field) from None


def _date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise BadField(field=field) from None


class RoundForm(msgspec.Struct, frozen=True):
    """A new round, posted from the village's page."""

    village_id: str = ""
    year: str = ""
    kind: str = ""
    forum: str = ""
    participants: str = ""
    held_on: str = ""
    host: str = ""

    def numbers(self) -> tuple[int, int, int, dt.date]:
        """The village, the year, the participants and the day, each of its kind."""
        return (
            _integer(self.village_id, "village_id"),
            _integer(self.year, "year"),
            _integer(self.participants, "participants"),
            _date(self.held_on, "held_on"),
        )


class ResultsForm(msgspec.Struct, frozen=True):
    """The results, one row per cadre posted in order: ``membership_id`` (hidden),
    ``competent``, ``basic``, ``unfit`` (blank is 0); the special round's checkboxes
    ``gang`` and ``law`` carry the membership id of each cadre ticked."""

    membership_id: Repeated = []
    competent: Repeated = []
    basic: Repeated = []
    unfit: Repeated = []
    gang: Repeated = []
    law: Repeated = []

    def body(self) -> ResultsIn:
        ids = each(self.membership_id)
        columns = {"competent": each(self.competent), "basic": each(self.basic)}
        columns["unfit"] = each(self.unfit)
        for name, values in columns.items():
            if len(values) != len(ids):
                raise BadField(field=name)
        gang, law = set(each(self.gang)), set(each(self.law))
        votes = []
        for row, raw in enumerate(ids):
            if not raw.strip().isdigit():
                continue
            votes.append(
                VoteIn(
                    membership_id=int(raw),
                    competent=_integer(columns["competent"][row], "competent", 0),
                    basically_competent=_integer(columns["basic"][row], "basic", 0),
                    not_competent=_integer(columns["unfit"][row], "unfit", 0),
                    gang_involvement=raw in gang,
                    law_discipline_violation=raw in law,
                )
            )
        return ResultsIn(votes=votes)
