"""Notice board pages: the board (photo), QR sticker, disclosures with missing ones
flagged, township inspections; and the JSON mirror."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import PathParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tipline.auth import CurrentUser, Role, User, current_user, requires
from tipline.settings import Settings
from tipline.web.forms import form_page
from tipline.web.i18n import translate
from tipline.web.templating import Locale
from tipline.workdays.services import today_local
from villageaffairs.access import require_village
from villageaffairs.noticeboards import services, sticker
from villageaffairs.noticeboards.exceptions import BadField
from villageaffairs.noticeboards.schemas import StepBody, StepForm
from villageaffairs.noticeboards.services import (
    CHECKLIST,
    BoardOut,
    DisclosureOut,
    InspectionOut,
    MissingDisclosure,
)
from villageaffairs.noticeboards.tables import Category

VIEWERS = requires(Role.township_staff, Role.county_staff, Role.admin, Role.inspector)
WRITERS = requires(Role.township_staff)
Id = Annotated[int, PathParameter(ge=1)]
AnyRequest = Request[Any, Any, Any]
MAX_PHOTO_BYTES = 20 * 1024 * 1024


def _settings(request: AnyRequest) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _upload(form: StepForm) -> bytes | None:
    if form.photo is None:
        return None
    data = await form.photo.read(MAX_PHOTO_BYTES + 1)
    return data or None


def since_for(today: dt.date) -> dt.date:
    """Disclosures are checked from the start of the previous year (the county's plan)."""
    return dt.date(today.year - 1, 1, 1) if today.month <= 3 else dt.date(today.year, 1, 1)


async def village_page(request: AnyRequest) -> Template:
    """The village's notice board page (as refused: ``tipline.web.forms`` adds ``error``
    and ``form``)."""
    user = current_user(request)
    village_id = int(request.path_params["village_id"])
    village = await require_village(user, village_id)
    today = today_local()
    url = sticker.public_url(_settings(request).base_url, village.code)
    return Template(
        "noticeboards/village.html",
        context={
            "village": village,
            "board": await services.board_of(village_id),
            "disclosures": await services.disclosures(village_id),
            "missing": await services.missing_disclosures(
                village_id, since=since_for(today), today=today
            ),
            "inspections": await services.inspections(village_id),
            "checklist": CHECKLIST,
            "categories": [c.value for c in Category],
            "public_url": url,
            "can_write": user.role is Role.township_staff,
            "problems": [],
            "form": {},
            "today": today.isoformat(),
        },
    )


async def _run(
    user: CurrentUser, settings: Settings, village_id: int, step: str, form: StepForm
) -> None:
    if step == "board":
        await services.save_board(
            user,
            village_id,
            location=form.location,
            standardised=form.standardised == "yes",
            finance_monthly=form.finance_monthly,
            photo_data=await _upload(form),
            settings=settings,
        )
    elif step == "disclosure":
        if form.category is None:
            raise BadField(field="category")
        await services.post_disclosure(
            user,
            village_id,
            category=form.category,
            period=form.period,
            title=form.title,
            posted_on=form.day("posted_on") or dt.date.min,
            sc_signed_by=form.sc_signed_by,
            photo_data=await _upload(form),
            settings=settings,
        )
    elif step == "inspect":
        await services.inspect(
            user,
            village_id,
            inspected_on=form.day("inspected_on") or dt.date.min,
            checklist=form.checklist(CHECKLIST),
            findings=form.findings,
            fix_by=form.day("fix_by", required=False),
        )
    elif step == "reinspect":
        if not form.inspection_id.isdigit():
            raise BadField(field="inspection_id")
        await services.reinspect(
            user,
            int(form.inspection_id),
            on=form.day("reinspected_on") or dt.date.min,
            fixed=form.fixed == "yes",
            note=form.note,
        )
    else:
        raise BadField(field="step")


class NoticeBoardPageController(Controller):
    path = "/villageaffairs/noticeboards"
    guards = [VIEWERS]
    include_in_schema = False

    @get("/villages/{village_id:int}", name="noticeboards-village")
    async def village(self, request: AnyRequest, village_id: Id) -> Template:
        return await village_page(request)

    @post(
        "/villages/{village_id:int}/{step:str}",
        name="noticeboards-step",
        guards=[WRITERS],
        request_max_body_size=MAX_PHOTO_BYTES + 1024 * 1024,
        opt=form_page(village_page),
    )
    async def step(
        self,
        request: AnyRequest,
        user: User,
        village_id: Id,
        step: Annotated[str, PathParameter(max_length=12)],
        data: StepBody,
    ) -> Redirect:
        """Save the board, post a disclosure, inspect or re-inspect; a refusal re-shows the
        page with the reason in the user's language."""
        await _run(user, _settings(request), village_id, step, data)
        return Redirect(
            f"/villageaffairs/noticeboards/villages/{village_id}", status_code=HTTP_303_SEE_OTHER
        )

    @get("/villages/{village_id:int}/sticker.png", name="noticeboards-sticker-png")
    async def sticker_png(
        self, request: AnyRequest, user: User, locale: Locale, village_id: Id
    ) -> Response[bytes]:
        """The printable QR sticker linking to the village's public page."""
        village = await require_village(user, village_id)
        url = sticker.public_url(_settings(request).base_url, village.code)
        data = sticker.sticker_png(
            url, village.name, village.code, translate(locale, "noticeboards.sticker.caption")
        )
        return _file(data, "image/png", f"qr-{village.code}.png")

    @get("/villages/{village_id:int}/sticker.pdf", name="noticeboards-sticker-pdf")
    async def sticker_pdf(
        self, request: AnyRequest, user: User, locale: Locale, village_id: Id
    ) -> Response[bytes]:
        village = await require_village(user, village_id)
        url = sticker.public_url(_settings(request).base_url, village.code)
        data = sticker.sticker_pdf(
            url, village.name, village.code, translate(locale, "noticeboards.sticker.caption")
        )
        return _file(data, "application/pdf", f"qr-{village.code}.pdf")

    @get("/photos/{photo_id:int}", name="noticeboards-photo")
    async def photo(self, user: User, photo_id: Id) -> Response[bytes]:
        data, media_type = await services.photo(user, photo_id)
        return Response(
            data,
            media_type=media_type,
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"},
        )


def _file(data: bytes, media_type: str, filename: str) -> Response[bytes]:
    return Response(
        data,
        media_type=media_type,
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


class NoticeBoardApiController(Controller):
    path = "/api/v1/villageaffairs/noticeboards"
    guards = [VIEWERS]
    tags = ["villageaffairs"]

    @get("/villages/{village_id:int}", name="noticeboards-api-board")
    async def board(self, user: User, village_id: Id) -> BoardOut | None:
        await require_village(user, village_id)
        return await services.board_of(village_id)

    @get("/villages/{village_id:int}/disclosures", name="noticeboards-api-disclosures")
    async def disclosures(self, user: User, village_id: Id) -> list[DisclosureOut]:
        await require_village(user, village_id)
        return await services.disclosures(village_id)

    @get("/villages/{village_id:int}/missing", name="noticeboards-api-missing")
    async def missing(self, user: User, village_id: Id) -> list[MissingDisclosure]:
        """Scheduled disclosures past due and not posted."""
        await require_village(user, village_id)
        today = today_local()
        return await services.missing_disclosures(village_id, since=since_for(today), today=today)

    @get("/villages/{village_id:int}/inspections", name="noticeboards-api-inspections")
    async def inspections(self, user: User, village_id: Id) -> list[InspectionOut]:
        await require_village(user, village_id)
        return await services.inspections(village_id)


route_handlers = [NoticeBoardPageController, NoticeBoardApiController]
