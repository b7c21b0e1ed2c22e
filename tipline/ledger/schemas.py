"""What the chain of custody shows through the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec


class CustodyEventOut(msgspec.Struct):
    seq: int
    occurred_at: dt.datetime
    actor_type: str
    actor_id: str | None
    action: str
    object_type: str
    object_id: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> CustodyEventOut:
        values = {name: row[name] for name in cls.__struct_fields__}
        values["payload"] = msgspec.json.decode(row["payload"])
        return cls(**values)


class EventPage(msgspec.Struct):
    events: list[CustodyEventOut]
    next_before: int | None
