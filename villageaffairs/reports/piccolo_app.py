from tipline.piccolo_apps import app_config
from villageaffairs.reports.tables import VillageReport

APP_CONFIG = app_config("va_reports", [VillageReport])
