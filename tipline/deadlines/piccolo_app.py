from tipline.apps import app_config
from tipline.deadlines.tables import CalendarRevision, HolidayOverride, JobRun

APP_CONFIG = app_config("deadlines", [HolidayOverride, CalendarRevision, JobRun])
