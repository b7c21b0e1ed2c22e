"""Signed checkpoints, proofs and witnesses: the ledger seen from outside the server.

Why (issue 5): hiding, withholding or losing a tip (隐藏、扣压、遗失) must be
detectable by someone who does not run the database. The server signs its tree
head (a checkpoint) with an Ed25519 key kept in a file of the data dir, never in the
database, and copies every checkpoint to a drop folder that leaves the machine
(a backup, a USB stick, a share the inspector reads). Anyone holding a checkpoint can
then check an inclusion proof (a tipster's receipt, a transfer receipt) and, later,
that a newer checkpoint extends it.

Witnesses: an inspector registers an Ed25519 verifier key
(``tipline ledger witness-add NAME VKEY``), signs the checkpoint text offline
(``tipline ledger witness-sign --key FILE``) and pastes the signature line on the
/ledger page; the server checks it against the registered key and keeps it. The
witness's private key never reaches the server.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec

from tipline import db
from tipline.errors import Conflict, Invalid, NotFound
from tipline.ledger import merkle, notes
from tipline.ledger.services import (
    Actor,
    append_event,
    event_bytes,
    node_key,
    parse_frontier,
)
from tipline.ledger.tables import (
    NODE_KEY_LEVEL,
    Checkpoint,
    CheckpointCosignature,
    CustodyEvent,
    LedgerHead,
    MerkleNode,
    WitnessKey,
)
from tipline.settings import Settings
from tipline.web.security import server_secret

KEY_FILE = "ledger-checkpoint.key"
DROP_FOLDER = "checkpoints"


class NotInCheckpoint(Conflict):
    """The event is newer than the latest checkpoint: its proof comes with the next one."""

    message_key = "ledger.error.not_in_checkpoint"


class EventNotFound(NotFound):
    message_key = "ledger.error.no_event"


class BadCosignature(Invalid):
    """A witness line that is malformed, from an unregistered key, or does not verify."""

    message_key = "ledger.error.bad_cosignature"


class NoCheckpoint(NotFound):
    message_key = "ledger.error.no_checkpoint"


# --- the log's key ------------------------------------------------------------------------


def origin(settings: Settings) -> str:
    """The checkpoints' origin line, also the signing key's name."""
    return settings.ledger_origin or f"{urlsplit(settings.base_url).netloc}/tipline/custody"


def _seed(settings: Settings) -> bytes:
    """The Ed25519 seed in ``<data_dir>/ledger-checkpoint.key`` (mode 0600, made on first use).

    A file, not a row: whoever can rewrite the database must not also be able to
    re-sign a rewritten ledger.
    """
    return server_secret(settings, name=KEY_FILE)


def log_signer(settings: Settings) -> notes.Signer:
    return notes.Signer.from_seed(origin(settings), _seed(settings))


def log_verifier(settings: Settings) -> notes.Verifier:
    return log_signer(settings).verifier


# --- making checkpoints -------------------------------------------------------------------


class CheckpointOut(msgspec.Struct, frozen=True):
    size: int
    root: str
    text: str
    created_at: dt.datetime


def _out(row: dict[str, Any]) -> CheckpointOut:
    return CheckpointOut(row["size"], row["root"], row["text"], row["created_at"])


async def latest_checkpoint() -> CheckpointOut | None:
    row = await Checkpoint.select().order_by(Checkpoint.size, ascending=False).first()
    return _out(row) if row else None


async def recent_checkpoints(limit: int = 20) -> list[CheckpointOut]:
    rows = await Checkpoint.select().order_by(Checkpoint.size, ascending=False).limit(limit)
    return [_out(row) for row in rows]


def drop_dir(settings: Settings) -> Path:
    return settings.checkpoint_drop_dir or Path(settings.data_dir) / DROP_FOLDER


def write_drop(settings: Settings, checkpoint: CheckpointOut) -> Path:
    """Copy a checkpoint to the drop folder as ``<size>.txt`` (written whole, then renamed)."""
    folder = drop_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{checkpoint.size}.txt"
    partial = folder / f".{checkpoint.size}.txt.part"
    partial.write_text(checkpoint.text, encoding="utf-8")
    partial.replace(target)
    return target


CheckpointHook = Callable[[int, str], Awaitable[None]]
_CHECKPOINT_HOOKS: list[CheckpointHook] = []


def on_checkpoint(hook: CheckpointHook) -> CheckpointHook:
    """Run ``hook(size, text)`` inside the transaction that stores each new checkpoint.

    How other packages send checkpoints off the server (e-mail to the inspector, issue 5
    item 2) without the ledger importing them.
    """
    if hook not in _CHECKPOINT_HOOKS:
        _CHECKPOINT_HOOKS.append(hook)
    return hook


def _due(size: int, last: CheckpointOut | None, settings: Settings, now: dt.datetime) -> bool:
    new_events = size - (last.size if last else 0)
    if new_events <= 0:
        return False
    if new_events >= settings.checkpoint_every_events or last is None:
        return True
    age = now - last.created_at.astimezone(dt.UTC)
    return age >= dt.timedelta(minutes=settings.checkpoint_minutes)


async def sign_checkpoint(settings: Settings, *, force: bool = False) -> CheckpointOut | None:
    """Sign the current tree head if it is due (or ``force``), store it and drop a copy.

    Due: ``checkpoint_every_events`` new events, or any new event and
    ``checkpoint_minutes`` since the last checkpoint. Writes no custody event: that
    event would itself need the next checkpoint. Returns None when nothing was due.
    """
    signer = log_signer(settings)
    now = dt.datetime.now(dt.UTC)
    async with db.write_transaction():
        head = await LedgerHead.select().where(LedgerHead.id == 1).first()
        size = head["seq"] if head else 0
        last = await latest_checkpoint()
        if size == 0 or (last is not None and last.size >= size):
            return None
        if not force and not _due(size, last, settings, now):
            return None
        root = merkle.frontier_root(parse_frontier(head["frontier"] if head else ""))
        text = notes.sign_checkpoint(signer, signer.name, size, root)
        row: dict[str, Any] = {"size": size, "root": root.hex(), "text": text, "created_at": now}
        await Checkpoint.insert(Checkpoint(**row))
        for hook in _CHECKPOINT_HOOKS:
            await hook(size, text)
    checkpoint = _out(row)
    write_drop(settings, checkpoint)
    return checkpoint


def checkpoint_job(settings: Settings) -> Any:
    """The scheduler's ``ledger-checkpoint`` job (checks every minute whether one is due)."""

    async def ledger_checkpoint() -> None:
        await sign_checkpoint(settings)

    return ledger_checkpoint


# --- proofs from the stored nodes ---------------------------------------------------------


async def _nodes(wanted: set[merkle.NodeId]) -> dict[merkle.NodeId, bytes]:
    """The stored perfect nodes of a proof, in one query (a proof needs at most ~2·log2 n).

    Hand-written SQL for speed: ``python -m bench.ledger_verify`` times a proof at
    1,000,000 leaves (target 5 ms; about 1-2 ms this way).
    """
    keys = [node_key(level, index) for level, index in wanted]
    rows: list[tuple[int, str]] = []
    for start in range(0, len(keys), 500):
        part = keys[start : start + 500]
        marks = ", ".join("{}" for _ in part)
        sql = f"SELECT key, hash FROM merkle_node WHERE key IN ({marks})"  # noqa: S608
        rows.extend((row["key"], row["hash"]) for row in await db.fetch(MerkleNode, sql, *part))
    found: dict[merkle.NodeId, bytes] = {}
    for key, value in rows:
        found[divmod(key, NODE_KEY_LEVEL)] = bytes.fromhex(value)
    missing = wanted - found.keys()
    if missing:
        raise merkle.ProofError(f"the node cache lacks {sorted(missing)[:3]}")
    return found


async def inclusion_proof(index: int, size: int) -> list[bytes]:
    plan = merkle.plan_inclusion(index, size)
    return merkle.assemble(plan, await _nodes(merkle.needed_nodes(plan)))


async def consistency_proof(old_size: int, new_size: int) -> list[bytes]:
    if old_size == new_size:
        return []
    plan = merkle.plan_consistency(old_size, new_size)
    return merkle.assemble(plan, await _nodes(merkle.needed_nodes(plan)))


class ProofBundle(msgspec.Struct, frozen=True):
    """Everything needed to check one event offline: ``tipline ledger check-proof``."""

    event: str
    """The event's canonical bytes, base64: the leaf is SHA-256(0x00 ‖ these)."""
    leaf_index: int
    tree_size: int
    proof: list[str]
    """Hex hashes, bottom of the tree first (RFC 9162 §2.1.3)."""
    checkpoint: str
    format: str = "tipline-inclusion-proof/v1"


async def proof_bundle(seq: int) -> ProofBundle:
    """Event ``seq``'s inclusion proof against the latest checkpoint that holds it."""
    row = await CustodyEvent.select().where(CustodyEvent.seq == seq).first()
    if row is None:
        raise EventNotFound(seq=seq)
    checkpoint = await latest_checkpoint()
    if checkpoint is None or checkpoint.size < seq:
        raise NotInCheckpoint(seq=seq)
    proof = await inclusion_proof(seq - 1, checkpoint.size)
    return ProofBundle(
        event=base64.b64encode(event_bytes(row)).decode(),
        leaf_index=seq - 1,
        tree_size=checkpoint.size,
        proof=[p.hex() for p in proof],
        checkpoint=checkpoint.text,
    )


class ProofCheck(msgspec.Struct, frozen=True):
    ok: bool
    reason: str
    origin: str | None = None
    tree_size: int | None = None
    seq: int | None = None
    signature_checked: bool = False


def check_proof(
    checkpoint_text: str,
    leaf_index: int,
    proof_hex: list[str],
    *,
    event: bytes | None = None,
    leaf: bytes | None = None,
    verifier: notes.Verifier | None = None,
) -> ProofCheck:
    """Check an inclusion proof against a checkpoint text, with no database.

    With ``verifier`` (the log's public key) the checkpoint's signature must verify;
    without it only the arithmetic is checked and the result says so.
    """
    try:
        parsed = (
            notes.verified_checkpoint(checkpoint_text, verifier)
            if verifier
            else notes.parse_checkpoint(checkpoint_text)
        )
        if event is not None:
            leaf = merkle.leaf_hash(event)
        if leaf is None:
            raise merkle.ProofError("give the event or its leaf hash")
        try:
            proof = [bytes.fromhex(item) for item in proof_hex]
        except ValueError:
            raise merkle.ProofError("a proof hash is not hex") from None
        merkle.verify_inclusion(leaf_index, parsed.size, leaf, proof, parsed.root)
        seq = None
        if event is not None:
            seq = _event_seq(event)
            if seq != leaf_index + 1:
                raise merkle.ProofError(
                    f"the event says seq {seq}, the proof is for leaf {leaf_index}"
                )
    except (notes.NoteError, merkle.ProofError) as error:
        return ProofCheck(False, str(error), signature_checked=verifier is not None)
    return ProofCheck(
        True,
        "the event is in the ledger the checkpoint signs",
        origin=parsed.origin,
        tree_size=parsed.size,
        seq=seq,
        signature_checked=verifier is not None,
    )


def _event_seq(event: bytes) -> int | None:
    try:
        value = msgspec.json.decode(event)
    except msgspec.DecodeError:
        return None
    seq = value.get("seq") if isinstance(value, dict) else None
    return seq if isinstance(seq, int) else None


def check_bundle(bundle: ProofBundle, verifier: notes.Verifier | None = None) -> ProofCheck:
    try:
        event = base64.b64decode(bundle.event, validate=True)
    except ValueError:
        return ProofCheck(False, "the event is not base64")
    if bundle.tree_size != _size_of(bundle.checkpoint):
        return ProofCheck(False, "the bundle's tree size is not the checkpoint's")
    return check_proof(
        bundle.checkpoint, bundle.leaf_index, bundle.proof, event=event, verifier=verifier
    )


def _size_of(text: str) -> int | None:
    try:
        return notes.parse_checkpoint(text).size
    except notes.NoteError:
        return None


class Receipt(msgspec.Struct, frozen=True):
    """What a receipt shows of one event: where it is and the proof that it is there."""

    seq: int
    leaf_index: int
    tree_size: int
    root: str
    proof: list[str]
    checkpoint: str


async def receipt_for_event(seq: int) -> Receipt | None:
    """The inclusion proof of event ``seq`` for a receipt (a tipster's status page, a
    competent authority's transfer receipt); None until a checkpoint holds it."""
    try:
        bundle = await proof_bundle(seq)
    except (NotInCheckpoint, EventNotFound):
        return None
    return Receipt(
        seq=seq,
        leaf_index=bundle.leaf_index,
        tree_size=bundle.tree_size,
        root=notes.parse_checkpoint(bundle.checkpoint).root.hex(),
        proof=bundle.proof,
        checkpoint=bundle.checkpoint,
    )


async def event_seq_of(action: str, object_type: str, object_id: str | int) -> int | None:
    """The seq of the first ``action`` event of an object (e.g. a tip's ``tip.received``)."""
    row = (
        await CustodyEvent.select(CustodyEvent.seq)
        .where(
            (CustodyEvent.action == action)
            & (CustodyEvent.object_type == object_type)
            & (CustodyEvent.object_id == str(object_id))
        )
        .order_by(CustodyEvent.seq)
        .first()
    )
    return row["seq"] if row else None


# --- witnesses ----------------------------------------------------------------------------


async def add_witness(name: str, vkey: str) -> notes.Verifier:
    """Register an inspector's verifier key; the key's own name must be ``name``."""
    try:
        verifier = notes.parse_vkey(vkey)
    except notes.NoteError as error:
        raise BadCosignature(reason=str(error)) from None
    if verifier.name != name:
        raise BadCosignature(reason=f"the key is named {verifier.name!r}, not {name!r}")
    async with db.write_transaction():
        if await WitnessKey.exists().where(WitnessKey.name == name):
            raise Conflict("ledger.error.witness_exists", name=name)
        await WitnessKey.insert(
            WitnessKey(name=name, vkey=verifier.vkey, added_at=dt.datetime.now(dt.UTC))
        )
        await append_event(
            Actor("system"),
            "ledger.witness_added",
            "witness",
            name,
            {"key_id": verifier.key_id.hex()},
        )
    return verifier


async def witnesses() -> list[dict[str, Any]]:
    return await WitnessKey.select().order_by(WitnessKey.name)


async def cosign_latest(actor: Actor, line: str) -> CheckpointOut:
    """Keep a witness's signature line over the latest checkpoint, if it verifies."""
    try:
        parsed_line = notes.parse_signature_line(line.strip())
    except notes.NoteError as error:
        raise BadCosignature(reason=str(error)) from None
    async with db.write_transaction():
        checkpoint = await latest_checkpoint()
        if checkpoint is None:
            raise NoCheckpoint()
        row = await WitnessKey.select().where(WitnessKey.name == parsed_line.name).first()
        if row is None:
            raise BadCosignature(reason=f"no witness named {parsed_line.name!r} is registered")
        verifier = notes.parse_vkey(row["vkey"])
        body = notes.parse_checkpoint(checkpoint.text).body
        if parsed_line.key_id != verifier.key_id or not verifier.verifies(
            body, parsed_line.signature
        ):
            raise BadCosignature(reason="the signature does not verify over the latest checkpoint")
        await CheckpointCosignature.insert(
            CheckpointCosignature(
                checkpoint_size=checkpoint.size,
                witness=verifier.name,
                line=parsed_line.text,
                created_at=dt.datetime.now(dt.UTC),
            )
        )
        await append_event(
            actor,
            "ledger.checkpoint_cosigned",
            "checkpoint",
            checkpoint.size,
            {"witness": verifier.name, "root": checkpoint.root},
        )
    return checkpoint


async def cosignatures(size: int) -> list[dict[str, Any]]:
    return (
        await CheckpointCosignature.select()
        .where(CheckpointCosignature.checkpoint_size == size)
        .order_by(CheckpointCosignature.id)
    )


def witness_sign(key_file: Path, name: str, checkpoint_text: str) -> str:
    """The signature line a witness adds (offline, with their own key file)."""
    seed = bytes.fromhex(key_file.read_text().strip())
    body = notes.parse_checkpoint(checkpoint_text).body
    return notes.Signer.from_seed(name, seed).signature_line(body)


# --- what the pages show ------------------------------------------------------------------


class PastedProof(msgspec.Struct, frozen=True):
    """What someone pasted on the public proof page."""

    checkpoint: str = ""
    leaf_index: int | None = None
    event: str = ""
    leaf: str = ""
    proof: str = ""
    pubkey: str = ""


def check_pasted_proof(settings: Settings, pasted: PastedProof) -> ProofCheck | None:
    """Check a proof pasted on the public page: the event (base64 canonical bytes) or
    its leaf hash (hex), proof hashes one per line (or comma-separated), and the
    checkpoint, against this server's key unless another verifier key is pasted."""
    if not pasted.checkpoint.strip() or pasted.leaf_index is None:
        return None
    try:
        verifier = notes.parse_vkey(pasted.pubkey) if pasted.pubkey.strip() else None
    except notes.NoteError as error:
        return ProofCheck(False, f"the public key: {error}")
    verifier = verifier or log_verifier(settings)
    hashes = [item for item in pasted.proof.replace(",", " ").split() if item]
    event: bytes | None = None
    leaf: bytes | None = None
    try:
        if pasted.event.strip():
            event = base64.b64decode(pasted.event.strip(), validate=True)
        elif pasted.leaf.strip():
            leaf = bytes.fromhex(pasted.leaf.strip())
    except ValueError:
        return ProofCheck(False, "the event is not base64, or the leaf hash not hex")
    return check_proof(
        pasted.checkpoint, pasted.leaf_index, hashes, event=event, leaf=leaf, verifier=verifier
    )


class LedgerOverview(msgspec.Struct, frozen=True):
    pubkey: str
    latest: CheckpointOut | None
    cosignatures: list[str]
    checkpoints: list[CheckpointOut]
    witnesses: list[str]


async def overview(settings: Settings) -> LedgerOverview:
    """The inspector's view of the checkpoints: the log's key, the latest checkpoint and
    its co-signatures, recent checkpoints and the registered witnesses."""
    latest = await latest_checkpoint()
    lines = [row["line"] for row in await cosignatures(latest.size)] if latest else []
    return LedgerOverview(
        pubkey=log_verifier(settings).vkey,
        latest=latest,
        cosignatures=lines,
        checkpoints=await recent_checkpoints(10),
        witnesses=[row["name"] for row in await witnesses()],
    )
