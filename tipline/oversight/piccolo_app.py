from tipline.oversight.tables import ContentExportRequest, LedgerVerification
from tipline.piccolo_apps import app_config

APP_CONFIG = app_config("oversight", [LedgerVerification, ContentExportRequest])
