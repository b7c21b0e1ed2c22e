from tipline.piccolo_apps import app_config
from villageaffairs.appraisals.tables import AppraisalRound, AppraisalVote

APP_CONFIG = app_config("va_appraisals", [AppraisalRound, AppraisalVote])
