"""Test databases copied from one migrated template per test process.

Every test runs on the schema a county runs: ``tipline migrate`` builds it once per
process (and per database engine) into a template, and each test gets a copy:

- SQLite: the template's data dir (the database file and the CSRF secret) is copied
  into the test's own data dir;
- PostgreSQL: after the trace scan has searched what the last test left in it, the
  process's test database is emptied back to the template's state (rows deleted,
  sequences restarted), or made again from the template (``CREATE DATABASE …
  TEMPLATE``) when a test changed its schema.

Test processes (pytest-xdist workers) each have their own template and database,
named after the worker: ``<TIPLINE_TEST_POSTGRES's database>_<worker>``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from tests import trace_scan
from tipline.settings import Settings
from tipline.web.security import server_secret

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
BASE_POSTGRES_DSN = os.environ.get("TIPLINE_TEST_POSTGRES", "")
TEMPLATE_SUFFIX = "_template"
MIGRATION_TABLE = "migration"  # Piccolo's record of applied migrations


def with_database_name(dsn: str, name: str) -> str:
    """``dsn`` naming the database ``name`` on the same server."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{name}"))


def database_name(dsn: str) -> str:
    return urlsplit(dsn).path.lstrip("/")


def worker_dsn() -> str:
    """This process's own test database (the configured one when not under xdist)."""
    if not BASE_POSTGRES_DSN or not WORKER:
        return BASE_POSTGRES_DSN
    return with_database_name(BASE_POSTGRES_DSN, f"{database_name(BASE_POSTGRES_DSN)}_{WORKER}")


POSTGRES_DSN = worker_dsn()


def base_settings(data_dir: Path, database_url: str | None = None) -> Settings:
    """The settings every test starts from: plain HTTP, no scheduler, quick throttles."""
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        secure_cookies=False,
        scheduler=False,
        base_url="http://testserver.local",
        login_throttle_base_seconds=1,
    )


def cli_env(settings: Settings) -> dict[str, str]:
    """The environment a ``tipline`` process needs to use ``settings``' database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    env["TIPLINE_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url:
        env["TIPLINE_DATABASE_URL"] = settings.database_url
    env["TIPLINE_SECURE_COOKIES"] = "0"
    return env


def migrate(settings: Settings) -> None:
    """``tipline migrate`` on ``settings``' database, as an operator runs it."""
    result = subprocess.run(
        [sys.executable, "-m", "tipline", "migrate"],
        capture_output=True,
        text=True,
        env=cli_env(settings),
        cwd=REPO_ROOT,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"tipline migrate failed:\n{result.stdout}\n{result.stderr}")


async def _admin_execute(*statements: str) -> None:
    """Statements that create or drop databases, run from the server's maintenance db."""
    connection = await asyncpg.connect(with_database_name(BASE_POSTGRES_DSN, "postgres"))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Templates:
    """The migrated templates of this process, built the first time each is needed."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="tipline-templates-"))
        self._sqlite: Path | None = None
        self._postgres: str | None = None
        self._secret: Path | None = None

    @property
    def secret_file(self) -> Path:
        """The CSRF secret every test's data dir starts with (one app per process serves
        them all, and the app keeps the secret it was built with)."""
        if self._secret is None:
            data_dir = self.root / "secret"
            server_secret(base_settings(data_dir))
            self._secret = data_dir / "secret.key"
        return self._secret

    @property
    def sqlite_data_dir(self) -> Path:
        if self._sqlite is None:
            data_dir = self.root / "sqlite"
            migrate(base_settings(data_dir))
            shutil.copy2(self.secret_file, data_dir / "secret.key")
            self._sqlite = data_dir
        return self._sqlite

    @property
    def postgres_template(self) -> str:
        """The name of this process's migrated PostgreSQL template database."""
        if self._postgres is None:
            name = database_name(POSTGRES_DSN) + TEMPLATE_SUFFIX
            asyncio.run(
                _admin_execute(
                    f"DROP DATABASE IF EXISTS {_quoted(name)} WITH (FORCE)",
                    f"CREATE DATABASE {_quoted(name)}",
                )
            )
            migrate(base_settings(self.root / "postgres", with_database_name(POSTGRES_DSN, name)))
            self._postgres = name
        return self._postgres

    def copy_sqlite(self, data_dir: Path) -> None:
        """A fresh migrated SQLite data dir at ``data_dir``."""
        shutil.copytree(self.sqlite_data_dir, data_dir, dirs_exist_ok=True)

    def copy_secret(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(self.secret_file, data_dir / "secret.key")

    def recreate_postgres(self, *, migrated: bool = True) -> str:
        """This process's test database as the template left it (or empty, without a
        table), after the trace scan has searched what the last test left; its DSN."""
        if migrated:
            asyncio.run(_search_then_reset(POSTGRES_DSN, self.postgres_template))
        else:
            asyncio.run(_search_then_recreate(POSTGRES_DSN, "template0"))
        return POSTGRES_DSN

    def drop(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        if self._postgres is not None:
            asyncio.run(
                _admin_execute(f"DROP DATABASE IF EXISTS {_quoted(self._postgres)} WITH (FORCE)")
            )


_SCHEMA_SIGNATURE = """
SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ',' ORDER BY 1)
FROM information_schema.columns WHERE table_schema = 'public'
"""


async def _search_then_reset(dsn: str, template: str) -> None:
    """Empty every table but Piccolo's record of migrations and restart every sequence:
    the template's state, in ~50 ms. (``DROP DATABASE`` waits for a checkpoint, 0.4-7 s
    on a busy machine, and ``TRUNCATE`` of ~65 tables ~1 s.) A database whose schema is
    not the template's (a test dropped or altered tables) is made again from it."""
    try:
        connection = await asyncpg.connect(dsn)
    except asyncpg.InvalidCatalogNameError:
        await _recreate(dsn, template)
        return
    try:
        await trace_scan.search_postgres(connection)
        if await connection.fetchval(_SCHEMA_SIGNATURE) == await _template_signature(template):
            await connection.execute(await _emptying_sql(connection))
            return
    finally:
        await connection.close()
    await _recreate(dsn, template)


_SIGNATURES: dict[str, str] = {}


async def _template_signature(template: str) -> str:
    if template not in _SIGNATURES:
        connection = await asyncpg.connect(with_database_name(BASE_POSTGRES_DSN, template))
        try:
            _SIGNATURES[template] = await connection.fetchval(_SCHEMA_SIGNATURE)
        finally:
            await connection.close()
    return _SIGNATURES[template]


async def _emptying_sql(connection: asyncpg.Connection) -> str:
    """Rows go without their foreign keys' triggers (``session_replication_role``), so
    no order is needed; sequences start again at 1."""
    tables = await connection.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> $1",
        MIGRATION_TABLE,
    )
    sequences = await connection.fetch(
        "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
    )
    return "".join(
        [
            "SET session_replication_role = replica;",
            *(f"DELETE FROM public.{_quoted(row[0])};" for row in tables),
            *(f"ALTER SEQUENCE public.{_quoted(row[0])} RESTART;" for row in sequences),
            "SET session_replication_role = DEFAULT;",
        ]
    )


async def search_postgres(dsn: str) -> None:
    """The trace scan over what is in ``dsn``'s database now (nothing if it is gone)."""
    try:
        connection = await asyncpg.connect(dsn)
    except asyncpg.InvalidCatalogNameError:
        return
    try:
        await trace_scan.search_postgres(connection)
    finally:
        await connection.close()


async def _search_then_recreate(dsn: str, template: str) -> None:
    await search_postgres(dsn)
    await _recreate(dsn, template)


async def _recreate(dsn: str, template: str) -> None:
    name = _quoted(database_name(dsn))
    await _admin_execute(
        f"DROP DATABASE IF EXISTS {name} WITH (FORCE)",
        f"CREATE DATABASE {name} TEMPLATE {_quoted(template)}",
    )


async def reset_postgres(dsn: str) -> None:
    """Drop every table of ``dsn``'s database (after the trace scan has searched them):
    no tables at all, a restore's or a migration's target."""
    try:
        connection = await asyncpg.connect(dsn)
    except asyncpg.InvalidCatalogNameError:
        await _admin_execute(f"CREATE DATABASE {_quoted(database_name(dsn))}")
        return
    try:
        await trace_scan.search_postgres(connection)
        await connection.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


TEMPLATES = Templates()
