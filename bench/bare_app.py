"""The baseline of ``bench/submit.py``: a Litestar route that stores one row and nothing else.

It uses tipline's own SQLite engine (:class:`tipline.db.TiplineSQLiteEngine` through
:func:`tipline.db.make_engine`: WAL, ``synchronous=FULL``, busy timeout) and opens the
same ``IMMEDIATE`` write transaction (:func:`tipline.db.write_transaction`), so the
difference between the two servers is what tipline does per tip (receipt, sealing,
ledger number, custody event), not the database settings.

``BENCH_WRITE_LOCK=1`` adds an in-process queue in front of SQLite's write lock (the
``bare+lock`` variant of ``--lock-variant``). It showed what the busy handler's back-off
cost under many concurrent writers; the engine now queues writers itself, so today
it only adds a second, redundant lock.

Run by the benchmark as ``python -m uvicorn bench.bare_app:create_app --factory``
with ``BENCH_DATA_DIR`` set to a fresh folder, or ``BENCH_DATABASE_URL`` naming a
PostgreSQL database (then with ``--workers 2``; the benchmark creates the table
first, since two workers creating it at once would race in PostgreSQL's catalog).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
from litestar import Litestar, get, post
from piccolo.columns import Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from tipline import db
from tipline.settings import Settings


class BenchRow(Table, tablename="bench_row"):
    id: Serial
    category = Varchar(length=40)
    content = Text()
    received_at = Timestamptz()


class RowBody(msgspec.Struct, forbid_unknown_fields=True):
    """The same JSON a tip is submitted with."""

    category: str
    content: str
    occurred: str | None = None


class RowCreated(msgspec.Struct):
    id: int


# BENCH_WRITE_LOCK=1: writers queue on an asyncio lock (first come, first served)
# before SQLite's lock, instead of polling it with the busy handler's back-off.
WRITE_LOCK = asyncio.Lock() if os.environ.get("BENCH_WRITE_LOCK") == "1" else None


@post("/rows", status_code=201)
async def add_row(data: RowBody) -> RowCreated:
    if WRITE_LOCK is None:
        return await _insert(data)
    async with WRITE_LOCK:
        return await _insert(data)


async def _insert(data: RowBody) -> RowCreated:
    async with db.write_transaction():
        rows = await BenchRow.insert(
            BenchRow(
                category=data.category,
                content=data.content,
                received_at=dt.datetime.now(dt.UTC),
            )
        ).returning(BenchRow.id)
    return RowCreated(id=int(rows[0]["id"]))


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


def create_app() -> Litestar:
    settings = Settings(
        data_dir=Path(os.environ.get("BENCH_DATA_DIR", "var/bench-bare")),
        database_url=os.environ.get("BENCH_DATABASE_URL") or None,
    )
    db.bind(db.make_engine(settings), tables=[BenchRow])

    @contextlib.asynccontextmanager
    async def schema(app: Litestar) -> AsyncIterator[None]:
        await BenchRow.create_table(if_not_exists=True)
        await db.open_pool()  # as tipline's own lifespan does
        try:
            yield
        finally:
            await db.close_pool()

    return Litestar(route_handlers=[add_row, health], lifespan=[schema], debug=False)
