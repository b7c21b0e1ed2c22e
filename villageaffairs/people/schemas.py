"""People and posts as pages, the API and other packages see them (never a clear id number)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from villageaffairs.people.tables import Gender, PostKind, RelationKind


class PersonOut(msgspec.Struct, frozen=True):
    id: int
    name: str
    gender: Gender
    id_masked: str
    village_id: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> PersonOut:
        return cls(
            id=row["id"],
            name=row["name"],
            gender=Gender(row["gender"]),
            id_masked=row["id_masked"],
            village_id=row["village"],
        )


class RelativeOut(msgspec.Struct, frozen=True):
    person: PersonOut
    kind: RelationKind


class PostOut(msgspec.Struct, frozen=True):
    id: int
    village_id: int
    person_id: int
    person_name: str
    kind: PostKind
    start: dt.date
    end: dt.date | None
    end_reason: str


class PersonIn(msgspec.Struct, forbid_unknown_fields=True):
    village_id: int
    name: str
    gender: Gender
    id_number: str


class RelationIn(msgspec.Struct, forbid_unknown_fields=True):
    person_a: int
    person_b: int
    kind: RelationKind


class PostIn(msgspec.Struct, forbid_unknown_fields=True):
    person_id: int
    kind: PostKind
    start: dt.date
