from tipline.apps import app_config
from tipline.orgunits.tables import OrgUnit

APP_CONFIG = app_config("orgunits", [OrgUnit])
