"""The database engine under concurrent writers: every write lands, in order, and a
failed or abandoned transaction leaves nothing behind (no lock, no open transaction)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar

from tipline import db
from tipline.ledger.services import SYSTEM, append_event, verify_chain
from tipline.ledger.tables import CustodyEvent


@pytest.fixture
async def pooled(app: Litestar) -> AsyncIterator[Litestar]:
    """The app with its database pool open in this test's loop, as in a running server
    (on SQLite, reopened: the connections that created the schema are closed first)."""
    await db.close_pool()
    await db.open_pool()
    try:
        yield app
    finally:
        await db.close_pool()


# Tests of the SQLite engine's own pool run on SQLite only (not skipped on PostgreSQL:
# in CI every skip is a failure).
SQLITE_ONLY = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


def sqlite_engine() -> db.TiplineSQLiteEngine:
    current = db.engine()
    if not isinstance(current, db.TiplineSQLiteEngine):
        pytest.skip("SQLite engine only")
    return current


async def stored_seqs() -> list[int]:
    rows = await CustodyEvent.select(CustodyEvent.seq).order_by(CustodyEvent.seq)
    return [row["seq"] for row in rows]


class Boom(Exception):
    pass


async def test_200_concurrent_write_transactions_all_commit_without_gaps(pooled: Litestar) -> None:
    await asyncio.gather(*(append_event(SYSTEM, "test.burst", "thing", i) for i in range(200)))
    assert await stored_seqs() == list(range(1, 201))
    assert (await verify_chain()).ok


async def test_a_failed_transaction_rolls_back_and_the_next_writer_starts_clean(
    pooled: Litestar,
) -> None:
    for attempt in range(3):
        with pytest.raises(Boom):
            async with db.write_transaction():
                await append_event(SYSTEM, "test.doomed", "thing", attempt)
                raise Boom()
    assert await stored_seqs() == []
    # Were a connection handed back inside its transaction, this would fail with
    # "cannot start a transaction within a transaction".
    for attempt in range(3):
        await append_event(SYSTEM, "test.after", "thing", attempt)
    assert await stored_seqs() == [1, 2, 3]


async def test_a_writer_cancelled_inside_its_transaction_does_not_block_the_next(
    pooled: Litestar,
) -> None:
    inside = asyncio.Event()

    async def abandoned() -> None:
        async with db.write_transaction():
            await append_event(SYSTEM, "test.abandoned", "thing", 1)
            inside.set()
            await asyncio.sleep(3600)  # a client that went away mid-request

    task = asyncio.create_task(abandoned())
    await asyncio.wait_for(inside.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(append_event(SYSTEM, "test.next", "thing", 2), 10)
    rows = await CustodyEvent.select(CustodyEvent.seq, CustodyEvent.action)
    assert rows == [{"seq": 1, "action": "test.next"}]


async def test_writers_cancelled_at_any_point_leave_no_lock_and_no_gap(pooled: Litestar) -> None:
    tasks = [asyncio.create_task(append_event(SYSTEM, "test.maybe", "thing", i)) for i in range(60)]
    for index, task in enumerate(tasks):
        if index % 3 == 0:
            task.cancel()
        await asyncio.sleep(0.001 * (index % 4))
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(o, dict | asyncio.CancelledError) for o in outcomes)
    committed = [o for o in outcomes if isinstance(o, dict)]
    await asyncio.wait_for(append_event(SYSTEM, "test.last", "thing", 0), 10)
    seqs = await stored_seqs()
    # A cancelled writer either committed entirely or left nothing: no gap either way.
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) >= len(committed) + 1
    assert (await verify_chain()).ok


async def test_writers_cancelled_again_and_again_even_while_rolling_back_leave_no_lock(
    pooled: Litestar,
) -> None:
    """A request cancelled twice (the client goes away, then the server shuts down) can
    be interrupted inside the rollback or COMMIT itself; on PostgreSQL that once left a
    connection "idle in transaction" holding the ledger head's row lock, and every later
    writer waited for ever."""

    async def writer(index: int) -> None:
        async with db.write_transaction():
            await append_event(SYSTEM, "test.hammered", "thing", index)
            if index % 2:
                raise Boom()

    for index in range(30):
        task = asyncio.create_task(writer(index))
        for _ in range(index % 7):
            await asyncio.sleep(0)
        while not task.done():
            task.cancel()
            await asyncio.sleep(0)
        with contextlib.suppress(asyncio.CancelledError, Boom):
            await task
    await asyncio.wait_for(append_event(SYSTEM, "test.after", "thing", 0), 10)
    if db.is_postgres():
        rows = await db.engine().run_ddl(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database()"
            " AND state LIKE 'idle in transaction%'"
        )
        assert rows[0]["n"] == 0
    # Every connection was given back: closing the pool does not wait on a lost one.
    await asyncio.wait_for(db.close_pool(), 10)
    seqs = await stored_seqs()
    assert seqs == list(range(1, len(seqs) + 1))
    assert (await verify_chain()).ok


@SQLITE_ONLY
async def test_pooled_connections_run_with_the_pragmas(pooled: Litestar) -> None:
    engine = sqlite_engine()

    async def pragmas() -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name in ("synchronous", "journal_mode", "foreign_keys", "secure_delete"):
            rows = await engine.run_ddl(f"PRAGMA {name}")
            found[name] = rows[0][name]
        return found

    expected = {"synchronous": 2, "journal_mode": "wal", "foreign_keys": 1, "secure_delete": 1}
    for _ in range(3):  # the same, reused read connections
        assert await pragmas() == expected
    async with db.write_transaction():  # the writer connection
        assert await pragmas() == expected
    assert engine.open_connections == 2


@SQLITE_ONLY
async def test_open_connections_stay_bounded_and_close_with_the_pool(pooled: Litestar) -> None:
    engine = sqlite_engine()
    threads_before = threading.active_count()

    async def read(i: int) -> None:
        await CustodyEvent.select().where(CustodyEvent.object_id == str(i))

    await asyncio.gather(
        *(append_event(SYSTEM, "test.load", "thing", i) for i in range(100)),
        *(read(i) for i in range(200)),
    )
    assert await stored_seqs() == list(range(1, 101))
    assert 1 <= engine.open_connections <= db.READ_CONNECTIONS + 1
    await db.close_pool()
    assert engine.open_connections == 0
    for _ in range(100):  # a closed connection's thread ends just after close() returns
        if threading.active_count() <= threads_before:
            break
        await asyncio.sleep(0.01)
    assert threading.active_count() <= threads_before


@SQLITE_ONLY
async def test_writers_from_another_event_loop_share_the_engine(pooled: Litestar) -> None:
    """The test client runs the app in a loop of its own beside the test's: the
    engine's locks are per loop, its connections serve both."""
    sqlite_engine()  # a PostgreSQL pool belongs to the loop that opened it

    async def burst(start: int) -> None:
        await asyncio.gather(
            *(append_event(SYSTEM, "test.loop", "thing", start + i) for i in range(30))
        )

    await asyncio.gather(burst(0), asyncio.to_thread(asyncio.run, burst(100)))
    assert await stored_seqs() == list(range(1, 61))
    assert (await verify_chain()).ok
