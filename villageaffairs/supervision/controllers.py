"""Supervisory committee pages for township staff (record, work reports) and the county
(overdue work reports), and their JSON mirror under ``/api/v1/villageaffairs/supervision``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import Parameter, PathParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tipline.auth import Role, current_user, requires
from tipline.errors import Invalid
from tipline.web.templating import Locale
from villageaffairs.legal import RulesViolated
from villageaffairs.supervision import services
from villageaffairs.supervision.schemas import (
    CommitteeIn,
    CommitteeOut,
    MemberIn,
    OverdueRow,
    WorkReportIn,
    WorkReportOut,
)
from villageaffairs.supervision.tables import Forum, ScPost

VIEWERS = requires(Role.township_staff, Role.county_staff, Role.admin, Role.inspector)
WRITERS = requires(Role.township_staff)
Id = Annotated[int, PathParameter(ge=1)]
AnyRequest = Request[Any, Any, Any]
MAX_ROWS = 6


class BadForm(Invalid):
    message_key = "supervision.error.bad_form"


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise BadForm() from None


def committee_from_form(form: dict[str, str]) -> CommitteeIn:
    """The committee typed into the page's rows; a row without a person is skipped."""
    members = []
    for row in range(1, MAX_ROWS + 1):
        person = form.get(f"person_{row}", "").strip()
        if not person:
            continue
        if not person.isdigit() or form.get(f"post_{row}") not in tuple(ScPost):
            raise BadForm()
        members.append(
            MemberIn(
                person_id=int(person),
                post=ScPost(form[f"post_{row}"]),
                accounting_knowledge=bool(form.get(f"accounting_{row}")),
                management_knowledge=bool(form.get(f"management_{row}")),
            )
        )
    if form.get("forum") not in tuple(Forum):
        raise BadForm()
    return CommitteeIn(
        elected_on=_date(form.get("elected_on", "")),
        forum=Forum(form["forum"]),
        members=members,
        reason=form.get("reason", ""),
    )


async def _page(
    request: AnyRequest,
    village_id: int,
    *,
    problems: list[str] | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> Template:
    user = current_user(request)
    context = await services.village_page(user, village_id)
    return Template(
        "supervision/village.html",
        context={
            **context,
            "can_write": user.role is Role.township_staff,
            "problems": problems or [],
            "error": error,
            "form": form or {},
            "saved": saved,
            "rows": range(1, MAX_ROWS + 1),
            "report_next": f"/villageaffairs/supervision/villages/{village_id}",
        },
        status_code=status_code,
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
        return await _page(request, village_id, saved=saved)

    @post("/villages/{village_id:int}/committee", name="supervision-record", guards=[WRITERS])
    async def record(
        self, request: AnyRequest, locale: Locale, village_id: Id
    ) -> Template | Redirect:
        """Record the committee; every failing rule is shown at once, nothing is written."""
        form = {key: str(value) for key, value in (await request.form()).items()}
        try:
            data = committee_from_form(form)
            await services.record_committee(current_user(request), village_id, data)
        except RulesViolated as violated:
            return await _page(
                request,
                village_id,
                problems=violated.messages(locale),
                form=form,
                status_code=violated.status_code,
            )
        except Invalid as invalid:
            from tipline.web.i18n import translate

            return await _page(
                request,
                village_id,
                error=translate(locale, invalid.key, **invalid.values),
                form=form,
                status_code=invalid.status_code,
            )
        return Redirect(
            f"/villageaffairs/supervision/villages/{village_id}?saved=true",
            status_code=HTTP_303_SEE_OTHER,
        )

    @post(
        "/villages/{village_id:int}/work-reports", name="supervision-work-report", guards=[WRITERS]
    )
    async def work_report(self, request: AnyRequest, village_id: Id) -> Redirect:
        form = await request.form()
        await services.record_work_report(
            current_user(request),
            village_id,
            WorkReportIn(
                period=str(form.get("period", "")),
                submitted_on=_date(str(form.get("submitted_on", ""))),
                to_discipline_commission=bool(form.get("to_discipline_commission")),
                to_civil_affairs=bool(form.get("to_civil_affairs")),
                summary=str(form.get("summary", "")),
            ),
        )
        return Redirect(
            f"/villageaffairs/supervision/villages/{village_id}", status_code=HTTP_303_SEE_OTHER
        )

    @get("/committees/{committee_id:int}", name="supervision-committee")
    async def committee(self, request: AnyRequest, committee_id: Id) -> Redirect:
        committee = await services.visible_committee(current_user(request), committee_id)
        return Redirect(f"/villageaffairs/supervision/villages/{committee.village_id}")

    @get("/overdue", name="supervision-overdue")
    async def overdue(self, request: AnyRequest) -> Template:
        rows = await services.overdue_work_reports(current_user(request))
        return Template("supervision/overdue.html", context={"rows": rows})


class SupervisionApiController(Controller):
    path = "/api/v1/villageaffairs/supervision"
    guards = [VIEWERS]
    tags = ["villageaffairs"]

    @get("/villages/{village_id:int}", name="supervision-api-get")
    async def get_committee(self, request: AnyRequest, village_id: Id) -> CommitteeOut | None:
        """The village's active supervisory committee, or null."""
        context = await services.village_page(current_user(request), village_id)
        committee: CommitteeOut | None = context["committee"]
        return committee

    @post("/villages/{village_id:int}/committee", name="supervision-api-record", guards=[WRITERS])
    async def record(self, request: AnyRequest, village_id: Id, data: CommitteeIn) -> CommitteeOut:
        """Record the committee (422 listing every failing rule with its article)."""
        return await services.record_committee(current_user(request), village_id, data)

    @post(
        "/villages/{village_id:int}/work-reports",
        name="supervision-api-work-report",
        guards=[WRITERS],
    )
    async def work_report(
        self, request: AnyRequest, village_id: Id, data: WorkReportIn
    ) -> WorkReportOut:
        return await services.record_work_report(current_user(request), village_id, data)

    @get("/overdue", name="supervision-api-overdue")
    async def overdue(self, request: AnyRequest) -> list[OverdueRow]:
        """Overdue work reports of the committees the account may see."""
        return await services.overdue_work_reports(current_user(request))


route_handlers = [SupervisionPageController, SupervisionApiController]
