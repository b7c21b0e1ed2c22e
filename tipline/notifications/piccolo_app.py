from tipline.notifications.tables import EmailOutbox, Notification
from tipline.piccolo_apps import app_config

APP_CONFIG = app_config("notifications", [Notification, EmailOutbox])
