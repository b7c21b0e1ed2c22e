from tipline.apps import app_config
from tipline.notifications.tables import EmailOutbox, Notification

APP_CONFIG = app_config("notifications", [Notification, EmailOutbox])
