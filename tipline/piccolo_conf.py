"""Piccolo's registry of apps and its engine, both derived from tipline's settings.

Piccolo's own tools (``piccolo migrations ...``) find this module through
``PICCOLO_CONF=tipline.piccolo_conf``; ``tipline migrate`` sets that for you.
"""

from piccolo.conf.apps import AppRegistry

from tipline.db import make_engine
from tipline.settings import Settings

DB = make_engine(Settings.from_env())

APP_REGISTRY = AppRegistry(
    apps=[
        "tipline.ledger.piccolo_app",
        "tipline.orgunits.piccolo_app",
        "tipline.accounts.piccolo_app",
        "tipline.deadlines.piccolo_app",
        "tipline.crypto.piccolo_app",
        "tipline.intake.piccolo_app",
    ]
)
