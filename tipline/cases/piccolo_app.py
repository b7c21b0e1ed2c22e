from tipline.apps import app_config
from tipline.cases.tables import CaseApproval, CaseFile

APP_CONFIG = app_config("cases", [CaseFile, CaseApproval])
