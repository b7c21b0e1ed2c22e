"""The county dashboard (task × township), its drill-down, Excel export and JSON mirror,
and the list of villages a township's staff work on."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody, Parameter, PathParameter, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tipline.auth import CurrentUser, Role, User, current_user, requires
from tipline.ledger.services import Actor
from tipline.orgunits.services import list_visible_units
from tipline.orgunits.tables import VILLAGE_KINDS
from tipline.web.forms import form_page
from tipline.web.i18n import translate
from tipline.web.templating import Locale, NavItem
from tipline.workdays.services import today_local
from villageaffairs.access import require_village
from villageaffairs.campaigns import charts, services
from villageaffairs.campaigns.schemas import (
    TASK_ROWS,
    CampaignForm,
    CampaignIn,
    CampaignOut,
    Dashboard,
    DrillDown,
)
from villageaffairs.campaigns.services import TaskSpec
from villageaffairs.campaigns.tables import TaskKind

VIEWERS = requires(Role.county_staff, Role.admin, Role.inspector, Role.township_staff)
PLANNERS = requires(Role.county_staff, Role.admin)


async def _create(user: CurrentUser, data: CampaignIn) -> CampaignOut:
    specs = []
    for task in data.tasks:
        ids = (
            await services.village_ids_for_codes(task.village_codes)
            if task.village_codes is not None
            else None
        )
        specs.append(
            TaskSpec(
                code=task.code,
                title=task.title,
                kind=task.kind,
                due_on=task.due_on,
                approval_levels=task.approval_levels,
                village_ids=ids,
                legal_basis=task.legal_basis,
            )
        )
    campaign_id = await services.create_campaign(
        Actor.account(user.account_id),
        code=data.code,
        title=data.title,
        year=data.year,
        tasks=specs,
    )
    return await services.get_campaign(campaign_id)


async def campaigns_page(request: Request[Any, Any, Any]) -> Template:
    """The campaigns and their tasks, and the county's form to plan one (as refused:
    ``error`` and the ``form`` typed)."""
    return Template(
        "campaigns/campaigns.html",
        context={
            "campaigns": await services.list_campaigns(),
            "can_plan": current_user(request).role in (Role.county_staff, Role.admin),
            "kinds": [kind.value for kind in TaskKind],
            "rows": range(1, TASK_ROWS + 1),
            "form": {},
            "error": None,
        },
    )


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
    "in_progress",
    "completeness",
    "timeliness",
    "chart_totals",
)


def labels(locale: str) -> dict[str, str]:
    return {key: translate(locale, f"campaigns.label.{key}") for key in LABEL_KEYS}


async def _board(
    user: CurrentUser,
    campaign_id: int | None,
    today: dt.date | None,
    campaigns: list[CampaignOut] | None = None,
) -> Dashboard:
    return await services.dashboard(
        campaign_id,
        today=today,
        township_ids=await services.visible_townships(user),
        campaigns=campaigns,
    )


class DashboardPageController(Controller):
    path = "/villageaffairs"
    guards = [VIEWERS]
    include_in_schema = False

    @get("/dashboard", name="campaigns-dashboard")
    async def page(self, user: User, locale: Locale, campaign_id: CampaignId = None) -> Template:
        """Each township's completeness per task, coloured, with two SVG charts."""
        campaigns = await services.list_campaigns()
        if not campaigns:
            return Template("campaigns/dashboard.html", context={"board": None, "campaigns": []})
        board = await _board(user, campaign_id, None, campaigns)
        names = labels(locale)
        return Template(
            "campaigns/dashboard.html",
            context={
                "board": board,
                "campaigns": campaigns,
                "matrix_rows": charts.matrix_rows(board, names),
                "totals_chart": charts.task_totals_chart(board, names),
                "township_charts": [
                    charts.township_chart(board, index, names)
                    for index in range(len(board.campaign.tasks))
                ],
            },
        )

    @get("/dashboard.xlsx", name="campaigns-dashboard-xlsx")
    async def export(
        self, user: User, locale: Locale, campaign_id: CampaignId = None
    ) -> Response[bytes]:
        board = await _board(user, campaign_id, None)
        return Response(
            services.export_xlsx(board, labels(locale)),
            media_type=XLSX,
            headers={
                "Content-Disposition": f'attachment; filename="campaign-{board.campaign.code}.xlsx"'
            },
        )

    @get("/dashboard/tasks/{task_id:int}/townships/{township_id:int}", name="campaigns-drill-down")
    async def drill(self, user: User, task_id: Id, township_id: Id) -> Template:
        """The villages of one township for one task, with their days overdue."""
        detail = await services.drill_down(user, task_id, township_id)
        return Template("campaigns/drill_down.html", context={"detail": detail})

    @get("/campaigns/villages", name="campaigns-villages")
    async def villages(self, user: User) -> Template:
        """The villages the account works on, with links to each register."""
        units = await list_visible_units(user)
        return Template(
            "campaigns/villages.html",
            context={
                "villages": [unit for unit in units if unit.kind in VILLAGE_KINDS],
                "today": today_local(),
            },
        )

    @get("/campaigns/villages/{village_id:int}", name="campaigns-village")
    async def village(self, user: User, village_id: Id) -> Template:
        """One village: each campaign task's derived status, and its registers."""
        village = await require_village(user, village_id)
        return Template(
            "campaigns/village.html",
            context={"village": village, "tasks": await services.village_tasks(village_id)},
        )

    @get("/campaigns", name="campaigns-list")
    async def campaigns(self, request: Request[Any, Any, Any]) -> Template:
        """The campaigns and their tasks; the county plans a new one here."""
        return await campaigns_page(request)

    @post(
        "/campaigns",
        name="campaigns-create",
        guards=[PLANNERS],
        opt=form_page(campaigns_page),
    )
    async def create(self, user: User, data: URLEncodedBody[CampaignForm]) -> Redirect:
        campaign = await _create(user, data.to_input())
        return Redirect(
            f"/villageaffairs/dashboard?campaign_id={campaign.id}", status_code=HTTP_303_SEE_OTHER
        )


class DashboardApiController(Controller):
    path = "/api/v1/villageaffairs/dashboard"
    guards = [VIEWERS]
    tags = ["villageaffairs"]

    @get("/", name="campaigns-dashboard-api")
    async def matrix(
        self, user: User, campaign_id: CampaignId = None, today: Today = None
    ) -> Dashboard:
        """The task × township matrix (a township's staff: their own row only)."""
        return await _board(user, campaign_id, today)

    @get("/tasks/{task_id:int}/townships/{township_id:int}", name="campaigns-drill-down-api")
    async def drill(
        self, user: User, task_id: Id, township_id: Id, today: Today = None
    ) -> DrillDown:
        return await services.drill_down(user, task_id, township_id, today=today)


class CampaignApiController(Controller):
    path = "/api/v1/villageaffairs/campaigns"
    guards = [VIEWERS]
    tags = ["villageaffairs"]

    @get("/", name="campaigns-api-list")
    async def campaigns(self) -> list[CampaignOut]:
        return await services.list_campaigns()

    @post("/", name="campaigns-api-create", guards=[PLANNERS], status_code=201)
    async def create(self, user: User, data: JSONBody[CampaignIn]) -> CampaignOut:
        """A campaign with its tasks (due date, villages by code or all, approval levels
        0 recorded / 1 township / 2 county); statuses are derived at once."""
        return await _create(user, data)


# The pages of the top navigation (registered by tipline.app, which orders the bar).
NAV: list[NavItem] = [
    NavItem(
        "/villageaffairs/dashboard",
        "campaigns.nav",
        frozenset({Role.township_staff, Role.county_staff, Role.admin, Role.inspector}),
    ),
]


route_handlers = [DashboardPageController, DashboardApiController, CampaignApiController]
