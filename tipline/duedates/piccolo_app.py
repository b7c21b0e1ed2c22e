from tipline.apps import app_config
from tipline.duedates.tables import CaseDeadline, DeadlineRule

APP_CONFIG = app_config("duedates", [DeadlineRule, CaseDeadline])
