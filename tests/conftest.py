"""Fixtures shared by every test: the settings, a fresh database, the app and a client.

Every test that takes ``settings`` (directly or through ``app``/``client``) runs
twice: on a fresh SQLite file and, when ``TIPLINE_TEST_POSTGRES`` holds a DSN, on a
freshly emptied PostgreSQL database. Without it the PostgreSQL runs are skipped
with a reason; with ``TIPLINE_TEST_REQUIRE_ALL=1`` (CI) every skip is a failure.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tipline import db
from tipline.app import create_app
from tipline.settings import Settings

POSTGRES_DSN = os.environ.get("TIPLINE_TEST_POSTGRES", "")
REQUIRE_ALL = os.environ.get("TIPLINE_TEST_REQUIRE_ALL", "") not in ("", "0")
REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    """In CI (``TIPLINE_TEST_REQUIRE_ALL``) a skipped test is a failed test."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if REQUIRE_ALL and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, but TIPLINE_TEST_REQUIRE_ALL is set: {report.longrepr}"


async def reset_postgres(dsn: str) -> None:
    """Empty the test database: drop and recreate the public schema."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


def make_settings(database: str, data_dir: Path) -> Settings:
    database_url = None
    if database == "postgres":
        if not POSTGRES_DSN:
            pytest.skip("PostgreSQL run: set TIPLINE_TEST_POSTGRES to a DSN to run it")
        asyncio.run(reset_postgres(POSTGRES_DSN))
        database_url = POSTGRES_DSN
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        secure_cookies=False,
        scheduler=False,
        base_url="http://testserver.local",
        login_throttle_base_seconds=1,
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> str:
    """Which database this run of the test uses."""
    return str(request.param)


@pytest.fixture
def settings(database: str, tmp_path: Path) -> Settings:
    return make_settings(database, tmp_path / "data")


@pytest.fixture
async def app(settings: Settings) -> Litestar:
    """The application on an empty, fully created schema."""
    application = create_app(settings)
    await db.create_all_tables()
    return application


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app, base_url="http://testserver.local") as test_client:
        yield test_client


def cli_env(settings: Settings) -> dict[str, str]:
    """The environment a ``tipline`` process needs to use ``settings``' database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    env["TIPLINE_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url:
        env["TIPLINE_DATABASE_URL"] = settings.database_url
    env["TIPLINE_SECURE_COOKIES"] = "0"
    return env


def run_cli(
    settings: Settings, *args: str, input: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the real ``tipline`` command as an operator would, in a new process."""
    return subprocess.run(
        [sys.executable, "-m", "tipline", *args],
        input=input,
        capture_output=True,
        text=True,
        env=cli_env(settings),
        cwd=REPO_ROOT,
        timeout=timeout,
        check=False,
    )
