from tipline.piccolo_apps import app_config
from villageaffairs.reviews.tables import LookbackItem, LookbackReview

APP_CONFIG = app_config("va_reviews", [LookbackReview, LookbackItem])
