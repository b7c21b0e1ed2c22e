"""Appending to and verifying the chain of custody.

The rule behind it: 中国共产党纪律检查机关监督执纪工作规则 (2019) Art. 23 — every step in
handling a tip is signed by the person who did it and registered for later
inspection (线索管理处置各环节由经手人员签名，全程登记备查). Each event is appended in the
same transaction as the change it records, so a change without its event (or the
reverse) cannot be committed.

This module imports no domain package: actors are named by type and id only.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import itertools
import json
from collections.abc import AsyncGenerator, Mapping
from typing import Any, Literal

import msgspec

from tipline import db
from tipline.ledger import merkle, notes
from tipline.ledger.tables import (
    NODE_KEY_LEVEL,
    Checkpoint,
    CustodyEvent,
    LedgerHead,
    MerkleNode,
)

GENESIS_HASH = "0" * 64
ActorType = Literal["account", "tipster", "system"]


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


def format_time(moment: dt.datetime | str) -> str:
    """UTC with microseconds and a ``Z``: the one spelling of an instant in the ledger.

    Also takes the text SQLite stores (``2026-01-01 08:00:00.123456+00:00``).
    """
    if isinstance(moment, str):
        if moment.endswith("+00:00") and len(moment) in (25, 32) and moment[10] == " ":
            body = moment[:-6] if len(moment) == 32 else moment[:-6] + ".000000"
            return body[:10] + "T" + body[11:] + "Z"
        moment = dt.datetime.fromisoformat(moment)
    utc = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return utc.isoformat(sep="T", timespec="microseconds") + "Z"


_json_string: Any = json.encoder.encode_basestring
"""json.dumps' own string encoder for ``ensure_ascii=False`` (its C version)."""


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: one byte string for one value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def canonical_event(
    *,
    seq: int,
    occurred_at: dt.datetime | str,
    actor_type: str,
    actor_id: str | None,
    action: str,
    object_type: str,
    object_id: str,
    payload: str,
    prev_hash: str,
) -> bytes:
    """The bytes an event's hash (and its Merkle leaf) is computed over.

    ``payload`` is already canonical JSON text; it is embedded as a string so its
    bytes are hashed exactly as stored. The bytes are those of :func:`canonical_json`
    over the event's dict (:func:`canonical_event_reference`, which a test compares),
    written out by hand: ``verify`` builds them a million times.
    """
    text = _json_string
    return (
        f'{{"action":{text(action)},'
        f'"actor_id":{"null" if actor_id is None else text(actor_id)},'
        f'"actor_type":{text(actor_type)},"object_id":{text(object_id)},'
        f'"object_type":{text(object_type)},"occurred_at":"{format_time(occurred_at)}",'
        f'"payload":{text(payload)},"prev_hash":{text(prev_hash)},"seq":{int(seq)},"v":1}}'
    ).encode()


def canonical_event_reference(
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
    """The definition :func:`canonical_event` implements."""
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


def event_bytes(row: Mapping[str, Any]) -> bytes:
    """The canonical bytes of a stored event (chain hash and Merkle leaf are over these)."""
    return canonical_event(
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


def event_hash(row: Mapping[str, Any]) -> str:
    return hashlib.sha256(event_bytes(row)).hexdigest()


def node_key(level: int, index: int) -> int:
    return level * NODE_KEY_LEVEL + index


def parse_frontier(text: str | None) -> list[bytes]:
    return [bytes.fromhex(part) for part in (text or "").split(",") if part]


def format_frontier(frontier: list[bytes]) -> str:
    return ",".join(part.hex() for part in frontier)


_HEAD_SQL = "SELECT seq, hash, frontier FROM ledger_head WHERE id = 1"
_EVENT_COLUMNS_IN = (
    "seq",
    "occurred_at",
    "actor_type",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "payload",
    "prev_hash",
    "hash",
)
_UPDATE_HEAD_SQL = "UPDATE ledger_head SET seq = {}, hash = {}, frontier = {} WHERE id = 1"


async def _lock_head() -> dict[str, Any]:
    """Take the ledger's append lock and return its head row (created on first use).

    Plain statements: this runs for every event while the write lock is held.
    """
    query = _HEAD_SQL + (" FOR UPDATE" if db.is_postgres() else "")
    rows = await db.fetch(LedgerHead, query)
    if not rows:
        await LedgerHead.insert(LedgerHead(id=1, seq=0, hash=GENESIS_HASH)).on_conflict(
            action="DO NOTHING"
        )
        rows = await db.fetch(LedgerHead, query)
    return dict(rows[0])


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
        data = event_bytes(row)
        row["hash"] = hashlib.sha256(data).hexdigest()
        frontier, completed = merkle.frontier_append(
            parse_frontier(head["frontier"]), head["seq"], merkle.leaf_hash(data)
        )
        await db.insert_values(
            CustodyEvent, _EVENT_COLUMNS_IN, [[row[name] for name in _EVENT_COLUMNS_IN]]
        )
        await db.insert_values(
            MerkleNode,
            ("key", "hash"),
            [(node_key(level, index), h.hex()) for level, index, h in completed],
        )
        await db.fetch(
            LedgerHead, _UPDATE_HEAD_SQL, row["seq"], row["hash"], format_frontier(frontier)
        )
    return row


_EVENT_COLUMNS = (
    "seq, occurred_at, actor_type, actor_id, action, object_type, object_id, payload, "
    "prev_hash, hash"
)
_FAST_BATCH = 20_000


async def _batches(
    table: str, columns: str, key: str
) -> AsyncGenerator[list[tuple[Any, ...]], None]:
    """Every row of ``table`` (tuples of ``columns``) in ``key`` order, in large batches,
    all from one snapshot (:func:`tipline.db.read_snapshot`), for ``verify``.

    Hand-written SQL for speed: Piccolo's per-row processing would cost verify most of
    its time at a million events (``python -m bench.ledger_verify``; 50,000 events:
    0.5-0.7 s this way). The next batch is read while this one is checked.
    """
    names = [name.strip() for name in columns.split(",")]
    position = names.index(key)
    # SQLite: ``+column`` has no declared type, so the engine's connections do not run
    # Piccolo's converters on it (seq stays an int, occurred_at the stored text, which
    # format_time reads directly): a third of verify's time otherwise.
    selected = columns if db.is_postgres() else ", ".join(f"+{name}" for name in names)
    query = f"SELECT {selected} FROM {table} WHERE {key} > {{}} ORDER BY {key} LIMIT {{}}"  # noqa: S608
    async with db.read_snapshot() as read:
        rows = await read(query, -1, _FAST_BATCH)
        while rows:
            upcoming = asyncio.ensure_future(read(query, rows[-1][position], _FAST_BATCH))
            try:
                yield rows
            finally:
                # The read must be done with the connection before the snapshot ends.
                rows = await upcoming


class VerifyResult(msgspec.Struct, frozen=True):
    ok: bool
    events: int
    first_bad_seq: int | None = None
    reason: str | None = None
    checkpoints: int = 0
    root: str | None = None


class _Broken(Exception):
    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(reason)
        self.seq, self.reason = seq, reason


class _Levels(Mapping[merkle.NodeId, bytes]):
    """Recomputed perfect nodes, looked up like stored ones."""

    def __init__(self, levels: list[list[bytes]]) -> None:
        self.levels = levels

    def __getitem__(self, node: merkle.NodeId) -> bytes:
        level, index = node
        return self.levels[level][index]

    def __iter__(self) -> Any:
        return ((level, i) for level, row in enumerate(self.levels) for i in range(len(row)))

    def __len__(self) -> int:
        return sum(len(row) for row in self.levels)


def _levels_above(leaves: list[bytes]) -> list[list[bytes]]:
    levels = [leaves]
    while len(levels[-1]) >= 2:
        below = levels[-1]
        levels.append(
            [merkle.node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
        )
    return levels


def _check_node(key: int, value: str, want: tuple[int, str] | None) -> None:
    """Name the event where a stored node differs from the recomputed ``want``."""
    level, index = divmod(key, NODE_KEY_LEVEL)
    if want is None or want[0] != key:
        if want is not None:
            level, index = divmod(want[0], NODE_KEY_LEVEL)
        raise _Broken((index << level) + 1, f"the Merkle node cache differs at ({level}, {index})")
    raise _Broken((index << level) + 1, f"Merkle node (level {level}, {index}) differs")


async def _check_nodes(levels: list[list[bytes]]) -> None:
    """The stored node cache must hold exactly the recomputed perfect nodes."""
    expected = (
        (level * NODE_KEY_LEVEL + i, h.hex())
        for level, row in enumerate(levels)
        for i, h in enumerate(row)
    )
    async with contextlib.aclosing(_batches("merkle_node", "key, hash", "key")) as batches:
        async for batch in batches:
            for key, value in batch:
                want = next(expected, None)
                if want is None or want[0] != key or want[1] != value:
                    _check_node(key, value, want)
    leftover = next(expected, None)
    if leftover is not None:
        level, index = divmod(leftover[0], NODE_KEY_LEVEL)
        raise _Broken((index << level) + 1, f"Merkle node (level {level}, {index}) is missing")


async def verify_chain(
    log_key: notes.Verifier | None = None, external: list[str] | None = None
) -> VerifyResult:
    """Recompute every hash, link, leaf and node; check every checkpoint; name the first
    sequence number that breaks.

    Catches an edited row (its hash no longer matches), a deleted row (a gap in the
    numbers, or a head that names a later event), swapped or reordered rows (a
    ``prev_hash`` that does not name the event before it), and a chain rewritten
    wholesale (the roots no longer match the signed checkpoints, stored here or the
    ``external`` ones kept elsewhere). With ``log_key`` every checkpoint's signature is
    checked too, and consecutive checkpoints must be consistent (RFC 9162 §2.1.4).
    """
    count, expected_seq = 0, 1
    marks: list[tuple[int, bytes, str]] = []
    try:
        marks = await _checkpoint_marks(log_key, external or [])
        for size, root, label in marks:
            if size == 0 and root != merkle.EMPTY_ROOT:
                raise _Broken(1, f"{label}: not the empty tree's root")
        pending = iter([mark for mark in marks if mark[0]])
        prev_hash = GENESIS_HASH
        leaves: list[bytes] = []
        sha256 = hashlib.sha256
        events = _batches("custody_event", _EVENT_COLUMNS, "seq")
        async with contextlib.aclosing(events) as batches:
            async for batch in batches:
                for seq, at, a_type, a_id, action, o_type, o_id, payload, prev, digest in batch:
                    if seq != expected_seq:
                        raise _Broken(expected_seq, f"event {expected_seq} is missing")
                    if prev != prev_hash:
                        raise _Broken(seq, "prev_hash does not match the event before")
                    data = canonical_event(
                        seq=seq,
                        occurred_at=at,
                        actor_type=a_type,
                        actor_id=a_id,
                        action=action,
                        object_type=o_type,
                        object_id=o_id,
                        payload=payload,
                        prev_hash=prev,
                    )
                    if sha256(data).hexdigest() != digest:
                        raise _Broken(seq, "content does not match its hash")
                    leaves.append(sha256(b"\x00" + data).digest())
                    prev_hash = digest
                    expected_seq += 1
        count = len(leaves)
        levels = _levels_above(leaves)
        tree = _Levels(levels)
        previous_ok = 0
        mark = next(pending, None)
        while mark is not None and mark[0] <= count:
            root = merkle.fold([tree[node] for node in merkle.plan_root(mark[0])])
            if root != mark[1]:
                raise _Broken(
                    previous_ok + 1,
                    f"events {previous_ok + 1}..{mark[0]} differ from what {mark[2]} signed",
                )
            previous_ok = mark[0]
            mark = next(pending, None)
        frontier = [tree[node] for node in merkle.plan_root(count)]
        if mark is not None:
            raise _Broken(count + 1, f"{mark[2]} names {mark[0]} events, the ledger has {count}")
        head = await LedgerHead.select().where(LedgerHead.id == 1).first()
        head_seq = head["seq"] if head else 0
        if head_seq != count:
            raise _Broken(count + 1, f"the ledger head names event {head_seq}, found {count}")
        if head is not None and head["hash"] != prev_hash:
            raise _Broken(count, "the ledger head's hash differs")
        if head is not None and parse_frontier(head["frontier"]) != frontier:
            raise _Broken(count, "the ledger head's Merkle frontier differs")
        await _check_nodes(levels)
        sizes = sorted({size for size, _, _ in marks if size})
        roots = {size: root for size, root, _ in marks}
        for old, new in itertools.pairwise(sizes):
            proof = merkle.assemble(merkle.plan_consistency(old, new), tree)
            try:
                merkle.verify_consistency(old, new, roots[old], roots[new], proof)
            except merkle.ProofError as error:
                raise _Broken(old + 1, f"checkpoints {old} and {new}: {error}") from None
    except _Broken as broken:
        return VerifyResult(False, max(count, expected_seq - 1), broken.seq, broken.reason)
    return VerifyResult(
        True, count, checkpoints=len(marks), root=merkle.frontier_root(frontier).hex()
    )


async def _checkpoint_marks(
    log_key: notes.Verifier | None, external: list[str]
) -> list[tuple[int, bytes, str]]:
    """(size, root, label) of every stored and external checkpoint, by size."""
    marks: list[tuple[int, bytes, str]] = []
    for row in await Checkpoint.select().order_by(Checkpoint.size):
        label = f"checkpoint {row['size']}"
        try:
            parsed = (
                notes.verified_checkpoint(row["text"], log_key)
                if log_key
                else notes.parse_checkpoint(row["text"])
            )
        except notes.NoteError as error:
            raise _Broken(row["size"], f"{label}: {error}") from None
        if parsed.size != row["size"] or parsed.root.hex() != row["root"]:
            raise _Broken(row["size"], f"{label}: its text and its columns differ")
        marks.append((parsed.size, parsed.root, label))
    for text in external:
        try:
            parsed = (
                notes.verified_checkpoint(text, log_key)
                if log_key
                else notes.parse_checkpoint(text)
            )
        except notes.NoteError as error:
            raise _Broken(1, f"the checkpoint file: {error}") from None
        marks.append((parsed.size, parsed.root, f"the checkpoint file ({parsed.size})"))
    marks.sort(key=lambda mark: mark[0])
    return marks


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
