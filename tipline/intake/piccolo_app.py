from tipline.apps import app_config
from tipline.intake.tables import Tip, TipAttachment, TipCounter, TipKey, TipMessage, TipsterSession

APP_CONFIG = app_config(
    "intake", [TipCounter, Tip, TipKey, TipMessage, TipAttachment, TipsterSession]
)
