from tipline.apps import app_config
from tipline.crypto.tables import EscrowKey, OfficerKey, SessionKey

APP_CONFIG = app_config("crypto", [OfficerKey, SessionKey, EscrowKey])
