from tipline.piccolo_apps import app_config
from villageaffairs.villagerules.tables import RulesReview, RulesVersion

APP_CONFIG = app_config("villagerules", [RulesVersion, RulesReview])
