"""The approval queue (``/villageaffairs/reports``), the step buttons' form posts, and
their JSON mirror under ``/api/v1/villageaffairs/reports``."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import JSONBody, Parameter, PathParameter, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tipline.auth import CurrentUser, Role, User, requires
from villageaffairs.reports import services
from villageaffairs.reports.exceptions import WrongReportStatus
from villageaffairs.reports.schemas import (
    NewReportForm,
    NewReportIn,
    ReasonIn,
    ReportOut,
    ReportView,
    StepForm,
)
from villageaffairs.reports.tables import ReportStatus

AnyRequest = Request[Any, Any, Any]
ReportId = Annotated[int, PathParameter(ge=1)]
VILLAGE_STAFF = requires(Role.township_staff, Role.county_staff, Role.admin)
STEPS = ("submit", "approve", "accept", "return", "new-version")


def safe_next(target: str, default: str = "/villageaffairs/reports") -> str:
    """A local path to go back to after a step; anything else falls back to ``default``."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


async def run_step(user: CurrentUser, report_id: int, step: str, reason: str = "") -> ReportOut:
    if step == "submit":
        return await services.submit(user, report_id)
    if step == "approve":
        return await services.approve(user, report_id)
    if step == "accept":
        return await services.accept(user, report_id)
    if step == "return":
        return await services.return_report(user, report_id, reason)
    return await services.new_version(user, report_id, reason)


class ReportPageController(Controller):
    path = "/villageaffairs/reports"
    guards = [VILLAGE_STAFF]
    include_in_schema = False

    @get("/", name="reports-reports-queue")
    async def queue_page(
        self,
        user: User,
        status: Annotated[str | None, Parameter(required=False, max_length=20)] = None,
        kind: Annotated[str | None, Parameter(required=False, max_length=40)] = None,
    ) -> Template:
        wanted = ReportStatus(status) if status in tuple(ReportStatus) else None
        views = await services.queue(user, wanted, kind or None)
        return Template(
            "villageaffairs/reports/queue.html",
            context={
                "views": views,
                "status": wanted.value if wanted else "",
                "statuses": [s.value for s in ReportStatus],
                "subject_url": services.subject_url,
            },
        )

    @post("/new", name="reports-reports-new")
    async def new(self, user: User, data: URLEncodedBody[NewReportForm]) -> Redirect:
        body = data.body()
        report = await services.create_report(user, body.kind, body.village_id, body.subject_id)
        return Redirect(
            safe_next(data.next, f"/villageaffairs/reports?kind={report.kind}"),
            status_code=HTTP_303_SEE_OTHER,
        )

    @post("/{report_id:int}/{step:str}", name="reports-reports-step")
    async def step(
        self,
        user: User,
        report_id: ReportId,
        step: Annotated[str, PathParameter(max_length=20)],
        data: URLEncodedBody[StepForm],
    ) -> Redirect:
        """One step of the chain; a refusal shows as the error page in the user's language."""
        if step not in STEPS:
            raise WrongReportStatus(step=step, status="")
        await run_step(user, report_id, step, data.body().reason)
        return Redirect(safe_next(data.next), status_code=HTTP_303_SEE_OTHER)


class ReportApiController(Controller):
    path = "/api/v1/villageaffairs/reports"
    guards = [VILLAGE_STAFF]
    tags = ["villageaffairs"]

    @get("/", name="reports-reports-api-queue")
    async def list_queue(
        self,
        user: User,
        status: Annotated[ReportStatus | None, Parameter(required=False)] = None,
        kind: Annotated[str | None, Parameter(required=False, max_length=40)] = None,
    ) -> list[ReportView]:
        """Reports waiting at the caller's level (or of one ``status``) in visible villages."""
        return await services.queue(user, status, kind)

    @post("/", name="reports-reports-api-create", status_code=201)
    async def create(self, user: User, data: JSONBody[NewReportIn]) -> ReportOut:
        return await services.create_report(user, data.kind, data.village_id, data.subject_id)

    @get("/{report_id:int}", name="reports-reports-api-get")
    async def get_one(self, user: User, report_id: ReportId) -> ReportOut:
        return await services.get_report(user, report_id)

    @post("/{report_id:int}/submit", name="reports-reports-api-submit", status_code=200)
    async def submit(self, user: User, report_id: ReportId) -> ReportOut:
        return await services.submit(user, report_id)

    @post("/{report_id:int}/approve", name="reports-reports-api-approve", status_code=200)
    async def approve(self, user: User, report_id: ReportId) -> ReportOut:
        return await services.approve(user, report_id)

    @post("/{report_id:int}/accept", name="reports-reports-api-accept", status_code=200)
    async def accept(self, user: User, report_id: ReportId) -> ReportOut:
        return await services.accept(user, report_id)

    @post("/{report_id:int}/return", name="reports-reports-api-return", status_code=200)
    async def return_(self, user: User, report_id: ReportId, data: JSONBody[ReasonIn]) -> ReportOut:
        return await services.return_report(user, report_id, data.reason)

    @post("/{report_id:int}/new-version", name="reports-reports-api-new-version", status_code=201)
    async def new_version(
        self, user: User, report_id: ReportId, data: JSONBody[ReasonIn]
    ) -> ReportOut:
        return await services.new_version(user, report_id, data.reason)


route_handlers = [ReportPageController, ReportApiController]
