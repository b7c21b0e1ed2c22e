from tipline.piccolo_apps import app_config
from villageaffairs.people.tables import Person, Post, Relation

APP_CONFIG = app_config("va_people", [Person, Relation, Post])
