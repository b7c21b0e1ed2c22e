"""Several server processes on one PostgreSQL database (issue 9).

Real ``tipline serve`` processes, started as an operator would: an officer signed in on
one process reads a sealed tip through any other (the session and the session-bound key
live in the database, not in a process), and with the scheduler on in two processes
each job runs once, in the process holding the advisory lock. SQLite refuses
``--workers 2`` with a message that says why.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from tests.conftest import REPO_ROOT, cli_env, next_totp_code, run_cli
from tests.tipline.intake.support import open_tip_box
from tipline.intake import services as intake
from tipline.intake.schemas import TipInput
from tipline.scheduler.services import JOBS
from tipline.settings import Settings
from tipline.workdays.tables import JobRun

START_SECONDS = 60
SERVE = [sys.executable, "-m", "tipline", "serve"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


class ServerProcess:
    """``python -m tipline serve`` on a free port, stopped (the whole group) at the end."""

    def __init__(
        self, settings: Settings, log: Path, *, workers: int, scheduler: bool, env: dict[str, str]
    ) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = {**cli_env(settings), **env}
        env["TIPLINE_SCHEDULER"] = "1" if scheduler else "0"
        env["TIPLINE_BASE_URL"] = self.base_url
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [*SERVE, "--port", str(self.port), "--workers", str(workers)],
                env=env,
                cwd=REPO_ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            assert self.process.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(self.base_url + "/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"the server did not start:\n{log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(timeout=10)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.stop()


def _start(
    servers: list[ServerProcess],
    settings: Settings,
    *,
    workers: int,
    scheduler: bool = False,
    env: dict[str, str] | None = None,
) -> ServerProcess:
    log = Path(settings.data_dir).parent / f"server-{len(servers)}.log"
    server = ServerProcess(settings, log, workers=workers, scheduler=scheduler, env=env or {})
    servers.append(server)
    return server


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_an_officer_signed_in_on_one_process_reads_a_tip_through_every_process(
    app: Litestar, settings: Settings, servers: list[ServerProcess]
) -> None:
    box = await open_tip_box(settings)
    officer = box["officer"]
    submitted = await intake.submit_tip(
        settings, TipInput(category="village_bully", content="鱼塘承包费去向不明（多进程）")
    )
    two_workers = await asyncio.to_thread(_start, servers, settings, workers=2)
    other = await asyncio.to_thread(_start, servers, settings, workers=1)
    assert len(_children(two_workers.process.pid)) >= 2  # uvicorn's two worker processes

    async with httpx.AsyncClient(base_url=two_workers.base_url, timeout=30) as signing_in:
        answer = await signing_in.post(
            "/api/v1/auth/login",
            json={
                "username": officer["username"],
                "password": officer["password"],
                "totp": await next_totp_code(officer),
            },
        )
        assert answer.status_code == 200, answer.text
        cookies = dict(signing_in.cookies.items())
    assert {"tipline_session", "tipline_key"} <= set(cookies)

    # A new connection per request: the kernel hands each to whichever worker accepts
    # it, and every other request goes to a process that never saw the sign-in.
    for number in range(20):
        base = (two_workers if number % 2 == 0 else other).base_url
        async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=30) as reader:
            answer = await reader.get(f"/api/v1/cases/{submitted.ledger_no}")
        assert answer.status_code == 200, (number, answer.text)
        assert "鱼塘承包费去向不明（多进程）" in answer.text


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_tips_sent_to_two_workers_at_once_get_gap_free_ledger_numbers(
    app: Litestar, settings: Settings, servers: list[ServerProcess]
) -> None:
    """The submissions run on each worker's writer thread; both workers draw numbers
    from the same counter row."""
    await open_tip_box(settings)
    # Every request comes from 127.0.0.1, which the tip box's per-address limit would stop.
    server = await asyncio.to_thread(
        _start, servers, settings, workers=2, env={"TIPLINE_TIPSTER_RATE_LIMIT": "0"}
    )
    body = {"category": "village_bully", "content": "砂石场夜间运输压坏村道"}

    async def submit(number: int) -> str:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as tipster:
            answer = await tipster.post("/api/v1/tips", json=body)
        assert answer.status_code == 201, (number, answer.text)
        return str(answer.json()["ledger_no"])

    numbers = await asyncio.gather(*(submit(number) for number in range(24)))
    assert sorted(int(number.split("-")[1]) for number in numbers) == list(range(1, 25))


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_two_processes_with_the_scheduler_run_each_job_once(
    app: Litestar, settings: Settings, servers: list[ServerProcess]
) -> None:
    await asyncio.to_thread(_start, servers, settings, workers=1, scheduler=True)
    await asyncio.to_thread(_start, servers, settings, workers=1, scheduler=True)
    at_start = {job.id for job in JOBS if job.run_at_start}
    deadline = time.monotonic() + 60
    runs: dict[str, int] = {}
    while time.monotonic() < deadline:
        runs = {row["job_id"]: row["runs"] for row in await JobRun.select()}
        if at_start <= set(runs):
            break
        await asyncio.sleep(0.5)
    assert at_start <= set(runs), runs
    # Both processes held an election at start; a second leader would run every job
    # again right away (run_at_start). Wait well past that and count.
    await asyncio.sleep(5)
    runs = {row["job_id"]: row["runs"] for row in await JobRun.select()}
    assert {job_id: runs[job_id] for job_id in at_start} == dict.fromkeys(at_start, 1)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_several_workers_on_sqlite_are_refused_with_the_reason(settings: Settings) -> None:
    result = run_cli(settings, "serve", "--workers", "2", "--port", str(_free_port()))
    assert result.returncode == 2
    assert "--workers > 1 needs PostgreSQL" in result.stderr
