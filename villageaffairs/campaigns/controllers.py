"""The county dashboard (task × township), its drill-down, Excel export and JSON mirror,
and the list of villages a township's staff work on."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter, PathParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tipline.auth import Role, current_user, requires
from tipline.errors import Invalid
from tipline.ledger.services import Actor
from tipline.orgunits.services import list_visible_units
from tipline.orgunits.tables import VILLAGE_KINDS
from tipline.web.i18n import translate
from tipline.web.templating import Locale, NavItem
from tipline.workdays.services import today_local
from villageaffairs.access import require_village
from villageaffairs.campaigns import charts, services
from villageaffairs.campaigns.schemas import CampaignOut, Dashboard, DrillDown
from villageaffairs.campaigns.services import TaskSpec
from villageaffairs.campaigns.tables import TaskKind

VIEWERS = requires(Role.county_staff, Role.admin, Role.inspector, Role.township_staff)
PLANNERS = requires(Role.county_staff, Role.admin)
TASK_ROWS = 6


class TaskIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    code: str
    title: str
    kind: TaskKind
    due_on: dt.date
    approval_levels: int = 2
    village_codes: list[str] | None = None  # None: every village and community
    legal_basis: str = ""


class CampaignIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    code: str
    title: str
    year: int
    tasks: list[TaskIn]


class BadCampaignForm(Invalid):
    message_key = "campaigns.error.bad_task"


async def _create(request: Request[Any, Any, Any], data: CampaignIn) -> CampaignOut:
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
        Actor.account(current_user(request).account_id),
        code=data.code,
        title=data.title,
        year=data.year,
        tasks=specs,
    )
    return await services.get_campaign(campaign_id)


def campaign_from_form(form: dict[str, str]) -> CampaignIn:
    """The campaign typed into the page; a task row without a title is skipped."""
    try:
        tasks = []
        for row in range(1, TASK_ROWS + 1):
            title = form.get(f"title_{row}", "").strip()
            if not title:
                continue
            codes = form.get(f"villages_{row}", "").replace(",", " ").split()
            tasks.append(
                TaskIn(
                    code=form.get(f"code_{row}", "").strip() or f"t{row}",
                    title=title,
                    kind=TaskKind(form.get(f"kind_{row}", "")),
                    due_on=dt.date.fromisoformat(form.get(f"due_{row}", "")),
                    approval_levels=int(form.get(f"levels_{row}", "2")),
                    village_codes=codes or None,
                )
            )
        return CampaignIn(
            code=form.get("code", ""),
            title=form.get("title", ""),
            year=int(form.get("year", "0")),
            tasks=tasks,
        )
    except ValueError:
        raise BadCampaignForm() from None


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
    request: Request[Any, Any, Any],
    campaign_id: int | None,
    today: dt.date | None,
    campaigns: list[CampaignOut] | None = None,
) -> Dashboard:
    user = current_user(request)
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
    async def page(
        self, request: Request[Any, Any, Any], locale: Locale, campaign_id: CampaignId = None
    ) -> Template:
        """Each township's completeness per task, coloured, with two SVG charts."""
        campaigns = await services.list_campaigns()
        if not campaigns:
            return Template("campaigns/dashboard.html", context={"board": None, "campaigns": []})
        board = await _board(request, campaign_id, None, campaigns)
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

    @get("/campaigns", name="campaigns-list")
    async def campaigns(self, request: Request[Any, Any, Any]) -> Template:
        """The campaigns and their tasks; the county plans a new one here."""
        user = current_user(request)
        return Template(
            "campaigns/campaigns.html",
            context={
                "campaigns": await services.list_campaigns(),
                "can_plan": user.role in (Role.county_staff, Role.admin),
                "kinds": [kind.value for kind in TaskKind],
                "rows": range(1, TASK_ROWS + 1),
                "form": {},
                "error": None,
            },
        )

    @post("/campaigns", name="campaigns-create", guards=[PLANNERS])
    async def create(self, request: Request[Any, Any, Any], locale: Locale) -> Template | Redirect:
        form = {key: str(value) for key, value in (await request.form()).items()}
        try:
            campaign = await _create(request, campaign_from_form(form))
        except Invalid as error:
            return Template(
                "campaigns/campaigns.html",
                context={
                    "campaigns": await services.list_campaigns(),
                    "can_plan": True,
                    "kinds": [kind.value for kind in TaskKind],
                    "rows": range(1, TASK_ROWS + 1),
                    "form": form,
                    "error": translate(locale, error.key, **error.values),
                },
                status_code=error.status_code,
            )
        return Redirect(
            f"/villageaffairs/dashboard?campaign_id={campaign.id}", status_code=HTTP_303_SEE_OTHER
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


class CampaignApiController(Controller):
    path = "/api/v1/villageaffairs/campaigns"
    guards = [VIEWERS]
    tags = ["villageaffairs"]

    @get("/", name="campaigns-api-list")
    async def campaigns(self) -> list[CampaignOut]:
        return await services.list_campaigns()

    @post("/", name="campaigns-api-create", guards=[PLANNERS], status_code=201)
    async def create(self, request: Request[Any, Any, Any], data: CampaignIn) -> CampaignOut:
        """A campaign with its tasks (due date, villages by code or all, approval levels
        0 recorded / 1 township / 2 county); statuses are derived at once."""
        return await _create(request, data)


# The pages of the top navigation (registered by tipline.app, which orders the bar).
NAV: list[NavItem] = [
    NavItem(
        "/villageaffairs/dashboard",
        "campaigns.nav",
        frozenset({Role.township_staff, Role.county_staff, Role.admin, Role.inspector}),
    ),
]


route_handlers = [DashboardPageController, DashboardApiController, CampaignApiController]
