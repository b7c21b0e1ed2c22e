from tipline.duedates.tables import CaseDeadline, DeadlineRule
from tipline.piccolo_apps import app_config

APP_CONFIG = app_config("duedates", [DeadlineRule, CaseDeadline])
