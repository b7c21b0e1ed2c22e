"""Route handlers of the "Village affairs I" registers, collected for ``tipline.app``."""

from __future__ import annotations

from typing import Any

from tipline.scheduler.services import Job
from tipline.web.templating import NavItem
from villageaffairs.appraisals import controllers as appraisals_controllers
from villageaffairs.committees import controllers as committees_controllers
from villageaffairs.committees.services import close_terms_job
from villageaffairs.elections import controllers as elections_controllers
from villageaffairs.overview import controllers as overview_controllers
from villageaffairs.reports import controllers as reports_controllers
from villageaffairs.reviews import controllers as reviews_controllers

# The hub's place in the top navigation (the registers page is in ``overview``).
NAV: list[NavItem] = overview_controllers.NAV

route_handlers: list[Any] = [
    *reports_controllers.route_handlers,
    *overview_controllers.route_handlers,
    *committees_controllers.route_handlers,
    *elections_controllers.route_handlers,
    *reviews_controllers.route_handlers,
    *appraisals_controllers.route_handlers,
]

# Daily at 01:00 China time: committees whose term is over end their memberships and
# close their vacancies (idempotent).
TERM_END_JOB = Job("villageaffairs-term-end", close_terms_job, "cron", {"hour": 17, "minute": 5})
