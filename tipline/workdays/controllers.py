"""The admin page for the holiday notices, and its JSON twin.

A refused holiday notice is shown again with its text and one message per bad
line, with a 400 status, rather than a bare error page.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, PathParameter, QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tipline.auth import Role, current_user, requires
from tipline.ledger.services import Actor
from tipline.web.templating import ADMIN, NavItem
from tipline.workdays import services

AnyRequest = Request[Any, Any, Any]
Form = Body(media_type=RequestEncodingType.URL_ENCODED)
ADMIN_ONLY = requires(Role.admin)

CheckYear = Annotated[
    int | None,
    QueryParameter(
        ge=services.MIN_YEAR,
        le=services.MAX_YEAR,
        required=False,
        description="also show whether this year has holiday data",
    ),
]
Count = Annotated[int | None, QueryParameter(ge=0, required=False)]

NOTICE_EXAMPLE = """2027-01-01 元旦
2027-02-06..2027-02-12 春节
2027-02-14 上班 春节调休"""


class NoticeForm(msgspec.Struct):
    """The holiday notice form (no ``forbid_unknown_fields``: it also carries the CSRF token)."""

    year: str = ""
    lines: str = ""


def _actor(request: AnyRequest) -> Actor:
    return Actor.account(current_user(request).account_id)


class HolidaysPageController(Controller):
    path = "/admin/holidays"
    guards = [ADMIN_ONLY]
    include_in_schema = False

    async def _page(
        self,
        check_year: int | None,
        form: NoticeForm,
        errors: list[services.LineError] | None = None,
        added: int | None = None,
        removed: bool = False,
        status_code: int = 200,
    ) -> Template:
        overview = await services.holidays_overview(check_year)
        return Template(
            "workdays/holidays.html",
            context={
                "overview": overview,
                "form": form,
                "errors": errors or [],
                "added": added,
                "removed": removed,
                "example": NOTICE_EXAMPLE,
            },
            status_code=status_code,
        )

    @get("/", name="admin-holidays")
    async def show(
        self, year: CheckYear = None, added: Count = None, removed: Count = None
    ) -> Template:
        default_year = year or services.today_local().year + 1
        return await self._page(
            year, NoticeForm(year=str(default_year)), added=added, removed=bool(removed)
        )

    @post("/", name="admin-holidays-add")
    async def add(
        self, request: AnyRequest, data: Annotated[NoticeForm, Form]
    ) -> Template | Redirect:
        try:
            notice = await services.add_notice(_actor(request), data.year, data.lines)
        except (services.NoticeInvalid, services.NoticeConflict) as error:
            errors = (
                error.errors
                if isinstance(error, services.NoticeInvalid)
                else [services.LineError(0, "", error.key, {})]
            )
            return await self._page(None, data, errors, status_code=error.status_code)
        return Redirect(
            f"/admin/holidays?year={notice.year}&added={len(notice.days)}",
            status_code=HTTP_303_SEE_OTHER,
        )

    @post("/{override_id:int}/delete", name="admin-holidays-delete")
    async def delete(
        self, request: AnyRequest, override_id: Annotated[int, PathParameter()]
    ) -> Redirect:
        await services.remove_override(_actor(request), override_id)
        return Redirect("/admin/holidays?removed=1", status_code=HTTP_303_SEE_OTHER)


class HolidaysApiController(Controller):
    path = "/api/v1/admin"
    guards = [ADMIN_ONLY]
    tags = ["admin"]

    @get("/holidays", name="api-admin-holidays")
    async def holidays(self, year: CheckYear = None) -> services.HolidaysOverview:
        """The entered holiday notices; which years are counted Monday to Friday (no data)."""
        return await services.holidays_overview(year)


# The pages of the top navigation (registered by tipline.app, which orders the bar).
NAV: list[NavItem] = [
    NavItem("/admin/holidays", "nav.admin_holidays", ADMIN),
]


route_handlers = [HolidaysPageController, HolidaysApiController]
