"""Route handlers of the "Village affairs I" registers, collected for ``tipline.app``."""

from __future__ import annotations

from typing import Any

from villageaffairs.reports import controllers as reports_controllers

route_handlers: list[Any] = [
    *reports_controllers.route_handlers,
]
