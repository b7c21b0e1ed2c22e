from tipline.cases.tables import CaseApproval, CaseFile
from tipline.piccolo_apps import app_config

APP_CONFIG = app_config("cases", [CaseFile, CaseApproval])
