"""The county's holiday notices and the scheduler's heartbeat."""

from piccolo.columns import Boolean, Date, Integer, Timestamptz, Varchar
from piccolo.table import Table


class HolidayOverride(Table, tablename="holiday_override"):
    """One day of a year's official holiday notice, entered by an admin.

    ``is_working_day`` is False for a holiday and True for a make-up working day
    (调休上班). A year with any row here counts as covered by the county's notice.
    """

    day = Date(unique=True, index=True)
    is_working_day = Boolean()
    name = Varchar(length=100)


class JobRun(Table, tablename="job_run"):
    """The last run of each scheduler job, shown on the admin page."""

    job_id = Varchar(length=64, unique=True)
    last_run_at = Timestamptz(null=True, default=None)
    last_status = Varchar(length=16, default="never")
    runs = Integer(default=0)
