from tipline.intake.tables import Tip, TipAttachment, TipCounter, TipKey, TipMessage, TipsterSession
from tipline.piccolo_apps import app_config

APP_CONFIG = app_config(
    "intake", [TipCounter, Tip, TipKey, TipMessage, TipAttachment, TipsterSession]
)
