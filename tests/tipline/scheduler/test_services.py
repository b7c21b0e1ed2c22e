"""The scheduler: every job run recorded, one leader on PostgreSQL, a heartbeat at start."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import pytest

from tests.conftest import POSTGRES_DSN, reset_postgres
from tipline.ledger.tables import CustodyEvent
from tipline.scheduler import services as scheduler
from tipline.scheduler.services import Job, LeaderLock, overview, run_job, run_scheduler
from tipline.settings import Settings
from tipline.workdays.tables import JobRun


async def _row(job_id: str) -> dict[str, object] | None:
    return await JobRun.select().where(JobRun.job_id == job_id).first()


async def test_the_heartbeat_records_each_run_and_writes_no_custody_event(
    tipline_db: Settings,
) -> None:
    before = dt.datetime.now(dt.UTC)
    assert await run_job("heartbeat") == "ok"
    first = await _row("heartbeat")
    assert first is not None and first["runs"] == 1 and first["last_status"] == "ok"
    assert await run_job("heartbeat") == "ok"
    second = await _row("heartbeat")
    assert second is not None and second["runs"] == 2
    last_run_at = second["last_run_at"]
    assert isinstance(last_run_at, dt.datetime) and last_run_at >= before
    assert await JobRun.count() == 1
    assert await CustodyEvent.count() == 0


async def test_a_failing_job_is_recorded_as_an_error_without_raising(
    tipline_db: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken() -> None:
        raise RuntimeError("secret-looking text that must not be logged")

    job = Job("broken-sweep", broken)
    assert await run_job(job) == "error"
    row = await _row("broken-sweep")
    assert row is not None
    assert (row["last_status"], row["last_error"], row["runs"]) == ("error", "RuntimeError", 1)
    assert "broken-sweep" in caplog.text and "RuntimeError" in caplog.text
    assert "secret-looking" not in caplog.text


def test_jobs_have_unique_ids_and_register_job_replaces_by_id() -> None:
    ids = [job.id for job in scheduler.JOBS]
    assert len(ids) == len(set(ids)) and "heartbeat" in ids
    saved = list(scheduler.JOBS)
    try:
        replacement = dataclasses.replace(
            scheduler.job_by_id("heartbeat"), trigger_args={"minutes": 2}
        )
        scheduler.register_job(replacement)
        assert [job.id for job in scheduler.JOBS].count("heartbeat") == 1
        assert scheduler.job_by_id("heartbeat").trigger_args == {"minutes": 2}
    finally:
        scheduler.JOBS[:] = saved


async def test_the_scheduler_in_the_lifespan_leads_and_beats_at_once(
    tipline_db: Settings, settings: Settings
) -> None:
    on = dataclasses.replace(settings, scheduler=True)
    assert (await overview(on)).mode == "off"
    async with run_scheduler(on):
        for _ in range(100):
            row = await _row("heartbeat")
            if row is not None:
                break
            await asyncio.sleep(0.1)
        assert row is not None and row["last_status"] == "ok"
        status = await overview(on)
        assert status.mode == "leader"
        assert status.backend == ("sqlite" if settings.is_sqlite else "postgres")
        assert not status.heartbeat_stale
    assert (await overview(on)).mode == "off"


async def test_a_heartbeat_older_than_three_minutes_is_stale(
    tipline_db: Settings, settings: Settings
) -> None:
    await run_job("heartbeat")
    on = dataclasses.replace(settings, scheduler=True)
    assert not (await overview(on)).heartbeat_stale
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=4)
    await JobRun.update({JobRun.last_run_at: old}).where(JobRun.job_id == "heartbeat")
    assert (await overview(on)).heartbeat_stale
    # With the scheduler off in this process, nothing is expected to beat.
    assert not (await overview(settings)).heartbeat_stale


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_DSN, reason="PostgreSQL run: set TIPLINE_TEST_POSTGRES to a DSN")
async def test_only_one_connection_takes_the_advisory_lock_and_another_takes_over() -> None:
    await reset_postgres(POSTGRES_DSN)
    first, second = LeaderLock(POSTGRES_DSN), LeaderLock(POSTGRES_DSN)
    try:
        assert await first.try_acquire()
        assert not await second.try_acquire()
        assert await first.try_acquire()  # the leader keeps it on its next election
        assert not await second.try_acquire()
        await first.release()  # the leader dies: its connection closes
        assert await second.try_acquire()
        assert not await first.try_acquire()
    finally:
        await first.release()
        await second.release()
