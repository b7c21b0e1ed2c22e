"""The county's holiday notices, and the scheduler's record of its jobs.

All three tables belong to the Piccolo app "deadlines" (``piccolo_app.py``), whose
migrations in ``migrations/deadlines/`` created them; :class:`JobRun` is the
scheduler's (:mod:`tipline.scheduler.services` reads and writes it) but stays here, in
that app, so that databases already migrated need no new migration, and so that
``tipline.workdays`` (which the scheduler imports) does not import the scheduler back.
"""

from piccolo.columns import Boolean, Date, Integer, Serial, Timestamptz, Varchar
from piccolo.table import Table


class HolidayOverride(Table, tablename="holiday_override"):
    """One day of a year's official holiday notice, entered by an admin.

    ``is_working_day`` is False for a holiday and True for a make-up working day
    (调休上班). A year with any row here counts as covered by the county's notice;
    for that day the row wins over the ``chinese_calendar`` package.
    """

    id = Serial(primary_key=True)

    day = Date(unique=True, index=True)
    is_working_day = Boolean()
    name = Varchar(length=100)


class CalendarRevision(Table, tablename="calendar_revision"):
    """One row (id 1) whose ``revision`` goes up with every change of the holiday notices.

    Each process keeps the notices in memory and reloads them only when this number
    differs from the one it loaded: one cheap query instead of reading the table for
    every due date, and exact even when a deleted row's id is reused.
    """

    id = Serial(primary_key=True)

    revision = Integer(default=0)


class JobRun(Table, tablename="job_run"):
    """The last run of each scheduler job, shown on the admin page.

    The scheduler's table (:mod:`tipline.scheduler`), kept in the Piccolo app
    "deadlines" where its migration put it (see the module's docstring).
    """

    id = Serial(primary_key=True)

    job_id = Varchar(length=64, unique=True)
    last_run_at = Timestamptz(null=True, default=None)
    last_status = Varchar(length=16, default="never")
    last_error = Varchar(length=200, null=True, default=None)
    runs = Integer(default=0)
