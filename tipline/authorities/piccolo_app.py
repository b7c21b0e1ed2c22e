from tipline.authorities.tables import Authority, ReplyLink, Transfer
from tipline.piccolo_apps import app_config

APP_CONFIG = app_config("authorities", [Authority, Transfer, ReplyLink])
