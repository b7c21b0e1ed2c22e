from tipline.accounts.tables import Account, AccountSession
from tipline.piccolo_apps import app_config

APP_CONFIG = app_config("accounts", [Account, AccountSession])
