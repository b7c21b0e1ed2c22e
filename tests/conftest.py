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

from tests import trace_scan
from tests.trace_scan import _remember_receipts, pytest_runtest_logfinish  # noqa: F401
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


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The trace scan (``tests/trace_scan.py``) over everything the session's service
    instances wrote: any hit fails the run."""
    if not trace_scan.TRACES.tests_run:
        return
    base = session.config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    summary, hits, searched = trace_scan.run_scan(base, POSTGRES_DSN)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [summary, *hits]
    if REQUIRE_ALL and not searched and trace_scan.TRACES.tests_run > 100:
        lines.append("trace scan found no data dir to search after the whole suite")
        hits.append(lines[-1])
    for line in lines:
        if reporter is not None:
            reporter.write_line(line, red=bool(hits), green=not hits)
        else:
            print(line)
    if hits:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


async def reset_postgres(dsn: str) -> None:
    """Empty the test database: drop and recreate the public schema (after the trace
    scan has searched what the last test left in it)."""
    connection = await asyncpg.connect(dsn)
    try:
        await trace_scan.search_postgres(connection)
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
async def app(settings: Settings) -> AsyncIterator[Litestar]:
    """The application on an empty, fully created schema.

    On SQLite the engine's pool is open for the whole test (as in a running server),
    and closed at the end so no connection outlives the test.
    """
    application = create_app(settings)
    await db.create_all_tables()
    bound = db.engine()
    if isinstance(bound, db.TiplineSQLiteEngine):
        await bound.open_pool()
    try:
        yield application
    finally:
        if isinstance(bound, db.TiplineSQLiteEngine):
            await bound.close_pool()


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app, base_url="http://testserver.local") as test_client:
        # The client runs the app (and its lifespan) in its own thread and event loop. A
        # PostgreSQL pool opened there cannot serve the queries a test makes in its own
        # loop ("attached to a different loop"), so close it: without a pool, Piccolo
        # opens a connection per query in whichever loop asks. (SQLite's pooled
        # connections serve any loop: its pool stays open.)
        if db.is_postgres():
            test_client.blocking_portal.call(db.close_pool)
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


# --- accounts: accounts and signed-in clients (helper A) --------------------------------
#
# For tests of any package that need a signed-in user:
#
#     async def test_admin_page(admin_client):            # a client signed in as an admin
#         response = await admin_client.get("/admin/orgunits")
#
#     async def test_two_users(client, app):
#         account = await sign_in(client, Role.township_staff)   # signs in through the API
#         other = await extra_client(app)                         # a second cookie jar
#         await sign_in(other, Role.admin)
#
# ``sign_in`` creates the org units it needs (the county and one township, unless the
# database already has them), creates an account of the role, enrols TOTP for the roles
# that require it, and signs in through ``POST /api/v1/auth/login``. It returns the
# account as a dict: id, username, password, role, org_unit_id, totp_secret (or None).
# For HTML forms, post the CSRF cookie as the ``_csrf_token`` field (``csrf_form``).

TEST_PASSWORD = "Seven Bridges Over Quiet Water 7"


@pytest.fixture(autouse=True)
def fast_password_hashing() -> Iterator[None]:
    """Cheap argon2id parameters inside the test process (the CLI subprocesses keep the
    real ones): every sign-in hashes, and the real cost is ~0.1-0.5 s and 64 MiB a hash."""
    from argon2 import PasswordHasher

    from tipline.accounts import passwords

    passwords.HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        yield
    finally:
        passwords.HASHER = passwords.DEFAULT_HASHER


TEST_COUNTY_CODE = "999900"
TEST_TOWNSHIP_CODE = "999901"


async def ensure_test_org_units() -> dict[str, int]:
    """The ids of a county and a township: existing ones, or new test units."""
    from tipline.orgunits.tables import OrgUnit, OrgUnitKind

    county = await OrgUnit.select(OrgUnit.id).where(OrgUnit.kind == OrgUnitKind.county).first()
    if county is None:
        rows = await OrgUnit.insert(
            OrgUnit(code=TEST_COUNTY_CODE, name="测试县", kind=OrgUnitKind.county)
        ).returning(OrgUnit.id)
        county = rows[0]
    township = (
        await OrgUnit.select(OrgUnit.id)
        .where(OrgUnit.kind.is_in([OrgUnitKind.township, OrgUnitKind.farm]))
        .first()
    )
    if township is None:
        rows = await OrgUnit.insert(
            OrgUnit(
                code=TEST_TOWNSHIP_CODE,
                name="测试镇",
                kind=OrgUnitKind.township,
                parent=county["id"],
            )
        ).returning(OrgUnit.id)
        township = rows[0]
    return {"county": int(county["id"]), "township": int(township["id"])}


async def make_account(
    role: Any = None,
    *,
    username: str | None = None,
    password: str = TEST_PASSWORD,
    org_unit_id: int | None = None,
    enrol_totp: bool = True,
) -> dict[str, Any]:
    """Create an account of ``role`` (default admin); TOTP roles get a secret unless told not."""
    import secrets as _secrets

    from tipline.accounts import services, totp
    from tipline.accounts.tables import Account
    from tipline.auth import ROLES_REQUIRING_TOTP, Role
    from tipline.ledger.services import SYSTEM

    role = Role(role or Role.admin)
    units = await ensure_test_org_units()
    if org_unit_id is None:
        org_unit_id = units["township" if role is Role.township_staff else "county"]
    username = username or f"{role.value.replace('_', '-')}-{_secrets.token_hex(3)}"
    account_id = await services.create_account(
        SYSTEM,
        username=username,
        display_name=f"Test {role.value}",
        role=role,
        org_unit_id=org_unit_id,
        password=password,
    )
    secret = None
    if enrol_totp and role in ROLES_REQUIRING_TOTP:
        secret = totp.new_secret()
        await Account.update({Account.totp_secret: secret}).where(Account.id == account_id)
    return {
        "id": account_id,
        "username": username,
        "password": password,
        "role": role,
        "org_unit_id": org_unit_id,
        "totp_secret": secret,
    }


async def next_totp_code(account: dict[str, Any]) -> str:
    """A code the account has not used yet (the current step, or the next if it is used)."""
    from tipline.accounts import totp
    from tipline.accounts.tables import Account

    row = await Account.select(Account.totp_last_step).where(Account.id == account["id"]).first()
    step = totp.current_step()
    if row and row["totp_last_step"] is not None and row["totp_last_step"] >= step:
        step = row["totp_last_step"] + 1
    return totp.code_at_step(account["totp_secret"], step)


async def log_in(client: AsyncTestClient[Litestar], account: dict[str, Any]) -> Any:
    """Sign ``account`` in through the API (with a fresh TOTP code); returns the response."""
    body = {"username": account["username"], "password": account["password"]}
    if account.get("totp_secret"):
        body["totp"] = await next_totp_code(account)
    return await client.post("/api/v1/auth/login", json=body)


async def sign_in(
    client: AsyncTestClient[Litestar], role: Any = None, **kwargs: Any
) -> dict[str, Any]:
    """Create an account of ``role`` (see ``make_account``) and sign ``client`` in as it."""
    account = await make_account(role, **kwargs)
    response = await log_in(client, account)
    assert response.status_code == 200, response.text
    return account


async def extra_client(app: Litestar) -> AsyncTestClient[Litestar]:
    """A second client with its own cookies, sharing the app (and its running lifespan)."""
    return AsyncTestClient(app, base_url="http://testserver.local")


async def csrf_form(client: AsyncTestClient[Litestar], page: str, **fields: Any) -> dict[str, Any]:
    """``fields`` plus the CSRF token, after GETting ``page`` to obtain the CSRF cookie."""
    response = await client.get(page)
    assert response.status_code < 400, response.text
    return {**fields, "_csrf_token": client.cookies.get("csrftoken")}


@pytest.fixture
async def admin_client(client: AsyncTestClient[Litestar]) -> AsyncTestClient[Litestar]:
    """``client`` signed in as an admin (with TOTP enrolled)."""
    await sign_in(client, "admin")
    return client


@pytest.fixture
async def officer_client(client: AsyncTestClient[Litestar]) -> AsyncTestClient[Litestar]:
    await sign_in(client, "officer")
    return client


@pytest.fixture
async def inspector_client(client: AsyncTestClient[Litestar]) -> AsyncTestClient[Litestar]:
    await sign_in(client, "inspector")
    return client


@pytest.fixture
async def county_staff_client(client: AsyncTestClient[Litestar]) -> AsyncTestClient[Litestar]:
    await sign_in(client, "county_staff")
    return client


@pytest.fixture
async def township_staff_client(client: AsyncTestClient[Litestar]) -> AsyncTestClient[Litestar]:
    await sign_in(client, "township_staff")
    return client


# --- end of accounts section -------------------------------------------------------------
