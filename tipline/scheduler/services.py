"""The scheduler: one leader process runs the jobs, every run lands in :class:`JobRun`.

Deadlines are data (docs/ARCHITECTURE.md principle 5): the jobs only sweep rows, idempotently,
so a run repeated after a crash or by a second process does no harm. Still, only one
process runs them at a time:

- SQLite serves a county from one worker process, which runs the jobs itself.
- On PostgreSQL several workers run; the one holding a session-level advisory lock
  (``pg_try_advisory_lock``) on a dedicated connection, kept open for the process'
  lifetime, is the leader. The others retry every minute, so when the leader dies
  (its connection closes, PostgreSQL frees the lock) another takes over.

Jobs are declared in :data:`JOBS` (later issues add their sweeps with
:func:`register_job`). :func:`run_job` wraps each run: it records the time, ``ok``
or ``error`` and the count in :class:`JobRun`, and logs an error by type and place
only — an exception's text may hold data that must not reach a log file. No custody
event is written per run: the heartbeat alone would flood the chain.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal

import asyncpg
import msgspec
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from tipline import db
from tipline.settings import Settings
from tipline.workdays.services import LOCAL_TIMEZONE
from tipline.workdays.tables import JobRun

log = logging.getLogger("tipline.scheduler")

ADVISORY_LOCK_KEY = 0x7469706C696E65
"""``pg_try_advisory_lock`` key: "tipline" in ASCII (advisory locks are per database)."""
ELECTION_INTERVAL_SECONDS = 60
MISFIRE_GRACE_SECONDS = 5 * 60
HEARTBEAT_STALE_AFTER = dt.timedelta(minutes=3)
ELECTION_JOB_ID = "leader-election"


@dataclasses.dataclass(frozen=True)
class Job:
    """A job of the scheduler: an id (also its :class:`JobRun` key), what it runs, and when.

    ``trigger_args`` go to APScheduler's trigger (e.g. ``{"minutes": 1}`` for
    ``"interval"``, ``{"hour": 1}`` for ``"cron"``, in UTC). ``run_at_start`` runs the
    job as soon as this process becomes the leader, as well as on its schedule.
    """

    id: str
    func: Callable[[], Awaitable[None]]
    trigger: Literal["interval", "cron"] = "interval"
    trigger_args: dict[str, Any] = dataclasses.field(default_factory=dict)
    run_at_start: bool = True


async def heartbeat() -> None:
    """Proves the scheduler runs: its whole effect is the :class:`JobRun` row of its run."""


JOBS: list[Job] = [Job("heartbeat", heartbeat, "interval", {"minutes": 1})]


def register_job(job: Job) -> None:
    """Add (or replace, by id) a job; call at import time, before the scheduler starts."""
    JOBS[:] = [existing for existing in JOBS if existing.id != job.id]
    JOBS.append(job)


def job_by_id(job_id: str) -> Job:
    for job in JOBS:
        if job.id == job_id:
            return job
    raise KeyError(job_id)


def _where(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno} in {last.name}"


async def record_run(job_id: str, at: dt.datetime, status: str, error: str | None) -> None:
    """Count one run of ``job_id``; creates its row on the first run."""
    async with db.write_transaction():
        await JobRun.insert(JobRun(job_id=job_id, runs=0)).on_conflict(action="DO NOTHING")
        await JobRun.update(
            {
                JobRun.last_run_at: at,
                JobRun.last_status: status,
                JobRun.last_error: error,
                JobRun.runs: JobRun.runs + 1,
            }
        ).where(JobRun.job_id == job_id)


async def run_job(job: Job | str) -> str:
    """Run one job and record it; never raises, so a failing job cannot stop the scheduler."""
    if isinstance(job, str):
        job = job_by_id(job)
    started = dt.datetime.now(dt.UTC)
    status, error = "ok", None
    try:
        await job.func()
    except Exception as exc:
        status, error = "error", type(exc).__name__
        log.error("job %s failed: %s at %s", job.id, error, _where(exc))
    try:
        await record_run(job.id, started, status, error)
    except Exception as exc:
        log.error(
            "job %s: recording its run failed: %s at %s", job.id, type(exc).__name__, _where(exc)
        )
    return status


class LeaderLock:
    """The PostgreSQL advisory lock that makes one process the scheduler's leader.

    The lock is session-level, so it lives exactly as long as this dedicated
    connection (not a pooled one, which would hand the session to other queries).
    """

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.connection: asyncpg.Connection | None = None
        self.held = False

    async def try_acquire(self) -> bool:
        """True when this process holds the lock (already, or from now on)."""
        if self.held and self.connection is not None and not self.connection.is_closed():
            try:
                await self.connection.fetchval("SELECT 1")
                return True
            except (asyncpg.PostgresError, OSError, asyncpg.InterfaceError):
                await self.release()
        if self.connection is None or self.connection.is_closed():
            self.held = False
            self.connection = await asyncpg.connect(self.dsn, timeout=10)
        self.held = bool(
            await self.connection.fetchval("SELECT pg_try_advisory_lock($1)", ADVISORY_LOCK_KEY)
        )
        return self.held

    async def release(self) -> None:
        """Close the connection, which frees the lock if held."""
        connection, self.connection, self.held = self.connection, None, False
        if connection is not None and not connection.is_closed():
            with contextlib.suppress(Exception):
                await connection.close(timeout=5)


Mode = Literal["off", "leader", "standby"]


@dataclasses.dataclass
class _ProcessState:
    mode: Mode = "off"
    backend: str = ""
    since: dt.datetime | None = None


_state = _ProcessState()


def _job_kwargs(job_id: str) -> dict[str, Any]:
    return {
        "id": job_id,
        "name": job_id,
        "replace_existing": True,
        "misfire_grace_time": MISFIRE_GRACE_SECONDS,
        "coalesce": True,
        "max_instances": 1,
    }


def _lead(scheduler: AsyncIOScheduler) -> None:
    now = dt.datetime.now(dt.UTC)
    for job in JOBS:
        extra: dict[str, Any] = {"next_run_time": now} if job.run_at_start else {}
        scheduler.add_job(
            run_job, job.trigger, args=[job], **job.trigger_args, **_job_kwargs(job.id), **extra
        )
    _state.mode, _state.since = "leader", now
    log.info("this process runs the scheduler's jobs (%s)", _state.backend)


def _step_down(scheduler: AsyncIOScheduler) -> None:
    for job in JOBS:
        with contextlib.suppress(Exception):
            scheduler.remove_job(job.id)
    _state.mode, _state.since = "standby", dt.datetime.now(dt.UTC)


async def elect(scheduler: AsyncIOScheduler, lock: LeaderLock) -> bool:
    """Take (or keep) the lock and lead, or stand by; runs every minute in every process."""
    try:
        leader = await lock.try_acquire()
    except Exception as exc:
        log.warning("scheduler leader election failed: %s", type(exc).__name__)
        await lock.release()
        leader = False
    if leader and _state.mode != "leader":
        _lead(scheduler)
    elif not leader and _state.mode == "leader":
        log.warning("this process lost the scheduler lock and stops running jobs")
        _step_down(scheduler)
    return leader


@contextlib.asynccontextmanager
async def run_scheduler(settings: Settings) -> AsyncIterator[None]:
    """Run the scheduler for the lifespan of the application (when ``TIPLINE_SCHEDULER`` is on)."""
    # APScheduler logs every run at INFO; JobRun records them, so keep its warnings only.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    scheduler = AsyncIOScheduler(timezone="UTC")
    lock = None if settings.is_sqlite else LeaderLock(str(settings.database_url))
    _state.backend = "sqlite" if lock is None else "postgres"
    scheduler.start()
    try:
        if lock is None:
            _lead(scheduler)
        else:
            _state.mode, _state.since = "standby", dt.datetime.now(dt.UTC)
            scheduler.add_job(
                elect,
                "interval",
                args=[scheduler, lock],
                seconds=ELECTION_INTERVAL_SECONDS,
                next_run_time=dt.datetime.now(dt.UTC),
                **_job_kwargs(ELECTION_JOB_ID),
            )
        yield
    finally:
        scheduler.shutdown(wait=False)
        if lock is not None:
            await lock.release()
        _state.mode, _state.since = "off", None


# --- What the admin status page shows ----------------------------------------------


class JobStatus(msgspec.Struct, frozen=True):
    job_id: str
    last_run_at: dt.datetime | None
    last_run_local: str | None
    last_status: str
    last_error: str | None
    runs: int


class SchedulerOverview(msgspec.Struct, frozen=True):
    """Whether this process runs the jobs, and each job's last run (times UTC; *_local: China)."""

    enabled: bool
    mode: Mode
    backend: str
    heartbeat_at: dt.datetime | None
    heartbeat_stale: bool
    jobs: list[JobStatus]


def _local(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(LOCAL_TIMEZONE).strftime("%Y-%m-%d %H:%M:%S")


async def overview(settings: Settings) -> SchedulerOverview:
    """The scheduler as this process sees it; stale when the heartbeat is older than 3 minutes."""
    rows = {row["job_id"]: row for row in await JobRun.select()}
    ids = [job.id for job in JOBS] + sorted(rows.keys() - {job.id for job in JOBS})
    jobs = []
    for job_id in ids:
        row = rows.get(job_id)
        at = row["last_run_at"] if row else None
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
        jobs.append(
            JobStatus(
                job_id=job_id,
                last_run_at=at,
                last_run_local=_local(at),
                last_status=row["last_status"] if row else "never",
                last_error=row["last_error"] if row else None,
                runs=row["runs"] if row else 0,
            )
        )
    beat = next((job.last_run_at for job in jobs if job.job_id == "heartbeat"), None)
    stale = beat is None or dt.datetime.now(dt.UTC) - beat > HEARTBEAT_STALE_AFTER
    return SchedulerOverview(
        enabled=settings.scheduler,
        mode=_state.mode if settings.scheduler else "off",
        backend="sqlite" if settings.is_sqlite else "postgres",
        heartbeat_at=beat,
        heartbeat_stale=settings.scheduler and stale,
        jobs=jobs,
    )
