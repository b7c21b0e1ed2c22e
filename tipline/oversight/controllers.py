"""Oversight pages and their JSON mirror.

- ``/oversight``: the discipline inspector (and the bureau leader): due dates per
  officer, escalations, every case's custody trail without content, the ledger's
  verification, supervision notes, the Excel 台账.
- ``/ledger-export.xlsx``: the Excel 台账 for designated officers and the inspector.
- ``/exports``: content exports, for designated officers only (two officers, one use).
- ``/statistics``: officers, the inspector and the leader.

No route here decrypts anything except the approved officer's content export, which
uses that officer's own session key.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tipline.auth import Role, User, current_user, requires
from tipline.cases.services import session_key
from tipline.crypto.services import KEY_COOKIE_NAME
from tipline.errors import Invalid
from tipline.oversight import charts, services
from tipline.oversight.schemas import (
    MAX_NOTE_CHARS,
    CaseTrail,
    DecisionBody,
    DecisionForm,
    ExportRequestBody,
    ExportRequestForm,
    ExportRequestOut,
    NoteAdded,
    NoteBody,
    NoteForm,
    OversightOverview,
    Statistics,
    VerificationOut,
)
from tipline.settings import Settings
from tipline.web.forms import form_page
from tipline.web.i18n import translate
from tipline.web.templating import NavItem, request_locale

AnyRequest = Request[Any, Any, Any]
Locale = NamedDependency[str]
LedgerNo = Annotated[str, PathParameter(max_length=16, description="ledger number, 2026-000123")]
RequestId = Annotated[int, PathParameter(ge=1)]

# The bureau leader (局领导) oversees like the inspector.
OVERSEERS = requires(Role.inspector, Role.leader)
LEDGER_READERS = requires(Role.officer, Role.inspector, Role.leader)
OFFICERS = requires(Role.officer)
MAX_PAGE = 1_000_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _settings(request: AnyRequest) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _xlsx(file: services.ExportFile) -> Response[bytes]:
    return Response(
        file.data,
        media_type=XLSX,
        headers={
            "Content-Disposition": f'attachment; filename="{file.filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


async def trail_page(request: AnyRequest) -> Template:
    """A case's metadata and custody trail (as refused: ``error`` and the ``form``)."""
    ledger_no = str(request.path_params["ledger_no"])
    return Template(
        "oversight/trail.html",
        context={
            "trail": await services.case_trail(ledger_no, request_locale(request)),
            "error": None,
            "form": {},
            "max_note": MAX_NOTE_CHARS,
        },
    )


async def exports_page(request: AnyRequest) -> Template:
    """Content export requests (as refused: ``error`` and the ``form`` typed)."""
    return Template(
        "oversight/exports.html",
        context={
            "requests": await services.export_requests(),
            "me": current_user(request).account_id,
            "error": None,
            "form": ExportRequestForm(),
        },
    )


class OversightPageController(Controller):
    path = "/oversight"
    guards = [OVERSEERS]
    include_in_schema = False

    @get("/", name="oversight")
    async def show(
        self,
        locale: Locale,
        done: FromQuery[str | None] = None,
        page: FromQuery[str | None] = None,
    ) -> Template:
        """Due dates per officer, escalations, every case (100 a page, ``?page=2``), and
        the ledger's verification."""
        try:
            number = int(page or 1)
        except ValueError:
            number = 1
        overview = await services.overview(locale, page=min(max(number, 1), MAX_PAGE))
        return Template("oversight/overview.html", context={"overview": overview, "done": done})

    @get("/cases/{ledger_no:str}", name="oversight-case")
    async def trail(self, request: AnyRequest, ledger_no: LedgerNo) -> Template:
        """A case's metadata and custody trail; never its content."""
        return await trail_page(request)

    @post(
        "/cases/{ledger_no:str}/notes",
        name="oversight-note",
        opt=form_page(trail_page, refuse=(Invalid,)),
    )
    async def note(
        self, user: User, ledger_no: LedgerNo, data: URLEncodedBody[NoteForm]
    ) -> Redirect:
        """Write a supervision note (督办), recorded as ``tip.supervision_note``."""
        await services.add_supervision_note(user, ledger_no, data.body().text)
        return Redirect(f"/oversight/cases/{ledger_no}#trail", status_code=HTTP_303_SEE_OTHER)

    @post("/verify", name="oversight-verify")
    async def verify(self, request: AnyRequest, user: User) -> Redirect:
        """Verify the whole ledger now and keep the result."""
        await services.run_verification(_settings(request), "inspector", user.account_id)
        return Redirect("/oversight?done=verified#verification", status_code=HTTP_303_SEE_OTHER)

    @get("/export.xlsx", name="oversight-export")
    async def export(self, user: User, locale: Locale) -> Response[bytes]:
        """The Excel 台账, metadata only; recorded as ``ledger.exported``."""
        return _xlsx(await services.export_ledger(user, locale))


class LedgerExportController(Controller):
    path = "/ledger-export.xlsx"
    guards = [LEDGER_READERS]
    include_in_schema = False

    @get("/", name="ledger-export")
    async def export(self, user: User, locale: Locale) -> Response[bytes]:
        """The Excel 台账 for officers and the inspector; recorded as ``ledger.exported``."""
        return _xlsx(await services.export_ledger(user, locale))


class ExportsPageController(Controller):
    path = "/exports"
    guards = [OFFICERS]
    include_in_schema = False

    @get("/", name="exports")
    async def show(self, request: AnyRequest) -> Template:
        """Content export requests: ask, approve another officer's, download one's own."""
        return await exports_page(request)

    @post("/", name="exports-request", opt=form_page(exports_page, refuse=(Invalid,)))
    async def ask(self, user: User, data: URLEncodedBody[ExportRequestForm]) -> Redirect:
        body = data.body()
        await services.request_content_export(user, body.ledger_nos, body.reason)
        return Redirect("/exports", status_code=HTTP_303_SEE_OTHER)

    @post("/{request_id:int}/decision", name="exports-decide")
    async def decide(
        self, user: User, request_id: RequestId, data: URLEncodedBody[DecisionForm]
    ) -> Redirect:
        body = data.body()
        await services.decide_content_export(user, request_id, body.approve, body.reason)
        return Redirect("/exports", status_code=HTTP_303_SEE_OTHER)

    @post("/{request_id:int}/download", name="exports-download", status_code=200)
    async def download(
        self, request: AnyRequest, user: User, locale: Locale, request_id: RequestId
    ) -> Response[bytes]:
        """Make the approved export once, with this session's key (watermarked, recorded;
        a locked key is ``KeyLocked``, with its own page)."""
        key = await session_key(user, request.cookies.get(KEY_COOKIE_NAME))
        return _xlsx(await services.produce_content_export(user, key, request_id, locale))


class StatisticsPageController(Controller):
    path = "/statistics"
    guards = [LEDGER_READERS]
    include_in_schema = False

    @get("/", name="statistics")
    async def show(self, locale: Locale) -> Template:
        """Tips per month, category and township, working days to transfer and feedback,
        on-time rates: SVG charts drawn here, each with its numbers in a table."""
        numbers = await services.statistics(locale)
        t = lambda key: translate(locale, key)  # noqa: E731
        empty = t("oversight.stats.empty")
        rates = [
            (services.label(locale, "duedates.kind.", r.kind, "oversight.none"), r.rate * 100)
            for r in numbers.on_time
            if r.rate is not None
        ]
        return Template(
            "oversight/statistics.html",
            context={
                "stats": numbers,
                "charts": {
                    "month": charts.line_chart(
                        t("oversight.stats.per_month"),
                        [(i.label, i.count) for i in numbers.per_month],
                        empty=empty,
                    ),
                    "category": charts.bar_chart(
                        t("oversight.stats.per_category"),
                        [(i.label, i.count) for i in numbers.per_category],
                        empty=empty,
                    ),
                    "township": charts.bar_chart(
                        t("oversight.stats.per_township"),
                        [(i.label, i.count) for i in numbers.per_township],
                        empty=empty,
                    ),
                    "on_time": charts.bar_chart(
                        t("oversight.stats.on_time"), rates, empty=empty, unit="%"
                    ),
                },
            },
        )


class OversightApiController(Controller):
    path = "/api/v1/oversight"
    guards = [OVERSEERS]
    tags = ["oversight"]

    @get("/", name="oversight-api")
    async def show(
        self, locale: Locale, page: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 1
    ) -> OversightOverview:
        """Due dates per officer, open escalations, every case (metadata; 100 a page,
        ``page`` from 1, ``cases_has_next`` when another follows), verification."""
        return await services.overview(locale, page=page)

    @get("/cases/{ledger_no:str}", name="oversight-case-api")
    async def trail(self, locale: Locale, ledger_no: LedgerNo) -> CaseTrail:
        """A case's metadata and custody trail, never its content."""
        return await services.case_trail(ledger_no, locale)

    @post("/cases/{ledger_no:str}/notes", name="oversight-note-api", status_code=201)
    async def note(self, user: User, ledger_no: LedgerNo, data: JSONBody[NoteBody]) -> NoteAdded:
        """A supervision note (督办), at most 500 characters, recorded as a custody event."""
        event = await services.add_supervision_note(user, ledger_no, data.text)
        return NoteAdded(seq=int(event["seq"]), ledger_no=ledger_no)

    @post("/verify", name="oversight-verify-api", status_code=200)
    async def verify(self, request: AnyRequest, user: User) -> VerificationOut:
        """Verify the whole ledger now; the result is kept for the inspector's page."""
        return await services.run_verification(_settings(request), "inspector", user.account_id)


class ExportsApiController(Controller):
    path = "/api/v1/exports"
    guards = [OFFICERS]
    tags = ["oversight"]

    @get("/", name="exports-api")
    async def list_requests(self) -> list[ExportRequestOut]:
        return await services.export_requests()

    @post("/", name="exports-request-api", status_code=201)
    async def ask(self, user: User, data: JSONBody[ExportRequestBody]) -> ExportRequestOut:
        """Ask for a content export of the named ledger numbers (space or comma separated)."""
        request_id = await services.request_content_export(user, data.ledger_nos, data.reason)
        return next(r for r in await services.export_requests() if r.id == request_id)

    @post("/{request_id:int}/decision", name="exports-decide-api", status_code=200)
    async def decide(
        self, user: User, request_id: RequestId, data: JSONBody[DecisionBody]
    ) -> ExportRequestOut:
        """A second officer approves or refuses (not the one who asked)."""
        await services.decide_content_export(user, request_id, data.approve, data.reason)
        return next(r for r in await services.export_requests() if r.id == request_id)

    @post("/{request_id:int}/download", name="exports-download-api", status_code=200)
    async def download(
        self, request: AnyRequest, user: User, locale: Locale, request_id: RequestId
    ) -> Response[bytes]:
        """The approved export, once, made with this session's key; 409 when not approved."""
        key = await session_key(user, request.cookies.get(KEY_COOKIE_NAME))
        return _xlsx(await services.produce_content_export(user, key, request_id, locale))


class StatisticsApiController(Controller):
    path = "/api/v1/statistics"
    guards = [LEDGER_READERS]
    tags = ["oversight"]

    @get("/", name="statistics-api")
    async def show(self, locale: Locale) -> Statistics:
        """Tips per month, category, township; median working days; on-time rates."""
        return await services.statistics(locale)


# The pages of the top navigation (registered by tipline.app, which orders the bar).
NAV: list[NavItem] = [
    NavItem("/oversight", "oversight.nav", frozenset({Role.inspector, Role.leader})),
    NavItem("/exports", "oversight.exports.nav", frozenset({Role.officer})),
]


route_handlers: list[Any] = [
    OversightPageController,
    LedgerExportController,
    ExportsPageController,
    StatisticsPageController,
    OversightApiController,
    ExportsApiController,
    StatisticsApiController,
]
