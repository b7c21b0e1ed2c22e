from tipline.orgunits.tables import OrgUnit
from tipline.piccolo_apps import app_config

APP_CONFIG = app_config("orgunits", [OrgUnit])
