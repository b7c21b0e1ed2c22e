"""The admin page of the scheduler (/admin/scheduler), and its JSON twin."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from tipline.auth import Role, requires
from tipline.scheduler import services
from tipline.settings import Settings
from tipline.web.templating import ADMIN, NavItem

AnyRequest = Request[Any, Any, Any]
ADMIN_ONLY = requires(Role.admin)


def _settings(request: AnyRequest) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


class SchedulerPageController(Controller):
    path = "/admin/scheduler"
    guards = [ADMIN_ONLY]
    include_in_schema = False

    @get("/", name="admin-scheduler")
    async def show(self, request: AnyRequest) -> Template:
        return Template(
            "scheduler/status.html",
            context={"overview": await services.overview(_settings(request))},
        )


class SchedulerApiController(Controller):
    path = "/api/v1/admin"
    guards = [ADMIN_ONLY]
    tags = ["admin"]

    @get("/scheduler", name="api-admin-scheduler")
    async def scheduler_status(self, request: AnyRequest) -> services.SchedulerOverview:
        """Whether this process runs the scheduler, and each job's last run (UTC and China time)."""
        return await services.overview(_settings(request))


# The page of the top navigation (registered by tipline.app, which orders the bar).
NAV: list[NavItem] = [NavItem("/admin/scheduler", "nav.admin_scheduler", ADMIN)]


route_handlers = [SchedulerPageController, SchedulerApiController]
