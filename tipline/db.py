"""The Piccolo engine built from the settings, and the one way to open a write transaction.

SQLite is the embedded default: WAL, ``synchronous=FULL`` (a tip whose receipt was
shown must survive power loss), a busy timeout, and every write transaction
opened ``IMMEDIATE`` so two writers queue instead of failing. PostgreSQL runs
with a connection pool opened and closed in the application's lifespan.

All table classes are bound to the engine by :func:`bind`, so one process can
serve one database chosen by its settings (and each test its own).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterable
from typing import Any

import aiosqlite
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType, dict_factory
from piccolo.table import Table

from tipline.settings import Settings

BUSY_TIMEOUT_SECONDS = 30


class TiplineSQLiteEngine(SQLiteEngine):
    """SQLite with the per-connection pragmas tipline relies on.

    Piccolo opens connections in two places (``get_connection`` for transactions and
    ``_run_in_new_connection`` for single queries); both go through ``_connect`` here.
    """

    async def _connect(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(**self.connection_kwargs)
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA foreign_keys = 1")
        await connection.execute("PRAGMA synchronous = FULL")
        await connection.execute("PRAGMA secure_delete = ON")
        await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
        return connection

    async def get_connection(self) -> aiosqlite.Connection:
        return await self._connect()

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        connection = await self._connect()
        try:
            async with connection.execute(query, args or []) as cursor:
                await connection.commit()
                return await cursor.fetchall()
        finally:
            await connection.close()


def make_engine(settings: Settings) -> Engine[Any]:
    """The engine the settings ask for (a SQLite file in the data dir by default)."""
    if settings.is_sqlite:
        path = settings.sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        _enable_wal(str(path))
        return TiplineSQLiteEngine(path=str(path), timeout=BUSY_TIMEOUT_SECONDS)
    assert settings.database_url is not None
    return PostgresEngine(config={"dsn": settings.database_url})


def _enable_wal(path: str) -> None:
    """WAL persists in the file, so setting it once per start is enough."""
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()


_current: Engine[Any] | None = None


def bind(engine: Engine[Any], tables: Iterable[type[Table]] | None = None) -> None:
    """Make every table class (of all Piccolo apps) use ``engine``."""
    global _current
    _current = engine
    for table in tables if tables is not None else all_tables():
        table._meta.db = engine


def engine() -> Engine[Any]:
    """The engine bound by :func:`bind`."""
    if _current is None:
        raise RuntimeError("no database bound: call tipline.db.bind(make_engine(settings)) first")
    return _current


def is_postgres() -> bool:
    return isinstance(engine(), PostgresEngine)


@contextlib.asynccontextmanager
async def write_transaction() -> AsyncIterator[None]:
    """One atomic write: everything inside commits together or not at all.

    On SQLite the transaction is ``IMMEDIATE`` (it takes the write lock at once, so a
    read that later writes cannot fail with "database is locked"). Nested calls join
    the outer transaction.
    """
    current = engine()
    if current.current_transaction.get() is not None:
        yield
        return
    if isinstance(current, SQLiteEngine):
        transaction = current.transaction(transaction_type=TransactionType.immediate)
    else:
        transaction = current.transaction()
    async with transaction:
        yield


async def open_pool() -> None:
    current = engine()
    if isinstance(current, PostgresEngine):
        await current.start_connection_pool(max_size=20)


async def close_pool() -> None:
    """Close the pool if one is open (tests close it early; closing twice is harmless)."""
    current = engine()
    if isinstance(current, PostgresEngine) and current.pool is not None:
        await current.close_connection_pool()


def is_missing_table(error: BaseException) -> bool:
    """True for "no such table" (SQLite) and undefined_table (PostgreSQL 42P01)."""
    return "no such table" in str(error) or getattr(error, "sqlstate", None) == "42P01"


async def check_database() -> bool:
    """True when a trivial query answers: what ``/health`` reports."""
    try:
        await engine().run_ddl("SELECT 1")
    except Exception:
        return False
    return True


def all_tables() -> list[type[Table]]:
    """Every table class of every Piccolo app, in dependency order."""
    from tipline.registry import APP_REGISTRY

    tables: list[type[Table]] = []
    for app_config in APP_REGISTRY.app_configs.values():
        tables.extend(app_config.table_classes)
    return tables


async def create_all_tables() -> None:
    """Create the schema directly (tests); production uses ``tipline migrate``."""
    from piccolo.table import create_db_tables

    await create_db_tables(*sort_by_dependency(all_tables()), if_not_exists=True)


def sort_by_dependency(tables: list[type[Table]]) -> list[type[Table]]:
    from piccolo.table import sort_table_classes

    return sort_table_classes(tables)
