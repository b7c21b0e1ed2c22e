from tipline.apps import app_config
from tipline.authorities.tables import Authority, ReplyLink, Transfer

APP_CONFIG = app_config("authorities", [Authority, Transfer, ReplyLink])
