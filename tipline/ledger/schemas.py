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
        return cls(
            seq=row["seq"],
            occurred_at=row["occurred_at"],
            actor_type=row["actor_type"],
            actor_id=row["actor_id"],
            action=row["action"],
            object_type=row["object_type"],
            object_id=row["object_id"],
            payload=msgspec.json.decode(row["payload"]),
            prev_hash=row["prev_hash"],
            hash=row["hash"],
        )


class EventPage(msgspec.Struct):
    events: list[CustodyEventOut]
    next_before: int | None
