"""The migrations, tested the way SecureDrop tests its own.

On SQLite and, when ``TIPLINE_TEST_POSTGRES`` holds a DSN, on PostgreSQL (each run on a
database of its own: a file in ``tmp_path``, or a ``tipline_mig_*`` database created on
that server for this module and dropped afterwards):

- ``tipline migrate`` builds exactly the schema the table classes declare: every
  table, every column with its type, nullability and default, every index, unique
  constraint and foreign key (with its target and actions). A class changed without a
  migration, or a migration edited by hand, shows up as a list of differences.
- a database made by the *first* migration of every app, filled through the services,
  keeps every row and a ledger that verifies once migrated to the head, and the head's
  code then runs on it. This is the path every deployed county takes at each upgrade.
- a command on a database that was never migrated says what to do instead of failing
  with a traceback.

Migrations run in this process (``tipline.cli.main(["migrate"])``, the operator's
command without the ``python -m`` start-up), which is why Piccolo's configuration
module is re-imported for each test (see :func:`piccolo_pointed_at`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import os
import re
import secrets
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest
from litestar.testing import AsyncTestClient
from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.tables import Migration
from piccolo.columns import BigSerial, ForeignKey, Serial
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from tests import trace_scan
from tipline import cli, db
from tipline.registry import APP_REGISTRY
from tipline.settings import Settings

MIGRATION_TABLE = Migration._meta.tablename
AUTOINCREMENT = "autoincrement"
PASSWORD = "Seven Bridges Over Quiet Water 7"
TIP_TEXT = "MARKER-migration-upgrade: the ferry operator takes a cut of every fare"


# --- the shape of a schema, read from the table classes or from a database --------------


@dataclasses.dataclass(frozen=True)
class ColumnShape:
    type: str
    nullable: bool
    default: str


@dataclasses.dataclass(frozen=True)
class ForeignKeyShape:
    target: str
    target_columns: tuple[str, ...]
    on_delete: str
    on_update: str

    def __str__(self) -> str:
        return (
            f"-> {self.target}({', '.join(self.target_columns)}) "
            f"ON DELETE {self.on_delete} ON UPDATE {self.on_update}"
        )


@dataclasses.dataclass
class TableShape:
    columns: dict[str, ColumnShape] = dataclasses.field(default_factory=dict)
    primary_key: tuple[str, ...] = ()
    indexes: set[tuple[tuple[str, ...], str]] = dataclasses.field(default_factory=set)
    """Non-unique indexes: (columns, access method)."""
    unique: set[tuple[str, ...]] = dataclasses.field(default_factory=set)
    """Unique constraints and unique indexes, by their columns (the primary key apart)."""
    foreign_keys: dict[tuple[str, ...], ForeignKeyShape] = dataclasses.field(default_factory=dict)


Schema = dict[str, TableShape]

_TYPE_ALIASES = {
    "character varying": "varchar",
    "timestamp with time zone": "timestamptz",
    "timestamp without time zone": "timestamp",
    "blob": "bytea",
    "serial": "integer",
    "bigserial": "bigint",
    "int": "integer",
    "int4": "integer",
    "int8": "bigint",
    "bool": "boolean",
}
_CAST = re.compile(r"::[a-z_ ]+(\[\])?$")
_PG_ACTIONS = {
    "a": "NO ACTION",
    "r": "RESTRICT",
    "c": "CASCADE",
    "n": "SET NULL",
    "d": "SET DEFAULT",
}


def normal_type(declared: str) -> str:
    """One spelling per type, whichever engine or Piccolo wrote it (``VARCHAR(16)``,
    ``character varying(16)`` -> ``varchar(16)``; ``BLOB`` -> ``bytea``)."""
    text = " ".join(declared.lower().split())
    base, paren, rest = text.partition("(")
    base = _TYPE_ALIASES.get(base.strip(), base.strip())
    return f"{base}({rest}" if paren else base


def normal_default(sql: str | None, column_type: str) -> str:
    """A column default as comparable text: PostgreSQL's casts dropped (``'x'::character
    varying`` -> ``'x'``), keywords lower case, a sequence named ``autoincrement``."""
    if sql is None:
        return "null"
    value = sql.strip()
    if value.lower().startswith("nextval("):
        return AUTOINCREMENT
    while match := _CAST.search(value):
        value = value[: match.start()]
    if value.startswith("'"):
        if column_type == "bytea" and value.startswith("'\\x"):
            value = "'" + value[3:]
        return value
    value = value.lower()
    return "current_timestamp" if value == "now()" else value


def expected_schema() -> Schema:
    """What the table classes declare, in the dialect of the engine they are bound to
    (Piccolo renders some types and defaults per engine)."""
    engine_type = db.engine().engine_type
    schema: Schema = {}
    for table in db.all_tables():
        shape = TableShape()
        for column in table._meta.columns:
            name = column._meta.db_column_name
            column_type = normal_type(column.column_type)
            if isinstance(column, Serial | BigSerial):
                default = AUTOINCREMENT
            else:
                default = normal_default(
                    column.get_sql_value(column.get_default_value()), column_type
                )
            primary = column._meta.primary_key
            shape.columns[name] = ColumnShape(
                column_type, column._meta.null and not primary, default
            )
            if primary:
                shape.primary_key = (name,)
            if column._meta.unique:
                shape.unique.add((name,))
            if column._meta.index:
                method = column._meta.index_method.value if engine_type == "postgres" else "btree"
                shape.indexes.add(((name,), method))
            if isinstance(column, ForeignKey):
                meta = column._foreign_key_meta
                shape.foreign_keys[(name,)] = ForeignKeyShape(
                    meta.resolved_references._meta.tablename,
                    (meta.resolved_target_column._meta.db_column_name,),
                    meta.on_delete.value,
                    meta.on_update.value,
                )
        schema[table._meta.tablename] = shape
    return schema


def sqlite_schema(path: Path) -> Schema:
    connection = sqlite3.connect(path)
    try:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        schema: Schema = {}
        for table in tables:
            shape = TableShape()
            info = connection.execute(f'PRAGMA table_info("{table}")').fetchall()
            shape.primary_key = tuple(row[1] for row in sorted(info, key=lambda r: r[5]) if row[5])
            for _cid, name, declared, notnull, default, pk in info:
                column_type = normal_type(declared)
                rowid = pk and len(shape.primary_key) == 1 and column_type == "integer"
                shape.columns[name] = ColumnShape(
                    column_type,
                    not notnull and not pk,
                    AUTOINCREMENT
                    if rowid and default is None
                    else normal_default(default, column_type),
                )
            for _seq, index, unique, origin, partial in connection.execute(
                f'PRAGMA index_list("{table}")'
            ):
                if origin == "pk":
                    continue
                columns = tuple(
                    row[2] for row in connection.execute(f'PRAGMA index_info("{index}")')
                )
                if unique:
                    shape.unique.add(columns)
                else:
                    shape.indexes.add((columns, "btree partial" if partial else "btree"))
            keys: dict[int, list[tuple[Any, ...]]] = {}
            for row in connection.execute(f'PRAGMA foreign_key_list("{table}")'):
                keys.setdefault(row[0], []).append(row)
            for rows in keys.values():
                rows.sort(key=lambda r: r[1])
                shape.foreign_keys[tuple(r[3] for r in rows)] = ForeignKeyShape(
                    rows[0][2], tuple(r[4] for r in rows), rows[0][6], rows[0][5]
                )
            schema[table] = shape
        return schema
    finally:
        connection.close()


_PG_COLUMNS = """
SELECT c.table_name, c.column_name, c.data_type, c.character_maximum_length,
       c.is_nullable, c.column_default
FROM information_schema.columns c
JOIN information_schema.tables t
  ON t.table_schema = c.table_schema AND t.table_name = c.table_name
WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
ORDER BY c.table_name, c.ordinal_position
"""
_PG_INDEXES = """
SELECT t.relname AS table_name, ix.indisunique AS is_unique, ix.indisprimary AS is_primary,
       am.amname AS method, ix.indpred IS NOT NULL AS partial,
       ARRAY(SELECT a.attname FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
             ORDER BY k.ord) AS columns
FROM pg_index ix
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_am am ON am.oid = i.relam
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = 'public'
"""
_PG_FOREIGN_KEYS = """
SELECT src.relname AS table_name, dst.relname AS target,
       c.confdeltype::text AS on_delete, c.confupdtype::text AS on_update,
       ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS columns,
       ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS target_columns
FROM pg_constraint c
JOIN pg_class src ON src.oid = c.conrelid
JOIN pg_class dst ON dst.oid = c.confrelid
JOIN pg_namespace n ON n.oid = src.relnamespace
WHERE c.contype = 'f' AND n.nspname = 'public'
"""


async def postgres_schema(dsn: str) -> Schema:
    connection = await asyncpg.connect(dsn)
    try:
        columns = await connection.fetch(_PG_COLUMNS)
        indexes = await connection.fetch(_PG_INDEXES)
        foreign_keys = await connection.fetch(_PG_FOREIGN_KEYS)
    finally:
        await connection.close()
    schema: Schema = {}
    for row in columns:
        declared = row["data_type"]
        if row["character_maximum_length"] is not None:
            declared += f"({row['character_maximum_length']})"
        column_type = normal_type(declared)
        schema.setdefault(row["table_name"], TableShape()).columns[row["column_name"]] = (
            ColumnShape(
                column_type,
                row["is_nullable"] == "YES",
                normal_default(row["column_default"], column_type),
            )
        )
    for row in indexes:
        shape = schema.setdefault(row["table_name"], TableShape())
        names = tuple(row["columns"])
        if row["is_primary"]:
            shape.primary_key = names
        elif row["is_unique"]:
            shape.unique.add(names)
        else:
            shape.indexes.add((names, row["method"] + (" partial" if row["partial"] else "")))
    for row in foreign_keys:
        schema.setdefault(row["table_name"], TableShape()).foreign_keys[tuple(row["columns"])] = (
            ForeignKeyShape(
                row["target"],
                tuple(row["target_columns"]),
                _PG_ACTIONS[row["on_delete"]],
                _PG_ACTIONS[row["on_update"]],
            )
        )
    return schema


def read_schema(settings: Settings) -> Schema:
    if settings.is_sqlite:
        return sqlite_schema(settings.sqlite_path)
    assert settings.database_url
    return asyncio.run(postgres_schema(settings.database_url))


def _columns_text(columns: tuple[str, ...]) -> str:
    return f"({', '.join(columns)})"


def schema_differences(expected: Schema, actual: Schema) -> list[str]:
    """Every way ``actual`` (a database) differs from ``expected`` (the classes), one
    line each; Piccolo's own ``migration`` table is not the classes' business."""
    found: list[str] = []
    actual = {name: shape for name, shape in actual.items() if name != MIGRATION_TABLE}
    found += [f"{t}: table missing from the database" for t in sorted(expected.keys() - actual)]
    found += [f"{t}: table no class declares" for t in sorted(actual.keys() - expected.keys())]
    for table in sorted(expected.keys() & actual.keys()):
        want, have = expected[table], actual[table]
        found += [
            f"{table}.{c}: column missing from the database"
            for c in sorted(want.columns.keys() - have.columns.keys())
        ]
        found += [
            f"{table}.{c}: column the class does not declare"
            for c in sorted(have.columns.keys() - want.columns.keys())
        ]
        for name in sorted(want.columns.keys() & have.columns.keys()):
            for field in dataclasses.fields(ColumnShape):
                wanted = getattr(want.columns[name], field.name)
                stored = getattr(have.columns[name], field.name)
                if wanted != stored:
                    found.append(
                        f"{table}.{name}: {field.name} {stored!r} in the database, "
                        f"{wanted!r} in the class"
                    )
        if want.primary_key != have.primary_key:
            found.append(
                f"{table}: primary key {_columns_text(have.primary_key)} in the database, "
                f"{_columns_text(want.primary_key)} in the class"
            )
        for columns, method in sorted(want.indexes - have.indexes):
            found.append(f"{table}: {method} index {_columns_text(columns)} missing")
        for columns, method in sorted(have.indexes - want.indexes):
            found.append(f"{table}: {method} index {_columns_text(columns)} no class declares")
        for columns in sorted(want.unique - have.unique):
            found.append(f"{table}: unique constraint {_columns_text(columns)} missing")
        for columns in sorted(have.unique - want.unique):
            found.append(f"{table}: unique constraint {_columns_text(columns)} no class declares")
        for columns in sorted(want.foreign_keys.keys() | have.foreign_keys.keys()):
            wanted_key = want.foreign_keys.get(columns)
            stored_key = have.foreign_keys.get(columns)
            if wanted_key != stored_key:
                found.append(
                    f"{table}{_columns_text(columns)}: foreign key {stored_key or 'none'} "
                    f"in the database, {wanted_key or 'none'} in the class"
                )
    return found


# --- databases of this module's own ------------------------------------------------------


def _settings(data_dir: Path, database_url: str | None) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        secure_cookies=False,
        scheduler=False,
        base_url="http://testserver.local",
    )


async def _on_server(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


class OwnPostgresDatabase:
    """A ``tipline_mig_*`` database on the ``TIPLINE_TEST_POSTGRES`` server for this
    module's tests: never the DSN's own database, which other test runs empty and fill
    at the same time. Made on first use and dropped once at the end (each drop waits
    for a server-wide checkpoint, seconds on a busy server); between tests its public
    schema is dropped and made again, as ``tests/conftest.py`` does with the shared one.
    """

    def __init__(self, server_dsn: str) -> None:
        self.server_dsn = server_dsn
        self.name = f"tipline_mig_{secrets.token_hex(6)}"
        self.dsn = urlsplit(server_dsn)._replace(path=f"/{self.name}").geturl()
        self.created = False

    async def _search(self, connection: asyncpg.Connection) -> None:
        """The end-of-session trace scan never sees this database, so what a test left
        in it is searched here (as the intake trace test does with its own)."""
        await trace_scan.search_postgres(connection)

    async def fresh(self) -> str:
        if not self.created:
            await _on_server(self.server_dsn, f'CREATE DATABASE "{self.name}"')
            self.created = True
            return self.dsn
        connection = await asyncpg.connect(self.dsn)
        try:
            await self._search(connection)
            await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        finally:
            await connection.close()
        return self.dsn

    async def drop(self) -> None:
        if not self.created:
            return
        with contextlib.suppress(OSError, asyncpg.PostgresError):
            connection = await asyncpg.connect(self.dsn)
            try:
                await self._search(connection)
            finally:
                await connection.close()
        await _on_server(self.server_dsn, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[OwnPostgresDatabase | None]:
    server_dsn = os.environ.get("TIPLINE_TEST_POSTGRES", "")
    if not server_dsn:
        yield None
        return
    database = OwnPostgresDatabase(server_dsn)
    try:
        yield database
    finally:
        asyncio.run(database.drop())


@pytest.fixture
def target(database: str, tmp_path: Path, own_postgres: OwnPostgresDatabase | None) -> Settings:
    """Settings for an empty database: a SQLite file of this test's own, or this
    module's PostgreSQL database with an empty schema."""
    data_dir = tmp_path / "data"
    if database == "sqlite":
        return _settings(data_dir, None)
    if own_postgres is None:
        pytest.skip("PostgreSQL run: set TIPLINE_TEST_POSTGRES to a DSN to run it")
    return _settings(data_dir, asyncio.run(own_postgres.fresh()))


def _address(engine: Engine[Any]) -> str:
    if isinstance(engine, SQLiteEngine):
        return str(Path(engine.connection_kwargs["database"]).resolve())
    assert isinstance(engine, PostgresEngine)
    return str(engine.config["dsn"])


@contextlib.contextmanager
def piccolo_pointed_at(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Piccolo's migration machinery, and the ``tipline`` commands run in this process,
    aimed at ``settings``' database, as in a fresh ``tipline migrate`` process.

    Piccolo finds its engine in ``PICCOLO_CONF`` (``tipline.piccolo_conf``), which builds
    it from the ``TIPLINE_*`` variables when first imported and is then cached for the
    process, as is the engine of Piccolo's ``Migration`` table. So the variables are
    set, the module imported anew and the table pointed at its engine; afterwards both
    are put back. The engine it builds must address the same database as the one
    ``db.make_engine`` builds from ``settings``, or migrations would go elsewhere.
    """
    monkeypatch.setenv("PICCOLO_CONF", cli.PICCOLO_CONF)
    monkeypatch.setenv("TIPLINE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("TIPLINE_BASE_URL", settings.base_url)
    monkeypatch.setenv("TIPLINE_SECURE_COOKIES", "0")
    monkeypatch.setenv("TIPLINE_SCHEDULER", "0")
    if settings.database_url:
        monkeypatch.setenv("TIPLINE_DATABASE_URL", settings.database_url)
    else:
        monkeypatch.delenv("TIPLINE_DATABASE_URL", raising=False)
    previous_module = sys.modules.pop(cli.PICCOLO_CONF, None)
    previous_engine = Migration._meta._db
    try:
        conf = importlib.import_module(cli.PICCOLO_CONF)
        assert _address(conf.DB) == _address(db.make_engine(settings))
        Migration._meta.db = conf.DB
        yield
    finally:
        Migration._meta._db = previous_engine
        sys.modules.pop(cli.PICCOLO_CONF, None)
        if previous_module is not None:
            sys.modules[cli.PICCOLO_CONF] = previous_module


def migrations_on_disk() -> dict[str, list[str]]:
    """Every app's migration ids, oldest first, as Piccolo reads them from the folders."""
    manager = BaseMigrationManager()
    return {
        app_config.app_name: sorted(
            manager.get_migration_ids(
                manager.get_migration_modules(app_config.resolved_migrations_folder_path)
            )
        )
        for app_config in APP_REGISTRY.app_configs.values()
    }


def applied_migrations(settings: Settings) -> dict[str, list[str]]:
    """What Piccolo recorded as run, per app, oldest first."""
    sql = f"SELECT app_name, name FROM {MIGRATION_TABLE} ORDER BY app_name, name"
    if settings.is_sqlite:
        connection = sqlite3.connect(settings.sqlite_path)
        try:
            rows = connection.execute(sql).fetchall()
        finally:
            connection.close()
    else:

        async def fetch() -> list[Any]:
            assert settings.database_url
            connection = await asyncpg.connect(settings.database_url)
            try:
                return list(await connection.fetch(sql))
            finally:
                await connection.close()

        rows = asyncio.run(fetch())
    applied: dict[str, list[str]] = {}
    for app_name, name in rows:
        applied.setdefault(app_name, []).append(name)
    return applied


def table_rows(
    settings: Settings, columns: dict[str, list[str]] | None = None
) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """Every row of every table (Piccolo's ``migration`` apart), ordered by ``id``: the
    columns each table has now, or those named in ``columns``."""
    schema = read_schema(settings)
    wanted = columns or {
        name: list(shape.columns) for name, shape in schema.items() if name != MIGRATION_TABLE
    }

    def select(table: str, names: list[str]) -> str:
        quoted = ", ".join(f'"{name}"' for name in names)
        return f'SELECT {quoted} FROM "{table}" ORDER BY "id"'

    if settings.is_sqlite:
        connection = sqlite3.connect(settings.sqlite_path)
        try:
            return {
                table: (names, connection.execute(select(table, names)).fetchall())
                for table, names in wanted.items()
            }
        finally:
            connection.close()

    async def fetch() -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
        assert settings.database_url
        connection = await asyncpg.connect(settings.database_url)
        try:
            return {
                table: (names, [tuple(row) for row in await connection.fetch(select(table, names))])
                for table, names in wanted.items()
            }
        finally:
            await connection.close()

    return asyncio.run(fetch())


# --- the comparison itself ---------------------------------------------------------------


def _small_schema() -> Schema:
    return {
        "org_unit": TableShape(
            columns={
                "id": ColumnShape("integer", False, AUTOINCREMENT),
                "code": ColumnShape("varchar(32)", False, "''"),
                "parent": ColumnShape("integer", True, "null"),
            },
            primary_key=("id",),
            indexes={(("parent",), "btree")},
            unique={("code",)},
            foreign_keys={("parent",): ForeignKeyShape("org_unit", ("id",), "RESTRICT", "CASCADE")},
        )
    }


def test_the_comparison_names_each_kind_of_difference() -> None:
    """Without this, a comparison that looked at nothing would pass every migration."""
    assert schema_differences(_small_schema(), _small_schema()) == []

    changed = _small_schema()
    shape = changed["org_unit"]
    shape.columns["code"] = ColumnShape("varchar(16)", True, "'x'")
    del shape.columns["parent"]
    shape.columns["extra"] = ColumnShape("text", False, "''")
    shape.primary_key = ("code",)
    shape.indexes = {(("code",), "btree")}
    shape.unique = set()
    shape.foreign_keys[("parent",)] = ForeignKeyShape("org_unit", ("id",), "CASCADE", "CASCADE")
    changed["stray"] = TableShape()
    with_account = _small_schema()
    with_account["account"] = TableShape()

    assert schema_differences(_small_schema(), changed) == [
        "stray: table no class declares",
        "org_unit.parent: column missing from the database",
        "org_unit.extra: column the class does not declare",
        "org_unit.code: type 'varchar(16)' in the database, 'varchar(32)' in the class",
        "org_unit.code: nullable True in the database, False in the class",
        "org_unit.code: default \"'x'\" in the database, \"''\" in the class",
        "org_unit: primary key (code) in the database, (id) in the class",
        "org_unit: btree index (parent) missing",
        "org_unit: btree index (code) no class declares",
        "org_unit: unique constraint (code) missing",
        "org_unit(parent): foreign key -> org_unit(id) ON DELETE CASCADE ON UPDATE CASCADE in "
        "the database, -> org_unit(id) ON DELETE RESTRICT ON UPDATE CASCADE in the class",
    ]
    assert schema_differences(with_account, _small_schema()) == [
        "account: table missing from the database"
    ]
    assert (
        schema_differences(_small_schema(), {**_small_schema(), MIGRATION_TABLE: TableShape()})
        == []
    )


def test_types_and_defaults_read_alike_on_both_engines() -> None:
    """The same column as SQLite's PRAGMA, PostgreSQL's catalog and Piccolo spell it."""
    assert normal_type("VARCHAR(16)") == normal_type("character varying(16)") == "varchar(16)"
    assert normal_type("TIMESTAMPTZ") == normal_type("timestamp with time zone")
    assert normal_type("BLOB") == normal_type("bytea") == normal_type("BYTEA")
    assert normal_type("SERIAL") == normal_type("integer")
    assert normal_type("varchar(16)") != normal_type("varchar(64)")
    assert normal_default("''::character varying", "varchar(8)") == normal_default("''", "text")
    assert normal_default("'\\x'::bytea", "bytea") == normal_default("''", "bytea")
    assert normal_default("CURRENT_TIMESTAMP", "timestamptz") == "current_timestamp"
    assert normal_default("NULL::character varying", "varchar(8)") == normal_default(None, "text")
    assert normal_default("nextval('tip_id_seq'::regclass)", "integer") == AUTOINCREMENT
    assert normal_default("'{}'::json", "json") == "'{}'"
    assert normal_default("'0'", "varchar(8)") != normal_default("0", "integer")


# --- the schema the migrations build -----------------------------------------------------


def _plain_column(expected: Schema) -> tuple[str, str]:
    """A column no index, key or constraint uses (SQLite refuses to drop any other)."""
    for table, shape in sorted(expected.items()):
        used = set(shape.primary_key)
        for columns in [*(index for index, _ in shape.indexes), *shape.unique, *shape.foreign_keys]:
            used.update(columns)
        for column in shape.columns:
            if column not in used:
                return table, column
    raise AssertionError("no plain column to drop")


def _indexed_column(expected: Schema) -> tuple[str, str]:
    for table, shape in sorted(expected.items()):
        for columns, _method in sorted(shape.indexes):
            if len(columns) == 1:
                return table, columns[0]
    raise AssertionError("no index to drop")


def _run_sql(settings: Settings, *statements: str) -> None:
    if settings.is_sqlite:
        connection = sqlite3.connect(settings.sqlite_path)
        try:
            for statement in statements:
                connection.execute(statement)
            connection.commit()
        finally:
            connection.close()
        return
    assert settings.database_url
    for statement in statements:
        asyncio.run(_on_server(settings.database_url, statement))


def test_migrate_builds_the_schema_the_table_classes_declare(
    target: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Types, nullability, defaults, indexes, unique constraints and foreign keys of
    every table, compared after ``tipline migrate``; a second run changes nothing.

    Then a column and an index are dropped behind the migrations' back, and exactly
    those two differences must be reported: the readers look at the database itself.
    """
    on_disk = migrations_on_disk()
    with piccolo_pointed_at(target, monkeypatch):
        assert cli.main(["migrate"]) == 0

        db.bind(db.make_engine(target))
        expected = expected_schema()
        actual = read_schema(target)
        differences = schema_differences(expected, actual)
        assert not differences, (
            f"the migrated schema differs from the table classes in {len(differences)} ways:\n"
            + "\n".join(differences)
        )
        assert applied_migrations(target) == on_disk

        assert cli.main(["migrate"]) == 0
        assert read_schema(target) == actual
        assert applied_migrations(target) == on_disk

    table, column = _plain_column(expected)
    indexed_table, indexed = _indexed_column(expected)
    index_name = next(
        t for t in db.all_tables() if t._meta.tablename == indexed_table
    )._get_index_name([indexed])
    _run_sql(
        target,
        f'ALTER TABLE "{table}" DROP COLUMN "{column}"',
        f'DROP INDEX "{index_name}"',
    )
    assert sorted(schema_differences(expected, read_schema(target))) == sorted(
        [
            f"{table}.{column}: column missing from the database",
            f"{indexed_table}: btree index ({indexed}) missing",
        ]
    )


# --- an upgrade from the first migrations, with data -------------------------------------


async def _first_migrations(on_disk: dict[str, list[str]]) -> None:
    """Each app's first migration only, in Piccolo's dependency order of the apps."""
    for app_name in BaseMigrationManager().get_sorted_app_names():
        result = await run_forwards(app_name=app_name, migration_id=on_disk[app_name][0])
        assert result.success, f"{app_name}: {result.message}"


async def _insert_account(username: str, role: str, org_unit_id: int, password_hash: str) -> int:
    """An account as the first accounts migration stores it, with its custody event.

    ``accounts.services.create_account`` inserts every column the head's ``Account``
    declares, some of which (``email``) a later migration adds; so the row is written
    with the first migration's columns, as that release's code wrote it.
    """
    from tipline.accounts.tables import Account
    from tipline.ledger.services import SYSTEM, append_event

    async with db.write_transaction():
        rows = await Account.raw(
            "INSERT INTO account (username, display_name, role, org_unit, password_hash) "
            "VALUES ({}, {}, {}, {}, {}) RETURNING id",
            username,
            f"Migration {role}",
            role,
            org_unit_id,
            password_hash,
        )
        account_id = int(rows[0]["id"])
        await append_event(
            SYSTEM,
            "account.created",
            "account",
            account_id,
            {"role": role, "org_unit_id": org_unit_id},
        )
    return account_id


async def _fill(settings: Settings) -> dict[str, Any]:
    """Org units, accounts, an officer key, the escrow key, a sealed tip and a signed
    checkpoint, through the services wherever they run on the first migrations."""
    from tipline.accounts import passwords
    from tipline.crypto import services as crypto
    from tipline.crypto.primitives import KdfParams
    from tipline.intake.schemas import TipInput
    from tipline.intake.services import submit_tip
    from tipline.ledger.checkpoints import log_verifier, sign_checkpoint
    from tipline.ledger.services import SYSTEM, verify_chain
    from tipline.orgunits.schemas import ImportRow
    from tipline.orgunits.services import import_org_units
    from tipline.orgunits.tables import OrgUnit

    db.bind(db.make_engine(settings))
    await db.open_pool()
    try:
        units = [
            ImportRow(2, "990000", "迁移县", "county"),
            ImportRow(3, "990001", "渡口镇", "township", "990000"),
            ImportRow(4, "990002", "石桥乡", "township", "990000"),
            ImportRow(5, "990101", "渡口村", "village", "990001"),
        ]
        await import_org_units(SYSTEM, units, source="test")
        ids = {row["code"]: row["id"] for row in await OrgUnit.select(OrgUnit.code, OrgUnit.id)}
        password_hash = await passwords.hash_password(PASSWORD)
        officer = await _insert_account("mig-officer", "officer", ids["990000"], password_hash)
        clerk = await _insert_account("mig-clerk", "township_staff", ids["990001"], password_hash)
        await crypto.create_officer_key(
            officer, PASSWORD, kdf=KdfParams(time_cost=1, memory_cost=1024, parallelism=1)
        )
        escrow_file = settings.data_dir / "escrow-migration.pem"
        await crypto.init_escrow_key(escrow_file)
        tip = await submit_tip(
            settings,
            TipInput(
                category="other", content=TIP_TEXT, township=ids["990001"], village=ids["990101"]
            ),
        )
        checkpoint = await sign_checkpoint(settings, force=True)
        assert checkpoint is not None
        result = await verify_chain(log_verifier(settings))
        assert result.ok, result
    finally:
        await db.close_pool()
    return {
        "codes": sorted(row.code for row in units),
        "usernames": {officer: "mig-officer", clerk: "mig-clerk"},
        "county": ids["990000"],
        "tip_id": tip.tip_id,
        "ledger_no": tip.ledger_no,
        "escrow_file": escrow_file,
        "events": result.events,
        "root": result.root,
    }


async def _check_on_head(settings: Settings, filled: dict[str, Any]) -> int:
    """The head's code on the upgraded data: the ledger verifies with the same root, the
    rows read back through the table classes, the tip still opens, new writes chain on
    and the app answers. Returns the number of events now in the ledger."""
    from tipline.accounts import services as accounts
    from tipline.accounts.tables import Account
    from tipline.app import create_app
    from tipline.auth import Role
    from tipline.crypto import primitives
    from tipline.intake.services import open_tip_content
    from tipline.ledger.checkpoints import log_verifier
    from tipline.ledger.services import SYSTEM, verify_chain
    from tipline.orgunits.tables import OrgUnit

    db.bind(db.make_engine(settings))
    await db.open_pool()
    try:
        verifier = log_verifier(settings)
        result = await verify_chain(verifier)
        assert result.ok, result
        assert (result.events, result.root, result.checkpoints) == (
            filled["events"],
            filled["root"],
            1,
        )
        codes = sorted(row["code"] for row in await OrgUnit.select(OrgUnit.code))
        assert codes == filled["codes"]
        accounts_now = await Account.select(Account.id, Account.username, Account.email)
        assert {row["id"]: row["username"] for row in accounts_now} == filled["usernames"]
        assert all(row["email"] is None for row in accounts_now)

        escrow = primitives.private_key_from_pem(Path(filled["escrow_file"]).read_bytes())
        content = await open_tip_content(filled["tip_id"], escrow, recipient_kind="escrow")
        assert (content.ledger_no, content.fields.content) == (filled["ledger_no"], TIP_TEXT)
        assert (content.status, content.fields.village) == ("received", "渡口村")

        await accounts.create_account(
            SYSTEM,
            username="after-upgrade",
            display_name="After the upgrade",
            role=Role.county_staff,
            org_unit_id=filled["county"],
            password=PASSWORD,
        )
        after = await verify_chain(verifier)
        assert after.ok, after
        assert after.events == filled["events"] + 1
    finally:
        await db.close_pool()

    async with AsyncTestClient(create_app(settings), base_url=settings.base_url) as client:
        health = await client.get("/health")
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "database": "ok"}
        assert (await client.get("/")).status_code == 200
    return after.events


def test_upgrade_from_the_first_migrations_keeps_every_row_and_the_ledger(
    target: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """First migration of every app, data, ``tipline migrate``: every row of every
    table is still there with the same values, the schema is the head's, the ledger
    verifies (in process and with ``tipline ledger verify``).

    An app with a single migration has nothing to run on this path today; every
    migration added later lies on it and must carry the rows across (a column it drops
    or renames has to be accounted for here, on purpose).
    """
    on_disk = migrations_on_disk()
    with piccolo_pointed_at(target, monkeypatch):
        asyncio.run(_first_migrations(on_disk))
        assert applied_migrations(target) == {app: ids[:1] for app, ids in on_disk.items()}

        filled = asyncio.run(_fill(target))
        before = table_rows(target)
        filled_tables = {table for table, (_, rows) in before.items() if rows}
        assert {
            "org_unit",
            "account",
            "custody_event",
            "ledger_head",
            "merkle_node",
            "checkpoint",
            "officer_key",
            "escrow_key",
            "tip",
            "tip_key",
            "tip_counter",
        } <= filled_tables, sorted(filled_tables)

        assert cli.main(["migrate"]) == 0
        assert applied_migrations(target) == on_disk

        after = table_rows(target, {table: names for table, (names, _) in before.items()})
        changed = [
            f"{table}: {len(before[table][1])} rows before, {len(after[table][1])} after"
            for table in sorted(before)
            if before[table] != after[table]
        ]
        assert not changed, "rows changed by the upgrade:\n" + "\n".join(changed)
        db.bind(db.make_engine(target))
        differences = schema_differences(expected_schema(), read_schema(target))
        assert not differences, "after the upgrade:\n" + "\n".join(differences)

        events = asyncio.run(_check_on_head(target, filled))

        capsys.readouterr()
        assert cli.main(["ledger", "verify"]) == 0
        assert f"ledger ok: {events} events verified, 1 checkpoints (signatures checked)" in (
            capsys.readouterr().out
        )


def test_a_command_on_an_unmigrated_database_says_to_migrate(
    target: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An operator who skipped ``tipline migrate`` is told to run it (exit status 2),
    not shown a traceback from a missing table."""
    with piccolo_pointed_at(target, monkeypatch):
        assert cli.main(["ledger", "verify"]) == 2
    assert "run `tipline migrate` first" in capsys.readouterr().err
