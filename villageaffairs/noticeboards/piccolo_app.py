from tipline.piccolo_apps import app_config
from villageaffairs.noticeboards.tables import Disclosure, Inspection, NoticeBoard, Photo

APP_CONFIG = app_config("noticeboards", [Photo, NoticeBoard, Disclosure, Inspection])
