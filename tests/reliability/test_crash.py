"""SIGKILL under load: no acknowledged tip is lost, no tip appears that was not sent,
every stored tip opens for every officer and the escrow key, the ledger verifies.

And the negative control: with the server answering 201 before it commits
(``TIPLINE_FAULT_ACK_BEFORE_COMMIT``), the same checker must report lost tips, so a
green crash test means something.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from tests.reliability import crash
from tipline.settings import Settings

SQLITE_ONLY = pytest.mark.parametrize("database", ["sqlite"], indirect=True)
ROUNDS = int(os.environ.get("TIPLINE_TEST_CRASH_ROUNDS", "10"))


def _rig(
    settings: Settings, tmp_path: Path, extra: dict[str, str] | None = None
) -> tuple[crash.Server, dict[str, str], dict[str, int], Path]:
    port = crash.free_port()
    env = crash.server_env(settings, f"http://127.0.0.1:{port}", extra)
    crash.run_cli(env, "migrate")
    escrow_path = tmp_path / "escrow-private.pem"
    officers = asyncio.run(crash.prepare(settings, escrow_path))
    server = crash.Server(env, port, tmp_path / "server.log")
    return server, env, officers, escrow_path


@SQLITE_ONLY
def test_acknowledged_tips_survive_sigkill_rounds(settings: Settings, tmp_path: Path) -> None:
    server, env, officers, escrow_path = _rig(settings, tmp_path)
    outcomes = crash.Outcomes()
    started = time.monotonic()
    try:
        crash.crash_rounds(server, outcomes, ROUNDS, seed=8, min_kill=0.3, max_kill=1.5)
        # After the last kill the service comes back and takes tips again.
        server.start()
        asyncio.run(
            crash.load_until_killed(server, outcomes, ROUNDS, kill_after=0.3, on_kill=server.stop)
        )
    finally:
        server.kill()
    report = crash.check(settings, outcomes, officers, escrow_path, env, ROUNDS)
    print(f"crash test ({time.monotonic() - started:.0f} s): {report.figures()}")
    assert report.problems == [], report.figures()
    assert report.acknowledged >= ROUNDS  # the rounds did put load on the server
    assert report.indeterminate > 0 or report.acknowledged == report.stored
    assert report.integrity == "ok"
    assert report.ledger.startswith("ledger ok")


@SQLITE_ONLY
def test_negative_control_answering_before_commit_is_reported_as_loss(
    settings: Settings, tmp_path: Path
) -> None:
    fault = {"TIPLINE_FAULT_ACK_BEFORE_COMMIT": "1", "TIPLINE_TESTING": "1"}
    server, env, officers, escrow_path = _rig(settings, tmp_path, fault)
    outcomes = crash.Outcomes()
    try:
        crash.crash_rounds(server, outcomes, 3, seed=80, min_kill=2.0, max_kill=3.0)
    finally:
        server.kill()
    report = crash.check(settings, outcomes, officers, escrow_path, env, 3)
    print(f"negative control: {report.figures()}")
    assert report.lost, "the checker did not see the tips acknowledged before commit"
    assert any(problem.startswith("lost:") for problem in report.problems)


def test_a_fault_switch_without_testing_mode_is_refused(settings: Settings) -> None:
    """No production start can turn a fault on by a stray variable."""
    env = crash.server_env(settings, "http://127.0.0.1:9", {"TIPLINE_FAULT_ACK_BEFORE_COMMIT": "1"})
    with pytest.raises(AssertionError, match="TIPLINE_TESTING=1"):
        crash.run_cli(env, "migrate")


PG_ROUNDS = int(os.environ.get("TIPLINE_TEST_PG_CRASH_ROUNDS", "6"))


def test_acknowledged_tips_survive_postgresql_crashing_under_load(tmp_path: Path) -> None:
    """The PostgreSQL variant: the app keeps running and the database it writes to is
    stopped with ``pg_ctl stop -m immediate`` (a crash: no checkpoint, backends killed)
    at a random moment, then started again (WAL replay)."""
    if not crash.OwnCluster.available():
        pytest.skip(f"needs PostgreSQL's initdb/pg_ctl in {crash.PG_BIN} (TIPLINE_TEST_PG_BIN)")
    # Not under tmp_path: pytest's folders are root's alone, and the cluster runs as postgres.
    cluster = crash.OwnCluster(Path(tempfile.mkdtemp(prefix="tipline-crash-pg-")))
    cluster.init()
    settings = Settings(data_dir=tmp_path / "data", database_url=cluster.dsn, scheduler=False)
    server: crash.Server | None = None
    try:
        server, env, officers, escrow_path = _rig(settings, tmp_path)
        outcomes = crash.Outcomes()
        server.start()
        crash.database_crash_rounds(
            server, cluster, outcomes, PG_ROUNDS, seed=15, min_kill=1.5, max_kill=3.0
        )
        crash.wait_healthy(server)
        server.stop()
        report = crash.check(settings, outcomes, officers, escrow_path, env, PG_ROUNDS)
    finally:
        if server is not None:
            server.kill()
        cluster.stop()
        shutil.rmtree(cluster.folder, ignore_errors=True)
    print(f"PostgreSQL crash test: {report.figures()}")
    assert report.problems == [], report.figures()
    assert report.acknowledged >= PG_ROUNDS
    assert report.ledger.startswith("ledger ok")
