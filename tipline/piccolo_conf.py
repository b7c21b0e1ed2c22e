"""Piccolo's configuration: the registry of apps and an engine from tipline's settings.

Piccolo's own tools (``piccolo migrations ...``) find this module through
``PICCOLO_CONF=tipline.piccolo_conf``; ``tipline migrate`` sets that for you. The
service itself binds its tables with ``tipline.db.bind`` and never imports this.
"""

from tipline.db import make_engine
from tipline.registry import APP_REGISTRY
from tipline.settings import Settings

DB = make_engine(Settings.from_env())

__all__ = ["APP_REGISTRY", "DB"]
