from tipline.piccolo_apps import app_config
from villageaffairs.committees.tables import Membership, Vacancy, VillageCommittee

APP_CONFIG = app_config("va_committees", [VillageCommittee, Membership, Vacancy])
