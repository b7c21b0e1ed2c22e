from tipline.crypto.tables import EscrowKey, OfficerKey, SessionKey
from tipline.piccolo_apps import app_config

APP_CONFIG = app_config("crypto", [OfficerKey, SessionKey, EscrowKey])
