"""The crash test's machinery: a real server killed under load, and an offline checker.

Modelled on Jepsen's rule "an acknowledged write is never lost" and SQLite's crash
tests: submissions are classified by what the client saw, the server is killed with
SIGKILL (no shutdown handler runs), restarted, and after all rounds the data is
checked offline with nothing but the data dir, the officers' passwords and the
escrow private key:

* ``PRAGMA integrity_check`` is ``ok`` (SQLite);
* every acknowledged receipt (201 with a receipt) finds its tip by the receipt's
  keyed hash (``lost`` otherwise);
* every stored tip decrypts with every officer's key and the escrow key, and equals
  what was sent (``mismatched`` otherwise);
* ``tipline ledger verify`` passes and every tip has exactly one ``tip.received``;
* every stored tip that was not acknowledged is among the indeterminate submissions
  (``phantom`` otherwise: a tip refused, never sent, or not sent by us).

:func:`check` returns a :class:`CrashReport`; its ``problems`` must be empty.
"""

from __future__ import annotations

import asyncio
import collections
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import REPO_ROOT
from tipline import devserver
from tipline.devserver import free_port
from tipline.settings import Settings

OFFICER_PASSWORD = "Crash Test Officer Password 42"
OFFICERS = ("crash-officer-a", "crash-officer-b", "crash-officer-c")
CONCURRENCY = 32
START_TIMEOUT_SECONDS = 60
MARKER = "CRASHTEST"


def server_env(
    settings: Settings, base_url: str, extra: dict[str, str] | None = None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    env.update(
        TIPLINE_DATA_DIR=str(settings.data_dir),
        TIPLINE_SECURE_COOKIES="0",
        TIPLINE_SCHEDULER="0",
        TIPLINE_BASE_URL=base_url,
        # Every request comes from 127.0.0.1: the per-address limit would refuse most.
        TIPLINE_TIPSTER_RATE_LIMIT="0",
    )
    if settings.database_url:
        env["TIPLINE_DATABASE_URL"] = settings.database_url
    env.update(extra or {})
    return env


def run_cli(env: dict[str, str], *args: str, input: str | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "tipline", *args],
        input=input,
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=180,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"tipline {' '.join(args)} exited {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result.stdout


async def prepare(settings: Settings, escrow_path: Path) -> dict[str, int]:
    """Open the tip box on a migrated database: org units, three designated officers
    with known passwords, and an escrow key whose private half goes to ``escrow_path``.
    Returns the officers' account ids by username."""
    from tests.conftest import ensure_test_org_units
    from tipline import db
    from tipline.accounts.services import create_account
    from tipline.auth import Role
    from tipline.crypto.services import init_escrow_key
    from tipline.ledger.services import SYSTEM

    db.bind(db.make_engine(settings))
    await db.open_pool()
    try:
        units = await ensure_test_org_units()
        officers = {}
        for username in OFFICERS:
            officers[username] = await create_account(
                SYSTEM,
                username=username,
                display_name=username,
                role=Role.officer,
                org_unit_id=units["county"],
                password=OFFICER_PASSWORD,
            )
        await init_escrow_key(escrow_path)
        return officers
    finally:
        await db.close_pool()


class Server:
    """``tipline serve`` on a fixed port, started and killed again and again."""

    def __init__(self, env: dict[str, str], port: int, log_path: Path) -> None:
        self.env = env
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = devserver.start(
            [sys.executable, "-m", "tipline", "serve", "--port", str(self.port)],
            self.base_url,
            self.log_path,
            env=self.env,
            cwd=REPO_ROOT,
            append_log=True,
            timeout=START_TIMEOUT_SECONDS,
            interval=0.1,
        )

    def kill(self) -> None:
        """SIGKILL by PID: no shutdown handler, no flush, no goodbye."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        devserver.stop(self.process)

    def log(self) -> str:
        return devserver.read_log(self.log_path)


@dataclass
class Submission:
    key: str
    content: str
    outcome: str = "unsent"  # acknowledged | failed | indeterminate | unsent
    receipt: str | None = None
    status: int | None = None
    error: str | None = None


@dataclass
class Outcomes:
    submissions: dict[str, Submission] = field(default_factory=dict)

    def new(self, round_no: int, worker: int, index: int) -> Submission:
        key = f"{MARKER}-r{round_no:02d}-w{worker:02d}-n{index:04d}"
        content = f"{key} 村主任强占集体砂石场，拒不缴纳承包费。{'证据' * (index % 17)}"
        submission = Submission(key=key, content=content)
        self.submissions[key] = submission
        return submission

    def count(self, outcome: str) -> int:
        return sum(1 for s in self.submissions.values() if s.outcome == outcome)

    def by_content(self) -> dict[str, Submission]:
        return {s.content: s for s in self.submissions.values()}


async def load_until_killed(
    server: Server,
    outcomes: Outcomes,
    round_no: int,
    *,
    kill_after: float,
    on_kill: Callable[[], None] | None = None,
    concurrency: int = CONCURRENCY,
) -> None:
    """``concurrency`` submitters post tips back to back; after ``kill_after`` seconds
    the server is killed (or ``on_kill`` runs) and the submitters stop once their
    request ends. A request that never connected is ``unsent``; one that errs after it
    was sent is ``indeterminate`` (it may or may not have been stored)."""
    url = f"{server.base_url}/api/v1/tips"
    killed = asyncio.Event()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def submitter(client: httpx.AsyncClient, worker: int) -> None:
        index = 0
        while not killed.is_set():
            submission = outcomes.new(round_no, worker, index)
            index += 1
            body = {"category": "other", "content": submission.content}
            try:
                response = await client.post(url, json=body)
            except httpx.ConnectError as error:
                submission.outcome, submission.error = "unsent", type(error).__name__
                await asyncio.sleep(0.05)
                continue
            except (httpx.HTTPError, OSError) as error:
                submission.outcome, submission.error = "indeterminate", type(error).__name__
                continue
            submission.status = response.status_code
            receipt = None
            if response.status_code == 201:
                receipt = response.json().get("receipt")
            if response.status_code == 201 and receipt:
                submission.outcome, submission.receipt = "acknowledged", receipt
            elif 400 <= response.status_code < 500:
                submission.outcome = "failed"
            else:  # a 5xx promises nothing either way
                submission.outcome = "indeterminate"

    async def killer() -> None:
        await asyncio.sleep(kill_after)
        await asyncio.to_thread(on_kill or server.kill)
        killed.set()

    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        await asyncio.gather(killer(), *(submitter(client, w) for w in range(concurrency)))


def crash_rounds(
    server: Server, outcomes: Outcomes, rounds: int, *, seed: int, min_kill: float, max_kill: float
) -> list[float]:
    """Start, load, kill ``rounds`` times; returns the kill moments chosen."""
    chooser = random.Random(seed)
    moments = []
    for round_no in range(rounds):
        server.start()
        moment = chooser.uniform(min_kill, max_kill)
        moments.append(moment)
        asyncio.run(load_until_killed(server, outcomes, round_no, kill_after=moment))
    return moments


@dataclass
class CrashReport:
    rounds: int = 0
    acknowledged: int = 0
    failed: int = 0
    indeterminate: int = 0
    unsent: int = 0
    stored: int = 0
    lost: list[str] = field(default_factory=list)
    phantom: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)
    undecryptable: list[str] = field(default_factory=list)
    integrity: str = "not checked"
    ledger: str = "not checked"
    received_events: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def figures(self) -> str:
        return (
            f"rounds={self.rounds} acknowledged={self.acknowledged} failed={self.failed} "
            f"indeterminate={self.indeterminate} unsent={self.unsent} stored={self.stored} "
            f"lost={len(self.lost)} phantom={len(self.phantom)} "
            f"mismatched={len(self.mismatched)} undecryptable={len(self.undecryptable)} "
            f"integrity={self.integrity!r}"
        )


async def _check_stored(
    settings: Settings,
    outcomes: Outcomes,
    officers: dict[str, int],
    escrow_path: Path,
    report: CrashReport,
) -> None:
    from tipline import db
    from tipline.crypto import primitives
    from tipline.crypto.services import unwrap_officer_key
    from tipline.intake import receipts
    from tipline.intake.services import open_tip_content
    from tipline.intake.tables import Tip
    from tipline.ledger.tables import CustodyEvent

    db.bind(db.make_engine(settings))
    await db.open_pool()
    try:
        key = receipts.receipt_key(settings)
        tips = await Tip.select(Tip.id, Tip.receipt_mac)
        report.stored = len(tips)
        by_mac = {row["receipt_mac"]: int(row["id"]) for row in tips}
        for submission in outcomes.submissions.values():
            if submission.outcome == "acknowledged":
                assert submission.receipt is not None
                digits = receipts.normalize_receipt(submission.receipt)
                if receipts.receipt_mac(key, digits) not in by_mac:
                    report.lost.append(submission.key)

        readers: list[tuple[str, Any, str, int | None]] = []
        for username, account_id in officers.items():
            private = await unwrap_officer_key(account_id, OFFICER_PASSWORD)
            readers.append((username, private, "officer", account_id))
        escrow = primitives.private_key_from_pem(escrow_path.read_bytes())
        readers.append(("escrow", escrow, "escrow", None))

        sent = outcomes.by_content()
        for row in tips:
            tip_id = int(row["id"])
            texts = set()
            for name, private, kind, recipient_id in readers:
                try:
                    opened = await open_tip_content(tip_id, private, kind, recipient_id)
                except Exception as error:  # any failure is the finding
                    report.undecryptable.append(f"tip {tip_id} with {name}: {error!r}")
                    continue
                texts.add(opened.fields.content)
            if len(texts) != 1:
                report.mismatched.append(f"tip {tip_id}: {len(texts)} different texts")
                continue
            origin = sent.get(texts.pop())
            if origin is None:
                report.phantom.append(f"tip {tip_id}: a text nobody sent")
            elif origin.outcome not in ("acknowledged", "indeterminate"):
                report.phantom.append(f"tip {tip_id}: {origin.key} was {origin.outcome}")

        events = await CustodyEvent.select(CustodyEvent.object_id).where(
            CustodyEvent.action == "tip.received"
        )
        counts = collections.Counter(str(row["object_id"]) for row in events)
        report.received_events = {k: v for k, v in counts.items() if v != 1}
        tip_ids = {str(row["id"]) for row in tips}
        if set(counts) != tip_ids:
            report.problems.append(
                f"tip.received events for {len(set(counts))} tips, {len(tip_ids)} tips stored"
            )
    finally:
        await db.close_pool()


def check(
    settings: Settings,
    outcomes: Outcomes,
    officers: dict[str, int],
    escrow_path: Path,
    env: dict[str, str],
    rounds: int,
) -> CrashReport:
    """Everything the crash test promises, checked offline (the server is down)."""
    report = CrashReport(
        rounds=rounds,
        acknowledged=outcomes.count("acknowledged"),
        failed=outcomes.count("failed"),
        indeterminate=outcomes.count("indeterminate"),
        unsent=outcomes.count("unsent"),
    )
    if settings.is_sqlite:
        connection = sqlite3.connect(settings.sqlite_path)
        try:
            report.integrity = "; ".join(
                row[0] for row in connection.execute("PRAGMA integrity_check").fetchall()
            )
        finally:
            connection.close()
        if report.integrity != "ok":
            report.problems.append(f"integrity_check: {report.integrity}")
    else:
        report.integrity = "n/a (PostgreSQL)"
    asyncio.run(_check_stored(settings, outcomes, officers, escrow_path, report))
    result = subprocess.run(
        [sys.executable, "-m", "tipline", "ledger", "verify"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=180,
        check=False,
    )
    report.ledger = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        report.problems.append(f"ledger verify: {report.ledger}")
    for name in ("lost", "phantom", "mismatched", "undecryptable"):
        found = getattr(report, name)
        if found:
            report.problems.append(f"{name}: {len(found)} (first: {found[:3]})")
    if report.received_events:
        report.problems.append(f"tips without exactly one tip.received: {report.received_events}")
    return report


# --- PostgreSQL: a cluster the test owns, stopped with "immediate" (a crash) ---------------

PG_BIN = Path(os.environ.get("TIPLINE_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


class OwnCluster:
    """A PostgreSQL cluster in a folder of the test, run as the ``postgres`` user when
    the test runs as root (``initdb`` refuses root); ``crash`` is ``pg_ctl stop -m
    immediate``: the postmaster and its backends quit without a checkpoint, as on a
    power cut, and the next start replays the WAL."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "pgdata"
        self.sockets = folder / "sockets"
        self.port = free_port()
        self.dsn = f"postgresql://postgres@127.0.0.1:{self.port}/tipline"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(
            command, capture_output=True, text=True, timeout=120, check=False, cwd=self.folder
        )

    def _check(self, result: subprocess.CompletedProcess[str]) -> None:
        if result.returncode != 0:
            raise AssertionError(f"{result.args}: {result.stdout}\n{result.stderr}")

    @staticmethod
    def available() -> bool:
        return (PG_BIN / "initdb").exists() and (os.geteuid() != 0 or bool(shutil.which("runuser")))

    def init(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.sockets.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            shutil.chown(self.sockets, "postgres", "postgres")
        self._check(
            self._run(
                str(PG_BIN / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-instructions",
            )
        )
        self.start()
        self._check(
            self._run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "tipline")
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=on "
            "-c synchronous_commit=on -c max_connections=60"
        )
        self._check(
            self._run(
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-o",
                options,
                "-l",
                str(self.folder / "postgres.log"),
                "-w",
                "start",
            )
        )

    def crash(self) -> None:
        self._check(
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        )

    def stop(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")


def wait_healthy(server: Server, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if devserver.healthy(server.base_url):
            return
        time.sleep(0.2)
    raise AssertionError(f"the server did not come back after the database did:\n{server.log()}")


def database_crash_rounds(
    server: Server,
    cluster: OwnCluster,
    outcomes: Outcomes,
    rounds: int,
    *,
    seed: int,
    min_kill: float,
    max_kill: float,
) -> None:
    """The app keeps running; the database crashes under load and comes back."""
    chooser = random.Random(seed)
    for round_no in range(rounds):
        wait_healthy(server)
        moment = chooser.uniform(min_kill, max_kill)
        asyncio.run(
            load_until_killed(server, outcomes, round_no, kill_after=moment, on_kill=cluster.crash)
        )
        cluster.start()
