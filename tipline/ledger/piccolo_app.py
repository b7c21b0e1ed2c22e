from tipline.apps import app_config
from tipline.ledger.tables import CustodyEvent, LedgerHead

APP_CONFIG = app_config("ledger", [CustodyEvent, LedgerHead])
