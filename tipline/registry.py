"""The Piccolo apps of tipline, in migration order; no engine is made here.

``piccolo_conf`` (for Piccolo's own tools) and ``db.all_tables`` both read this
registry, so importing it has no side effect such as creating a database file.
"""

from piccolo.conf.apps import AppRegistry

APP_REGISTRY = AppRegistry(
    apps=[
        "tipline.ledger.piccolo_app",
        "tipline.orgunits.piccolo_app",
        "tipline.accounts.piccolo_app",
        "tipline.notifications.piccolo_app",
        # app_name "deadlines" (migrations/deadlines/): the calendar and the scheduler's table
        "tipline.workdays.piccolo_app",
        "tipline.crypto.piccolo_app",
        "tipline.intake.piccolo_app",
        "tipline.cases.piccolo_app",
        "tipline.duedates.piccolo_app",
        "tipline.oversight.piccolo_app",
        "tipline.authorities.piccolo_app",
        "villageaffairs.reports.piccolo_app",
        "villageaffairs.people.piccolo_app",
        "villageaffairs.committees.piccolo_app",
        "villageaffairs.elections.piccolo_app",
        "villageaffairs.reviews.piccolo_app",
        "villageaffairs.appraisals.piccolo_app",
        "villageaffairs.campaigns.piccolo_app",
        "villageaffairs.supervision.piccolo_app",
        "villageaffairs.villagerules.piccolo_app",
        "villageaffairs.noticeboards.piccolo_app",
    ]
)
