"""The county dashboard (task × township), its drill-down, Excel export and JSON mirror,
and the list of villages a township's staff work on."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.params import Parameter, PathParameter
from litestar.response import Template

from tipline.auth import Role, current_user, requires
from tipline.deadlines.services import today_local
from tipline.orgunits.services import list_visible_units
from tipline.orgunits.tables import VILLAGE_KINDS
from tipline.web.i18n import translate
from tipline.web.templating import Locale
from villageaffairs.campaigns import charts, services
from villageaffairs.campaigns.access import require_village
from villageaffairs.campaigns.schemas import Dashboard, DrillDown

VIEWERS = requires(Role.county_staff, Role.admin, Role.inspector, Role.township_staff)
Id = Annotated[int, PathParameter(ge=1)]
CampaignId = Annotated[int | None, Parameter(ge=1, required=False)]
Today = Annotated[dt.date | None, Parameter(required=False, description="as of this day")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

LABEL_KEYS = (
    "matrix",
    "totals",
    "township",
    "task",
    "due",
    "expected",
    "done",
    "on_time",
    "late",
    "open",
    "overdue",
    "completeness",
    "timeliness",
    "chart_totals",
)


def labels(locale: str) -> dict[str, str]:
    return {key: translate(locale, f"campaigns.label.{key}") for key in LABEL_KEYS}


async def _board(
    request: Request[Any, Any, Any], campaign_id: int | None, today: dt.date | None
) -> Dashboard:
    user = current_user(request)
    return await services.dashboard(
        campaign_id, today=today, township_ids=await services.visible_townships(user)
    )


class DashboardPageController(Controller):
    path = "/villageaffairs"
    guards = [VIEWERS]
    include_in_schema = False

    @get("/dashboard", name="campaigns-dashboard")
    async def page(
        self, request: Request[Any, Any, Any], locale: Locale, campaign_id: CampaignId = None
    ) -> Template:
        """Each township's completeness per task, coloured, with two SVG charts."""
        campaigns = await services.list_campaigns()
        if not campaigns:
            return Template("campaigns/dashboard.html", context={"board": None, "campaigns": []})
        board = await _board(request, campaign_id, None)
        names = labels(locale)
        return Template(
            "campaigns/dashboard.html",
            context={
                "board": board,
                "campaigns": campaigns,
                "totals_chart": charts.task_totals_chart(board, names),
                "township_charts": [
                    charts.township_chart(board, index, names)
                    for index in range(len(board.campaign.tasks))
                ],
            },
        )

    @get("/dashboard.xlsx", name="campaigns-dashboard-xlsx")
    async def export(
        self, request: Request[Any, Any, Any], locale: Locale, campaign_id: CampaignId = None
    ) -> Response[bytes]:
        board = await _board(request, campaign_id, None)
        return Response(
            services.export_xlsx(board, labels(locale)),
            media_type=XLSX,
            headers={
                "Content-Disposition": f'attachment; filename="campaign-{board.campaign.code}.xlsx"'
            },
        )

    @get("/dashboard/tasks/{task_id:int}/townships/{township_id:int}", name="campaigns-drill-down")
    async def drill(
        self, request: Request[Any, Any, Any], task_id: Id, township_id: Id
    ) -> Template:
        """The villages of one township for one task, with their days overdue."""
        detail = await services.drill_down(current_user(request), task_id, township_id)
        return Template("campaigns/drill_down.html", context={"detail": detail})

    @get("/campaigns/villages", name="campaigns-villages")
    async def villages(self, request: Request[Any, Any, Any]) -> Template:
        """The villages the account works on, with links to each register."""
        units = await list_visible_units(current_user(request))
        return Template(
            "campaigns/villages.html",
            context={
                "villages": [unit for unit in units if unit.kind in VILLAGE_KINDS],
                "today": today_local(),
            },
        )

    @get("/campaigns/villages/{village_id:int}", name="campaigns-village")
    async def village(self, request: Request[Any, Any, Any], village_id: Id) -> Template:
        """One village: each campaign task's derived status, and its registers."""
        village = await require_village(current_user(request), village_id)
        return Template(
            "campaigns/village.html",
            context={"village": village, "tasks": await services.village_tasks(village_id)},
        )


class DashboardApiController(Controller):
    path = "/api/v1/villageaffairs/dashboard"
    guards = [VIEWERS]
    tags = ["villageaffairs"]

    @get("/", name="campaigns-dashboard-api")
    async def matrix(
        self, request: Request[Any, Any, Any], campaign_id: CampaignId = None, today: Today = None
    ) -> Dashboard:
        """The task × township matrix (a township's staff: their own row only)."""
        return await _board(request, campaign_id, today)

    @get("/tasks/{task_id:int}/townships/{township_id:int}", name="campaigns-drill-down-api")
    async def drill(
        self, request: Request[Any, Any, Any], task_id: Id, township_id: Id, today: Today = None
    ) -> DrillDown:
        return await services.drill_down(current_user(request), task_id, township_id, today=today)


route_handlers = [DashboardPageController, DashboardApiController]
