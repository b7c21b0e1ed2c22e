"""Appending to and verifying the chain of custody.

The rule behind it: 中国共产党纪律检查机关监督执纪工作规则 (2019) Art. 23 — every step in
handling a tip is signed by the person who did it and registered for later
inspection (线索管理处置各环节由经手人员签名，全程登记备查). Each event is appended in the
same transaction as the change it records, so a change without its event (or the
reverse) cannot be committed.

This module imports no domain package: actors are named by type and id only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal

import msgspec

from tipline import db
from tipline.ledger.tables import CustodyEvent, LedgerHead

GENESIS_HASH = "0" * 64
ActorType = Literal["account", "tipster", "system"]
_BATCH = 2000


class Actor(msgspec.Struct, frozen=True):
    """Who caused an event: an account (by id), the anonymous tipster, or the system."""

    type: ActorType
    id: str | None = None

    @classmethod
    def account(cls, account_id: int) -> Actor:
        return cls("account", str(account_id))


SYSTEM = Actor("system")
TIPSTER = Actor("tipster")


class LedgerPayloadError(ValueError):
    """A payload holds something the canonical encoding cannot represent exactly."""


def _check_payload(value: Any, path: str = "payload") -> None:
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_payload(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise LedgerPayloadError(f"{path}: keys must be strings")
            _check_payload(item, f"{path}.{key}")
        return
    raise LedgerPayloadError(f"{path}: {type(value).__name__} is not allowed in a payload")


def format_time(moment: dt.datetime) -> str:
    """UTC with microseconds and a ``Z``: the one spelling of an instant in the ledger."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: one byte string for one value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def canonical_event(
    *,
    seq: int,
    occurred_at: dt.datetime,
    actor_type: str,
    actor_id: str | None,
    action: str,
    object_type: str,
    object_id: str,
    payload: str,
    prev_hash: str,
) -> bytes:
    """The bytes an event's hash (and later its Merkle leaf) is computed over.

    ``payload`` is already canonical JSON text; it is embedded as a string so its
    bytes are hashed exactly as stored.
    """
    return canonical_json(
        {
            "v": 1,
            "seq": seq,
            "occurred_at": format_time(occurred_at),
            "actor_type": actor_type,
            "actor_id": actor_id,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "payload": payload,
            "prev_hash": prev_hash,
        }
    )


def event_hash(row: Mapping[str, Any]) -> str:
    return hashlib.sha256(
        canonical_event(
            seq=row["seq"],
            occurred_at=row["occurred_at"],
            actor_type=row["actor_type"],
            actor_id=row["actor_id"],
            action=row["action"],
            object_type=row["object_type"],
            object_id=row["object_id"],
            payload=row["payload"],
            prev_hash=row["prev_hash"],
        )
    ).hexdigest()


async def _lock_head() -> dict[str, Any]:
    """Take the ledger's append lock and return its head row (created on first use)."""
    await LedgerHead.insert(LedgerHead(id=1, seq=0, hash=GENESIS_HASH)).on_conflict(
        action="DO NOTHING"
    )
    query = LedgerHead.select(LedgerHead.seq, LedgerHead.hash).where(LedgerHead.id == 1)
    if db.is_postgres():
        query = query.lock_rows("UPDATE")
    head = await query.first()
    assert head is not None
    return head


async def append_event(
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | int,
    payload: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Append one event and return it as stored.

    Joins the caller's write transaction (so the event commits with the change it
    records) or opens one of its own. ``payload`` must hold no personal data: it is
    kept forever and shown to the inspector.
    """
    body = dict(payload or {})
    _check_payload(body)
    occurred_at = dt.datetime.now(dt.UTC)
    if actor.type == "tipster":
        # A tipster's actions are kept to the hour (issue 3, item 9): a time to the
        # second could be matched against a network operator's records.
        occurred_at = occurred_at.replace(minute=0, second=0, microsecond=0)
    async with db.write_transaction():
        head = await _lock_head()
        row: dict[str, Any] = {
            "seq": head["seq"] + 1,
            "occurred_at": occurred_at,
            "actor_type": actor.type,
            "actor_id": actor.id,
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "payload": canonical_json(body).decode(),
            "prev_hash": head["hash"],
        }
        row["hash"] = event_hash(row)
        await CustodyEvent.insert(CustodyEvent(**row))
        await LedgerHead.update({LedgerHead.seq: row["seq"], LedgerHead.hash: row["hash"]}).where(
            LedgerHead.id == 1
        )
    return row


async def iter_events(after_seq: int = 0) -> AsyncIterator[dict[str, Any]]:
    """Every event in sequence order, fetched in batches."""
    last = after_seq
    while True:
        batch = (
            await CustodyEvent.select()
            .where(CustodyEvent.seq > last)
            .order_by(CustodyEvent.seq)
            .limit(_BATCH)
        )
        if not batch:
            return
        for row in batch:
            yield row
        last = batch[-1]["seq"]


class VerifyResult(msgspec.Struct, frozen=True):
    ok: bool
    events: int
    first_bad_seq: int | None = None
    reason: str | None = None


async def verify_chain() -> VerifyResult:
    """Recompute every hash and link; name the first sequence number that breaks.

    Catches an edited row (its hash no longer matches), a deleted row (a gap in the
    numbers, or a head that names a later event), and swapped or reordered rows
    (a ``prev_hash`` that does not name the event before it).
    """
    expected_seq = 1
    prev_hash = GENESIS_HASH
    count = 0
    async for row in iter_events():
        if row["seq"] != expected_seq:
            return VerifyResult(False, count, expected_seq, f"event {expected_seq} is missing")
        if row["prev_hash"] != prev_hash:
            return VerifyResult(
                False, count, row["seq"], "prev_hash does not match the event before"
            )
        if event_hash(row) != row["hash"]:
            return VerifyResult(False, count, row["seq"], "content does not match its hash")
        prev_hash = row["hash"]
        expected_seq += 1
        count += 1
    head = await LedgerHead.select().where(LedgerHead.id == 1).first()
    head_seq = head["seq"] if head else 0
    if head_seq != count:
        return VerifyResult(
            False, count, count + 1, f"the ledger head names event {head_seq}, found {count}"
        )
    if head is not None and head["hash"] != prev_hash:
        return VerifyResult(False, count, count, "the ledger head's hash differs")
    return VerifyResult(True, count)


async def events_for(object_type: str, object_id: str | int) -> list[dict[str, Any]]:
    """The timeline of one object, oldest first."""
    return (
        await CustodyEvent.select()
        .where(
            (CustodyEvent.object_type == object_type) & (CustodyEvent.object_id == str(object_id))
        )
        .order_by(CustodyEvent.seq)
    )


async def recent_events(
    limit: int = 100, before_seq: int | None = None, action_prefix: str | None = None
) -> list[dict[str, Any]]:
    """The newest events first, paged by ``before_seq``, optionally of one kind of action."""
    query = CustodyEvent.select().order_by(CustodyEvent.seq, ascending=False).limit(limit)
    if before_seq is not None:
        query = query.where(CustodyEvent.seq < before_seq)
    if action_prefix:
        query = query.where(CustodyEvent.action.like(action_prefix.replace("%", "") + "%"))
    return await query
