"""The Piccolo app of the working-day calendar (and of the scheduler's ``job_run``).

Its app name stays "deadlines", the package's name before it was split into
``tipline.workdays`` and ``tipline.scheduler``: Piccolo records the app name of every
applied migration in its ``migration`` table and finds the app's migrations in
``migrations/<app_name>/``, so databases already migrated keep working only if the name
and the folder ``migrations/deadlines/`` stay. The table names stay too.
"""

from tipline.piccolo_apps import app_config
from tipline.workdays.tables import CalendarRevision, HolidayOverride, JobRun

APP_CONFIG = app_config("deadlines", [HolidayOverride, CalendarRevision, JobRun])
