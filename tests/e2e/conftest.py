"""Real-browser tests: the real ``tipline serve`` in a subprocess, driven by Chromium.

Chromium is Debian's (``/usr/bin/chromium`` or ``TIPLINE_TEST_CHROMIUM``), never a
browser Playwright downloads. Without one, these tests are skipped with the reason
(``TIPLINE_TEST_REQUIRE_ALL`` turns that into a failure in CI).

The server and the browser live for this folder only (package scope), and the sync
Playwright API is used from plain (non-async) tests, so Playwright's event loop never
meets pytest-asyncio's.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from tests.conftest import POSTGRES_DSN, REPO_ROOT
from tests.databases import with_database_name
from tipline import devserver

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Response

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
START_TIMEOUT_SECONDS = 60


def chromium_path() -> str | None:
    configured = os.environ.get("TIPLINE_TEST_CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() else None
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


class LiveServer:
    """A running ``tipline serve`` on its own fresh data dir, and the CLI on the same data."""

    def __init__(self, data_dir: Path, database_url: str | None = None) -> None:
        self.data_dir = data_dir
        self.port = devserver.free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir.parent / "server.log"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
        self.env.update(
            TIPLINE_DATA_DIR=str(data_dir),
            TIPLINE_SECURE_COOKIES="0",
            TIPLINE_SCHEDULER="0",
            TIPLINE_BASE_URL=self.base_url,
        )
        if database_url:
            self.env["TIPLINE_DATABASE_URL"] = database_url
        self.process: subprocess.Popen[bytes] | None = None

    def cli(
        self, *args: str, input: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run ``tipline ARGS`` as the operator of this server would."""
        result = subprocess.run(
            [sys.executable, "-m", "tipline", *args],
            input=input,
            capture_output=True,
            text=True,
            env=self.env,
            cwd=REPO_ROOT,
            timeout=120,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"tipline {' '.join(args)} exited {result.returncode}:\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    def log(self) -> str:
        return devserver.read_log(self.log_path)

    def start(self) -> None:
        self.cli("migrate")
        self.process = devserver.start(
            [sys.executable, "-m", "tipline", "serve", "--port", str(self.port)],
            self.base_url,
            self.log_path,
            env=self.env,
            cwd=REPO_ROOT,
            timeout=START_TIMEOUT_SECONDS,
            stop_timeout=10,
        )

    def stop(self) -> None:
        devserver.stop(self.process, timeout=10)


@pytest.fixture(scope="package")
def chromium_executable() -> str:
    path = chromium_path()
    if path is None:
        pytest.skip(
            "browser tests: no Chromium at TIPLINE_TEST_CHROMIUM or /usr/bin/chromium "
            "(apt-get install chromium)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip(
            "browser tests: the playwright package is not installed (pip install -e '.[dev]')"
        )
    return path


def own_database(suffix: str, create: bool) -> str:
    """A database of its own next to the test database (which other tests keep
    emptying), ``<test database><suffix>``: dropped, then created when ``create``;
    returns its DSN."""
    parts = urlsplit(POSTGRES_DSN)
    name = parts.path.lstrip("/") + suffix

    async def run() -> None:
        connection = await asyncpg.connect(with_database_name(POSTGRES_DSN, "postgres"))
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if create:
                await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    # Playwright's sync API keeps an event loop running in this thread: use another.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run()).result()
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture(
    scope="package", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The real server, migrated, on a free port of 127.0.0.1: on SQLite, and on
    PostgreSQL (two workers) when ``TIPLINE_TEST_POSTGRES`` is set."""
    database_url = None
    if request.param == "postgres":
        if not POSTGRES_DSN:
            pytest.skip("PostgreSQL run: set TIPLINE_TEST_POSTGRES to a DSN to run it")
        database_url = own_database("_e2e", create=True)
    server = LiveServer(tmp_path_factory.mktemp("live") / "data", database_url)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        if database_url:
            own_database("_e2e", create=False)


# ``tipline demo``'s table of accounts: username, role, unit, password.
DEMO_PASSWORD_LINE = re.compile(r"^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)$")


@pytest.fixture(scope="module")
def demo_server(
    tmp_path_factory: pytest.TempPathFactory, chromium_executable: str
) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    """A live server of the module's own (SQLite) with ``tipline demo``'s data, and the
    demo accounts' passwords by username."""
    server = LiveServer(tmp_path_factory.mktemp("va") / "data")
    server.start()
    try:
        output = server.cli("demo").stdout
        passwords = {
            m.group(1): m.group(4)
            for line in output.splitlines()
            if (m := DEMO_PASSWORD_LINE.match(line.strip())) and m.group(1) != "username"
        }
        assert {"township_staff", "county_staff"} <= passwords.keys(), output
        yield server, passwords
    finally:
        server.stop()


@pytest.fixture(scope="package")
def browser(chromium_executable: str) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


def _new_context(browser: Browser, live_server: LiveServer, **options: Any) -> BrowserContext:
    context = browser.new_context(base_url=live_server.base_url, locale="zh-CN", **options)
    context.set_default_timeout(15_000)
    # Anything not on our own server is a bug (docs/ARCHITECTURE.md principle 2): refuse it loudly.
    context.route(
        lambda url: not url.startswith(live_server.base_url),
        lambda route: route.abort("blockedbyclient"),
    )
    return context


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) per test."""
    ctx = _new_context(browser, live_server)
    try:
        yield ctx
    finally:
        ctx.close()


def _watch(page: Page) -> list[str]:
    """Collect what a person would never see but a broken page shows in the console."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # A 4xx page is logged as "Failed to load resource" too: judged by on_response.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(f"console {message.type}: {message.text}")

    def on_response(response: Response) -> None:
        if response.request.resource_type != "document" and response.status >= 400:
            problems.append(f"{response.status} for {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    return problems


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A page that fails the test on any console error (a CSP violation shows there)."""
    new_page = context.new_page()
    problems = _watch(new_page)
    yield new_page
    assert not problems, "\n".join(problems)


@pytest.fixture
def no_js_page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A browser with JavaScript switched off, as a cautious tipster's may be."""
    ctx = _new_context(browser, live_server, java_script_enabled=False)
    try:
        new_page = ctx.new_page()
        problems = _watch(new_page)
        yield new_page
        assert not problems, "\n".join(problems)
    finally:
        ctx.close()
