"""``tipline migrate`` builds the whole schema on an empty database, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3

import asyncpg
from litestar.testing import AsyncTestClient

from tests.conftest import run_cli
from tipline import db
from tipline.app import create_app
from tipline.settings import Settings

MIGRATION_TABLE = "migration"  # Piccolo's record of applied migrations


def _expected_schema() -> dict[str, set[str]]:
    """Every table of every Piccolo app, with the columns its class declares."""
    return {
        table._meta.tablename: {column._meta.db_column_name for column in table._meta.columns}
        for table in db.all_tables()
    }


def _actual_schema(settings: Settings) -> dict[str, set[str]]:
    if settings.is_sqlite:
        connection = sqlite3.connect(settings.sqlite_path)
        try:
            tables = [
                row[0]
                for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%'"
                )
            ]
            return {
                table: {row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')}
                for table in tables
            }
        finally:
            connection.close()

    async def read() -> dict[str, set[str]]:
        assert settings.database_url
        connection = await asyncpg.connect(settings.database_url)
        try:
            rows = await connection.fetch(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = 'public'"
            )
        finally:
            await connection.close()
        schema: dict[str, set[str]] = {}
        for row in rows:
            schema.setdefault(row["table_name"], set()).add(row["column_name"])
        return schema

    return asyncio.run(read())


def _applied_migrations(settings: Settings) -> int:
    if settings.is_sqlite:
        connection = sqlite3.connect(settings.sqlite_path)
        try:
            return int(connection.execute(f"SELECT count(*) FROM {MIGRATION_TABLE}").fetchone()[0])
        finally:
            connection.close()

    async def count() -> int:
        assert settings.database_url
        connection = await asyncpg.connect(settings.database_url)
        try:
            return int(await connection.fetchval(f"SELECT count(*) FROM {MIGRATION_TABLE}"))
        finally:
            await connection.close()

    return asyncio.run(count())


def test_migrate_creates_every_table_and_column_then_is_a_no_op(settings: Settings) -> None:
    first = run_cli(settings, "migrate")
    assert first.returncode == 0, first.stderr

    expected = _expected_schema()
    actual = _actual_schema(settings)
    assert expected, "no Piccolo tables registered"
    missing_tables = sorted(expected.keys() - actual.keys())
    assert not missing_tables, f"tables without a migration: {missing_tables}"
    stale = {
        table: {
            "missing": sorted(columns - actual[table]),
            "extra": sorted(actual[table] - columns),
        }
        for table, columns in expected.items()
        if columns != actual[table]
    }
    assert not stale, f"migrations do not match the table classes: {stale}"
    unexpected = sorted(actual.keys() - expected.keys() - {MIGRATION_TABLE})
    assert not unexpected, f"tables no Piccolo app declares: {unexpected}"
    applied = _applied_migrations(settings)
    assert applied >= 1

    second = run_cli(settings, "migrate")
    assert second.returncode == 0, second.stderr
    assert _actual_schema(settings) == actual
    assert _applied_migrations(settings) == applied


async def test_the_app_runs_on_the_migrated_schema(settings: Settings) -> None:
    result = await asyncio.to_thread(run_cli, settings, "migrate")
    assert result.returncode == 0, result.stderr
    async with AsyncTestClient(create_app(settings), base_url="http://testserver.local") as client:
        health = await client.get("/health")
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "database": "ok"}
        assert (await client.get("/")).status_code == 200
    verify = await asyncio.to_thread(run_cli, settings, "ledger", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_commands_on_an_unmigrated_database_say_what_to_do(settings: Settings) -> None:
    result = run_cli(settings, "ledger", "verify")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "tipline migrate" in result.stderr
    assert "Traceback" not in result.stderr
