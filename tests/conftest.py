"""Fixtures shared by every test: the settings, a migrated database, the app and a client.

Every test that takes ``settings`` (directly or through ``tipline_db``/``app``/``client``)
runs twice: on SQLite and, when ``TIPLINE_TEST_POSTGRES`` holds a DSN, on PostgreSQL.
Without it the PostgreSQL runs are skipped with a reason; with
``TIPLINE_TEST_REQUIRE_ALL=1`` (CI) every skip is a failure.

Each test's database is a copy of one migrated template (``tests/databases.py``), and
the Litestar app is built once per process and bound to each test's settings
(``tipline.app.bind``). ``TIPLINE_TEST_TODAY=YYYY-MM-DD`` runs every test with the
clock moved to that day (``clock``), which CI does for the date-sensitive packages.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import io
import os
import subprocess
import sys
import traceback
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests import trace_scan
from tests.client import TestClient
from tests.databases import (
    POSTGRES_DSN,
    REPO_ROOT,
    TEMPLATES,
    base_settings,
    cli_env,
    reset_postgres,
    search_postgres,
)
from tests.trace_scan import _remember_receipts, pytest_runtest_logfinish  # noqa: F401
from tipline import db
from tipline.app import bind, create_app, install
from tipline.settings import Settings

__all__ = ["POSTGRES_DSN", "REPO_ROOT", "cli_env", "reset_postgres"]

REQUIRE_ALL = os.environ.get("TIPLINE_TEST_REQUIRE_ALL", "") not in ("", "0")
TEST_TODAY = os.environ.get("TIPLINE_TEST_TODAY", "")
CHINA = dt.timezone(dt.timedelta(hours=8))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    """In CI (``TIPLINE_TEST_REQUIRE_ALL``) a skipped test is a failed test."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if REQUIRE_ALL and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, but TIPLINE_TEST_REQUIRE_ALL is set: {report.longrepr}"


def pytest_report_header(config: pytest.Config) -> list[str]:
    if TEST_TODAY:
        return [f"clock moved to {TEST_TODAY} (TIPLINE_TEST_TODAY) for every test"]
    return []


def pytest_testnodedown(node: Any, error: Any) -> None:
    """Under xdist the controller collects every worker's trace scan."""
    output = getattr(node, "workeroutput", {})
    trace_scan.TRACES.worker_reports.append(
        (output.get("trace_summary", ""), list(output.get("trace_hits", [])))
    )


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The trace scan (``tests/trace_scan.py``) over everything the session's service
    instances wrote: any hit fails the run. Each xdist worker scans what its tests
    wrote and hands its result to the controller, which reports them all."""
    worker_output = getattr(session.config, "workeroutput", None)
    lines: list[str] = []
    hits: list[str] = []
    # Under xdist the controller runs no test itself: its workers scanned their own.
    if trace_scan.TRACES.tests_run and not trace_scan.TRACES.worker_reports:
        if POSTGRES_DSN:
            asyncio.run(search_postgres(POSTGRES_DSN))
        base = session.config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
        summary, hits, searched = trace_scan.run_scan(base)
        lines = [summary, *hits]
        if REQUIRE_ALL and not searched and trace_scan.TRACES.tests_run > 100:
            lines.append("trace scan found no data dir to search after the whole suite")
            hits.append(lines[-1])
    TEMPLATES.drop()
    if worker_output is not None:
        worker_output["trace_summary"] = lines[0] if lines else ""
        worker_output["trace_hits"] = hits
        return
    for summary, worker_hits in trace_scan.TRACES.worker_reports:
        lines += [summary, *worker_hits] if summary else worker_hits
        hits += worker_hits
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for line in lines:
        if reporter is not None:
            reporter.write_line(line, red=bool(hits), green=not hits)
        else:
            print(line)
    if hits:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def make_settings(database: str, data_dir: Path, *, migrated: bool = True) -> Settings:
    """Settings on a freshly migrated copy of the template (or, ``migrated=False``, on a
    database without a table): a SQLite file in ``data_dir``, or this process's
    PostgreSQL test database."""
    if database == "postgres":
        if not POSTGRES_DSN:
            pytest.skip("PostgreSQL run: set TIPLINE_TEST_POSTGRES to a DSN to run it")
        dsn = TEMPLATES.recreate_postgres(migrated=migrated)
        TEMPLATES.copy_secret(data_dir)
        return base_settings(data_dir, dsn)
    if migrated:
        TEMPLATES.copy_sqlite(data_dir)
    else:
        TEMPLATES.copy_secret(data_dir)
    return base_settings(data_dir)


@pytest.fixture
def unmigrated_settings(database: str, tmp_path: Path) -> Settings:
    """Settings on a database without a table: what a county has before ``tipline migrate``."""
    return make_settings(database, tmp_path / "data", migrated=False)


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    """With ``TIPLINE_TEST_TODAY`` set, every test runs on that day in China (from 09:00,
    the clock ticking): a test that silently depends on the real date fails there."""
    if not TEST_TODAY:
        yield
        return
    with moved_clock(TEST_TODAY):
        yield


@contextlib.contextmanager
def moved_clock(day: str) -> Iterator[None]:
    """The process's clock (``time``, ``datetime``, ``date.today``) at 09:00 China time on
    ``day``, ticking on; threads and event loops of this process see it too."""
    start = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(9), CHINA)
    with time_machine.travel(start, tick=True):
        yield


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> str:
    """Which database this run of the test uses."""
    return str(request.param)


@pytest.fixture
def settings(database: str, tmp_path: Path) -> Settings:
    return make_settings(database, tmp_path / "data")


@pytest.fixture
async def tipline_db(settings: Settings) -> AsyncIterator[Settings]:
    """The service layer wired to this test's migrated database, without an app (the
    same wiring and pools a server has: ``tipline.app.install``, ``db.open_pool``), for
    tests of services."""
    install(settings)
    await db.open_pool()
    try:
        yield settings
    finally:
        await db.close_pool()


@contextlib.asynccontextmanager
async def _sqlite_pool_open() -> AsyncIterator[None]:
    """The bound SQLite engine's pool open for the test, as in a running server, and
    closed after it so no connection outlives the test. (A PostgreSQL pool is opened by
    the client's lifespan, as a server's is: opened here too, the lifespan's would be
    the second.)"""
    bound = db.engine()
    if isinstance(bound, db.TiplineSQLiteEngine):
        await bound.open_pool()
    try:
        yield
    finally:
        if isinstance(bound, db.TiplineSQLiteEngine):
            await bound.close_pool()


_APPS: dict[tuple[bytes, bool], Litestar] = {}


def app_for(settings: Settings) -> Litestar:
    """The process's app for settings like these, bound to ``settings``.

    Building the app walks ~500 routes (~0.5 s); what it fixes for good is the CSRF
    secret (the template's, which every test's data dir starts with) and the cookie
    flags, so one app per pair serves every test.
    """
    from tipline.web.security import server_secret

    key = (server_secret(settings), settings.secure_cookies)
    application = _APPS.get(key)
    if application is None:
        application = _APPS[key] = create_app(settings)
    else:
        bind(application, settings)
    return application


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Litestar]:
    """The application on this test's migrated database."""
    application = app_for(settings)
    async with _sqlite_pool_open():
        yield application


@pytest.fixture
async def own_app(settings: Settings) -> AsyncIterator[Litestar]:
    """An app of this test's own, for a test that changes the app itself (adds routes)."""
    application = create_app(settings)
    async with _sqlite_pool_open():
        yield application


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """A client of the app in the test's own event loop (``tests/client.py``)."""
    async with TestClient(app) as test_client:
        yield test_client


IN_PROCESS_UNSAFE = frozenset({"serve"})
"""Commands that only make sense in a process of their own (``serve`` never returns)."""


def run_cli(
    settings: Settings,
    *args: str,
    input: str | None = None,
    timeout: float = 120,
    process: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run the ``tipline`` command as an operator would: its exit status, output and errors.

    By default in this process (``tipline.cli.main(argv)``, ~1 s less per call than an
    interpreter start); ``process=True`` starts the real command in a new process,
    which each command group's smoke test does.
    """
    if process or (args and args[0] in IN_PROCESS_UNSAFE):
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
    with concurrent.futures.ThreadPoolExecutor(1) as runner:
        return runner.submit(_run_cli_here, settings, list(args), input).result(timeout)


def _run_cli_here(
    settings: Settings, argv: list[str], input: str | None
) -> subprocess.CompletedProcess[str]:
    """``tipline.cli.main(argv)`` with the command's environment, stdin and output, in a
    thread of its own (a test's running event loop cannot host the command's
    ``asyncio.run``); the tables' binding is given back afterwards."""
    from tipline.cli import main

    saved_env = dict(os.environ)
    saved_stdin = sys.stdin
    bound = db._current
    out, err = io.StringIO(), io.StringIO()
    os.environ.clear()
    os.environ.update(cli_env(settings))
    sys.stdin = io.StringIO(input or "")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exit:
                code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
            except Exception:
                traceback.print_exc()
                code = 1
    finally:
        sys.stdin = saved_stdin
        os.environ.clear()
        os.environ.update(saved_env)
        if bound is not None:
            db.bind(bound)
    return subprocess.CompletedProcess(
        ["tipline", *argv], code, stdout=out.getvalue(), stderr=err.getvalue()
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
    return TestClient(app)


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
