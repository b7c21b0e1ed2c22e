"""Supervisory committee pages for township staff (record, work reports) and the county
(overdue work reports), and their JSON mirror under ``/api/v1/villageaffairs/supervision``."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import JSONBody, Parameter, PathParameter, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tipline.auth import Role, User, current_user, requires
from tipline.web.forms import form_page
from villageaffairs.supervision import services
from villageaffairs.supervision.schemas import (
    MAX_ROWS,
    CommitteeForm,
    CommitteeIn,
    CommitteeOut,
    OverdueRow,
    WorkReportForm,
    WorkReportIn,
    WorkReportOut,
)

VIEWERS = requires(Role.township_staff, Role.county_staff, Role.admin, Role.inspector)
WRITERS = requires(Role.township_staff)
Id = Annotated[int, PathParameter(ge=1)]
AnyRequest = Request[Any, Any, Any]


async def village_page(request: AnyRequest, *, saved: bool = False) -> Template:
    """The village's supervisory committee page, with its forms (empty, or as refused:
    ``tipline.web.forms`` adds ``error``, ``problems`` and ``form``)."""
    user = current_user(request)
    village_id = int(request.path_params["village_id"])
    context = await services.village_page(user, village_id)
    return Template(
        "supervision/village.html",
        context={
            **context,
            "can_write": user.role is Role.township_staff,
            "problems": [],
            "error": None,
            "form": {},
            "saved": saved,
            "rows": range(1, MAX_ROWS + 1),
            "report_next": f"/villageaffairs/supervision/villages/{village_id}",
        },
    )


class SupervisionPageController(Controller):
    path = "/villageaffairs/supervision"
    guards = [VIEWERS]
    include_in_schema = False

    @get("/villages/{village_id:int}", name="supervision-village")
    async def village(
        self,
        request: AnyRequest,
        village_id: Id,
        saved: Annotated[bool, Parameter(required=False)] = False,
    ) -> Template:
        return await village_page(request, saved=saved)

    @post(
        "/villages/{village_id:int}/committee",
        name="supervision-record",
        guards=[WRITERS],
        opt=form_page(village_page),
    )
    async def record(
        self, user: User, village_id: Id, data: URLEncodedBody[CommitteeForm]
    ) -> Redirect:
        """Record the committee; every failing rule is shown at once, nothing is written."""
        await services.record_committee(user, village_id, data.to_input())
        return Redirect(
            f"/villageaffairs/supervision/villages/{village_id}?saved=true",
            status_code=HTTP_303_SEE_OTHER,
        )

    @post(
        "/villages/{village_id:int}/work-reports",
        name="supervision-work-report",
        guards=[WRITERS],
        opt=form_page(village_page),
    )
    async def work_report(
        self, user: User, village_id: Id, data: URLEncodedBody[WorkReportForm]
    ) -> Redirect:
        await services.record_work_report(user, village_id, data.to_input())
        return Redirect(
            f"/villageaffairs/supervision/villages/{village_id}", status_code=HTTP_303_SEE_OTHER
        )

    @get("/committees/{committee_id:int}", name="supervision-committee")
    async def committee(self, user: User, committee_id: Id) -> Redirect:
        committee = await services.visible_committee(user, committee_id)
        return Redirect(f"/villageaffairs/supervision/villages/{committee.village_id}")

    @get("/overdue", name="supervision-overdue")
    async def overdue(self, user: User) -> Template:
        rows = await services.overdue_work_reports(user)
        return Template("supervision/overdue.html", context={"rows": rows})


class SupervisionApiController(Controller):
    path = "/api/v1/villageaffairs/supervision"
    guards = [VIEWERS]
    tags = ["villageaffairs"]

    @get("/villages/{village_id:int}", name="supervision-api-get")
    async def get_committee(self, user: User, village_id: Id) -> CommitteeOut | None:
        """The village's active supervisory committee, or null."""
        context = await services.village_page(user, village_id)
        committee: CommitteeOut | None = context["committee"]
        return committee

    @post("/villages/{village_id:int}/committee", name="supervision-api-record", guards=[WRITERS])
    async def record(self, user: User, village_id: Id, data: JSONBody[CommitteeIn]) -> CommitteeOut:
        """Record the committee (422 listing every failing rule with its article)."""
        return await services.record_committee(user, village_id, data)

    @post(
        "/villages/{village_id:int}/work-reports",
        name="supervision-api-work-report",
        guards=[WRITERS],
    )
    async def work_report(
        self, user: User, village_id: Id, data: JSONBody[WorkReportIn]
    ) -> WorkReportOut:
        return await services.record_work_report(user, village_id, data)

    @get("/overdue", name="supervision-api-overdue")
    async def overdue(self, user: User) -> list[OverdueRow]:
        """Overdue work reports of the committees the account may see."""
        return await services.overdue_work_reports(user)


route_handlers = [SupervisionPageController, SupervisionApiController]
