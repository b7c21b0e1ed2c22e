from tipline.apps import app_config
from tipline.oversight.tables import ContentExportRequest, LedgerVerification

APP_CONFIG = app_config("oversight", [LedgerVerification, ContentExportRequest])
