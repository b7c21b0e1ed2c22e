from tipline.apps import app_config
from tipline.deadlines.tables import HolidayOverride, JobRun

APP_CONFIG = app_config("deadlines", [HolidayOverride, JobRun])
