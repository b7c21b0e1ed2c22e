"""The chain of custody: gap-free appends, and verify catching every kind of tampering."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import run_cli
from tipline.ledger.services import (
    SYSTEM,
    Actor,
    LedgerPayloadError,
    append_event,
    events_for,
    verify_chain,
)
from tipline.ledger.tables import CustodyEvent
from tipline.settings import Settings


async def _append_three() -> None:
    await append_event(SYSTEM, "test.first", "thing", 1, {"n": 1})
    await append_event(Actor.account(7), "test.second", "thing", 1, {"n": 2, "text": "中文"})
    await append_event(SYSTEM, "test.third", "thing", 2, {"nested": {"a": [1, True, None]}})


async def test_appended_events_are_numbered_without_gaps_and_verify(tipline_db: Settings) -> None:
    await _append_three()
    seqs = [row["seq"] for row in await CustodyEvent.select().order_by(CustodyEvent.seq)]
    assert seqs == [1, 2, 3]
    result = await verify_chain()
    assert result.ok and result.events == 3
    timeline = await events_for("thing", 1)
    assert [row["action"] for row in timeline] == ["test.first", "test.second"]


async def test_concurrent_appends_get_distinct_consecutive_numbers(tipline_db: Settings) -> None:
    await asyncio.gather(*(append_event(SYSTEM, "test.race", "thing", i) for i in range(20)))
    seqs = [row["seq"] for row in await CustodyEvent.select().order_by(CustodyEvent.seq)]
    assert seqs == list(range(1, 21))
    assert (await verify_chain()).ok


async def test_payload_with_a_float_is_refused(tipline_db: Settings) -> None:
    with pytest.raises(LedgerPayloadError):
        await append_event(SYSTEM, "test.bad", "thing", 1, {"amount": 1.5})
    assert await CustodyEvent.count() == 0


async def test_verify_names_an_edited_event(tipline_db: Settings) -> None:
    await _append_three()
    await CustodyEvent.update({CustodyEvent.action: "test.forged"}).where(CustodyEvent.seq == 2)
    result = await verify_chain()
    assert not result.ok and result.first_bad_seq == 2


async def test_verify_names_a_deleted_event(tipline_db: Settings) -> None:
    await _append_three()
    await CustodyEvent.delete().where(CustodyEvent.seq == 2)
    result = await verify_chain()
    assert not result.ok and result.first_bad_seq == 2


async def test_verify_names_a_deleted_last_event(tipline_db: Settings) -> None:
    await _append_three()
    await CustodyEvent.delete().where(CustodyEvent.seq == 3)
    result = await verify_chain()
    assert not result.ok and result.first_bad_seq == 3


async def test_verify_names_swapped_events(tipline_db: Settings) -> None:
    await _append_three()
    await CustodyEvent.update({CustodyEvent.seq: 99}).where(CustodyEvent.seq == 2)
    await CustodyEvent.update({CustodyEvent.seq: 2}).where(CustodyEvent.seq == 3)
    await CustodyEvent.update({CustodyEvent.seq: 3}).where(CustodyEvent.seq == 99)
    result = await verify_chain()
    assert not result.ok and result.first_bad_seq == 2


def test_ledger_verify_command_exits_non_zero_naming_the_bad_event(settings: Settings) -> None:
    assert run_cli(settings, "migrate").returncode == 0

    async def tamper() -> None:
        from tipline import db

        db.bind(db.make_engine(settings))
        await _append_three()
        await CustodyEvent.update({CustodyEvent.object_id: "999"}).where(CustodyEvent.seq == 3)

    ok = run_cli(settings, "ledger", "verify")
    assert ok.returncode == 0, ok.stderr
    assert "0 events verified" in ok.stdout
    asyncio.run(tamper())
    broken = run_cli(settings, "ledger", "verify")
    assert broken.returncode == 1
    assert "event 3" in broken.stdout


def test_ledger_verify_on_an_empty_database_says_to_migrate(
    unmigrated_settings: Settings,
) -> None:
    result = run_cli(unmigrated_settings, "ledger", "verify")
    assert result.returncode == 2
    assert "tipline migrate" in result.stderr


# --- Merkle tree, checkpoints, tampering (issue 5) -------------------------------------------


from tipline.ledger import checkpoints, merkle  # noqa: E402
from tipline.ledger.services import event_bytes, format_frontier, parse_frontier  # noqa: E402
from tipline.ledger.tables import Checkpoint, LedgerHead, MerkleNode  # noqa: E402


async def _append(count: int) -> None:
    for i in range(count):
        await append_event(SYSTEM, "test.many", "thing", i, {"i": i})


async def _signed(settings: Settings) -> checkpoints.CheckpointOut:
    made = await checkpoints.sign_checkpoint(settings, force=True)
    assert made is not None
    return made


async def test_restart_rebuilds_the_stored_frontier_and_root(tipline_db: Settings) -> None:
    await _append(13)
    rows = await CustodyEvent.select().order_by(CustodyEvent.seq)
    leaves = [merkle.leaf_hash(event_bytes(row)) for row in rows]
    head = await LedgerHead.select().first()
    assert head is not None
    assert parse_frontier(head["frontier"]) == merkle.frontier_from_leaves(leaves)
    assert format_frontier(merkle.frontier_from_leaves(leaves)) == head["frontier"]
    assert len(parse_frontier(head["frontier"])) == (13).bit_count()
    assert await MerkleNode.count() == 2 * 13 - (13).bit_count()


async def test_checkpoint_is_signed_dropped_and_every_event_proves(
    tipline_db: Settings, settings: Settings
) -> None:
    await _append(11)
    made = await _signed(settings)
    assert made.size == 11
    dropped = checkpoints.drop_dir(settings) / "11.txt"
    assert dropped.read_text() == made.text
    key_file = settings.data_dir / checkpoints.KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600
    verifier = checkpoints.log_verifier(settings)
    for seq in range(1, 12):
        bundle = await checkpoints.proof_bundle(seq)
        assert checkpoints.check_bundle(bundle, verifier).ok
    assert await checkpoints.sign_checkpoint(settings) is None
    result = await verify_chain(verifier, [made.text])
    assert result.ok and result.checkpoints == 2


async def test_checkpoint_job_waits_for_enough_events(
    tipline_db: Settings, settings: Settings
) -> None:
    import dataclasses

    few = dataclasses.replace(settings, checkpoint_every_events=5, checkpoint_minutes=60)
    await _append(3)
    assert (await checkpoints.sign_checkpoint(few)) is not None  # the first one
    await _append(4)
    assert await checkpoints.sign_checkpoint(few) is None
    await _append(1)
    made = await checkpoints.sign_checkpoint(few)
    assert made is not None and made.size == 8


async def test_consecutive_checkpoints_are_consistent_and_a_forged_one_is_named(
    tipline_db: Settings, settings: Settings
) -> None:
    verifier = checkpoints.log_verifier(settings)
    await _append(5)
    first = await _signed(settings)
    await _append(6)
    second = await _signed(settings)
    proof = await checkpoints.consistency_proof(first.size, second.size)
    merkle.verify_consistency(5, 11, bytes.fromhex(first.root), bytes.fromhex(second.root), proof)
    assert (await verify_chain(verifier)).ok
    other = checkpoints.notes.Signer.from_seed(checkpoints.origin(settings), b"\x01" * 32)
    forged = checkpoints.notes.sign_checkpoint(other, other.name, 5, bytes.fromhex(first.root))
    await Checkpoint.update({Checkpoint.text: forged}).where(Checkpoint.size == 5)
    result = await verify_chain(verifier)
    assert not result.ok and result.first_bad_seq == 5 and "signature" in (result.reason or "")


async def test_a_rewritten_ledger_with_valid_hashes_fails_against_the_checkpoint(
    tipline_db: Settings, settings: Settings
) -> None:
    """Whoever rewrites event 3 and recomputes every later hash, node and the head still
    cannot match the checkpoint kept outside the server."""
    await _append(6)
    outside = (await _signed(settings)).text
    await CustodyEvent.delete(force=True)
    await MerkleNode.delete(force=True)
    await LedgerHead.delete(force=True)
    await Checkpoint.delete(force=True)
    for i in range(6):
        await append_event(SYSTEM, "test.many", "thing", i, {"i": i if i != 2 else 99})
    assert (await verify_chain(checkpoints.log_verifier(settings))).ok
    result = await verify_chain(checkpoints.log_verifier(settings), [outside])
    assert not result.ok and result.first_bad_seq == 1 and "1..6" in (result.reason or "")


@pytest.mark.parametrize("tamper", ["edit", "delete", "reorder", "insert", "node", "frontier"])
async def test_direct_tampering_is_named_at_its_index(tipline_db: Settings, tamper: str) -> None:
    await _append(9)
    if tamper == "edit":
        await CustodyEvent.update({CustodyEvent.payload: '{"i":5}'}).where(CustodyEvent.seq == 5)
    elif tamper == "delete":
        await CustodyEvent.delete().where(CustodyEvent.seq == 5)
    elif tamper == "reorder":
        await CustodyEvent.update({CustodyEvent.seq: 99}).where(CustodyEvent.seq == 5)
        await CustodyEvent.update({CustodyEvent.seq: 5}).where(CustodyEvent.seq == 6)
        await CustodyEvent.update({CustodyEvent.seq: 6}).where(CustodyEvent.seq == 99)
    elif tamper == "insert":
        for seq in range(9, 4, -1):
            await CustodyEvent.update({CustodyEvent.seq: seq + 1}).where(CustodyEvent.seq == seq)
        row = await CustodyEvent.select().where(CustodyEvent.seq == 6).first()
        assert row is not None
        row.pop("id")
        row["seq"], row["object_id"] = 5, "forged"
        await CustodyEvent.insert(CustodyEvent(**row))
    elif tamper == "node":
        await MerkleNode.update({MerkleNode.hash: "00" * 32}).where(MerkleNode.key == 4)
    else:
        await LedgerHead.update({LedgerHead.frontier: "00" * 32}, force=True)
    result = await verify_chain()
    assert not result.ok
    assert result.first_bad_seq == {"node": 5, "frontier": 9}.get(tamper, 5), result
