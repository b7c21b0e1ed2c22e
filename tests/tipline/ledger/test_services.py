"""The chain of custody: gap-free appends, and verify catching every kind of tampering."""

from __future__ import annotations

import asyncio

import pytest
from litestar import Litestar

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


async def test_appended_events_are_numbered_without_gaps_and_verify(app: Litestar) -> None:
    await _append_three()
    seqs = [row["seq"] for row in await CustodyEvent.select().order_by(CustodyEvent.seq)]
    assert seqs == [1, 2, 3]
    result = await verify_chain()
    assert result.ok and result.events == 3
    timeline = await events_for("thing", 1)
    assert [row["action"] for row in timeline] == ["test.first", "test.second"]


async def test_concurrent_appends_get_distinct_consecutive_numbers(app: Litestar) -> None:
    await asyncio.gather(*(append_event(SYSTEM, "test.race", "thing", i) for i in range(20)))
    seqs = [row["seq"] for row in await CustodyEvent.select().order_by(CustodyEvent.seq)]
    assert seqs == list(range(1, 21))
    assert (await verify_chain()).ok


async def test_payload_with_a_float_is_refused(app: Litestar) -> None:
    with pytest.raises(LedgerPayloadError):
        await append_event(SYSTEM, "test.bad", "thing", 1, {"amount": 1.5})
    assert await CustodyEvent.count() == 0


async def test_verify_names_an_edited_event(app: Litestar) -> None:
    await _append_three()
    await CustodyEvent.update({CustodyEvent.action: "test.forged"}).where(CustodyEvent.seq == 2)
    result = await verify_chain()
    assert not result.ok and result.first_bad_seq == 2


async def test_verify_names_a_deleted_event(app: Litestar) -> None:
    await _append_three()
    await CustodyEvent.delete().where(CustodyEvent.seq == 2)
    result = await verify_chain()
    assert not result.ok and result.first_bad_seq == 2


async def test_verify_names_a_deleted_last_event(app: Litestar) -> None:
    await _append_three()
    await CustodyEvent.delete().where(CustodyEvent.seq == 3)
    result = await verify_chain()
    assert not result.ok and result.first_bad_seq == 3


async def test_verify_names_swapped_events(app: Litestar) -> None:
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


def test_ledger_verify_on_an_empty_database_says_to_migrate(settings: Settings) -> None:
    result = run_cli(settings, "ledger", "verify")
    assert result.returncode == 2
    assert "tipline migrate" in result.stderr
