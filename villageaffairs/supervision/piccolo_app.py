from tipline.piccolo_apps import app_config
from villageaffairs.supervision.tables import SupervisoryCommittee, SupervisoryMember, WorkReport

APP_CONFIG = app_config("supervision", [SupervisoryCommittee, SupervisoryMember, WorkReport])
