from tipline.piccolo_apps import app_config
from villageaffairs.campaigns.tables import (
    Campaign,
    CampaignTask,
    TaskInstance,
    TaskReminder,
    TaskSummary,
    TaskVillage,
)

APP_CONFIG = app_config(
    "campaigns", [Campaign, CampaignTask, TaskVillage, TaskInstance, TaskReminder, TaskSummary]
)
