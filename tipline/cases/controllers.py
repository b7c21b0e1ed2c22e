"""The officer's tip ledger pages (``/cases``) and their JSON mirror (``/api/v1/cases``).

Every route admits designated officers only. Reading needs the officer's key, unlocked
for this session at sign-in (the ``tipline_key`` cookie); without it the page asks the
officer to sign in again.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tipline.auth import CurrentUser, Role, User, current_user, requires
from tipline.cases import services
from tipline.cases.lifecycle import Status
from tipline.cases.schemas import (
    AccessHolder,
    ApprovalForm,
    ApprovalOut,
    ApprovalRequestBody,
    AssignBody,
    CaseFileOut,
    CaseFilter,
    CaseRow,
    CaseView,
    DecisionBody,
    DecisionForm,
    GrantBody,
    IdentityOut,
    OfficerForm,
    ReasonForm,
    RegisterBody,
    RegisterForm,
    RegistrationBody,
    ReplyBody,
    ReplyForm,
    ReplySent,
    RevokeBody,
    TimelineEntry,
    TransitionBody,
    TransitionForm,
    TransitionOut,
)
from tipline.crypto.services import KEY_COOKIE_NAME
from tipline.errors import DomainError
from tipline.hotline import services as hotline
from tipline.intake.schemas import CATEGORIES, Channel
from tipline.web.forms import form_page
from tipline.web.i18n import translate
from tipline.web.templating import NavItem, request_locale

AnyRequest = Request[Any, Any, Any]
LedgerNo = Annotated[str, PathParameter(max_length=16, description="ledger number, 2026-000123")]
Uid = Annotated[str, PathParameter(max_length=32)]
OFFICERS = requires(Role.officer)

DONE_MESSAGES = {
    "sent": "cases.done.sent",
    "registered": "cases.done.registered",
    "assigned": "cases.done.assigned",
    "corrected": "cases.done.corrected",
    "transition": "cases.done.transition",
    "requested": "cases.done.requested",
    "granted": "cases.done.granted",
    "revoked": "cases.done.revoked",
    "approved": "cases.done.approved",
    "refused": "cases.done.refused",
    "withdrawn": "cases.done.withdrawn",
}
DEADLINE_STATES = ("ok", "warning", "overdue", "none")
MAX_PAGE = 1_000_000
ApprovalId = Annotated[int, PathParameter(ge=1)]
OfficerId = Annotated[int, PathParameter(ge=1)]
# Every refusal of a case action is shown on the page it came from (a refused approval
# too: the officer reads why beside the request); a locked key has its own page
# (KeyLocked.page), a page that cannot be drawn again gets the error page.
ANY_REFUSAL: tuple[type[DomainError], ...] = (DomainError,)


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text and text.strip() else None
    except ValueError:
        return None


def _choice(value: str | None, allowed: tuple[str, ...]) -> str | None:
    return value if value in allowed else None


def _page_link(filters: CaseFilter, page: int) -> str:
    """``/cases`` with the same filters, at ``page``."""
    kept = {
        name: value
        for name in ("status", "channel", "category", "township", "officer", "deadline", "q")
        if (value := getattr(filters, name)) is not None
    }
    return "/cases?" + urlencode({**kept, "page": page})


async def _key(user: CurrentUser, request: AnyRequest) -> X25519PrivateKey:
    """This session's officer key (:class:`~tipline.cases.exceptions.KeyLocked`, which
    brings its own page, when it is locked)."""
    return await services.session_key(user, request.cookies.get(KEY_COOKIE_NAME))


def _file_response(file: Any) -> Response[bytes]:
    disposition = "inline" if file.inline else "attachment"
    return Response(
        file.data,
        media_type=file.media_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{file.filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


def _done(request: AnyRequest, done: str | None) -> str | None:
    key = DONE_MESSAGES.get(done or "")
    return translate(request_locale(request), key) if key else None


async def approvals_page(request: AnyRequest, done: str | None = None) -> Template:
    """Requests waiting for a second designated officer, and the latest decisions (as
    refused: ``tipline.web.forms`` adds ``error`` and ``form``)."""
    return Template(
        "cases/approvals.html",
        context={
            "approvals": await services.list_approvals(current_user(request)),
            "done": _done(request, done),
            "error": None,
        },
    )


async def case_page(request: AnyRequest, done: str | None = None) -> Template:
    """The tip opened for this session (as refused: ``error`` and the ``form`` typed)."""
    user = current_user(request)
    ledger_no = str(request.path_params["ledger_no"])
    case = await services.open_case(user, await _key(user, request), ledger_no)
    return Template(
        "cases/case.html",
        context={
            "case": case,
            "page": await services.case_page(user, ledger_no),
            "transcript": await hotline.transcript_state_for(ledger_no),
            "user": user,
            "categories": CATEGORIES,
            "done": _done(request, done),
            "error": None,
            "form": {},
        },
    )


def _done_at(ledger_no: str, done: str, anchor: str = "") -> Redirect:
    return Redirect(f"/cases/{ledger_no}?done={done}{anchor}", status_code=HTTP_303_SEE_OTHER)


ON_CASE_PAGE = form_page(case_page, refuse=ANY_REFUSAL)
ON_APPROVALS_PAGE = form_page(approvals_page, refuse=ANY_REFUSAL)


class CasesPageController(Controller):
    path = "/cases"
    guards = [OFFICERS]
    include_in_schema = False

    @get("/", name="cases")
    async def list_cases(
        self,
        status: FromQuery[str | None] = None,
        channel: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        township: FromQuery[str | None] = None,
        officer: FromQuery[str | None] = None,
        deadline: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        page: FromQuery[str | None] = None,
    ) -> Template:
        """The tip ledger (台账) with filters and a search over metadata, 100 tips a page
        (``?page=2``); nothing is decrypted."""
        filters = CaseFilter(
            status=_choice(status, tuple(Status)),
            channel=_choice(channel, tuple(Channel)),
            category=_choice(category, CATEGORIES),
            township=_int_or_none(township),
            officer=_int_or_none(officer),
            deadline=_choice(deadline, DEADLINE_STATES),  # type: ignore[arg-type]
            q=(q or "").strip()[:64] or None,
        )
        number = _int_or_none(page)
        listed = await services.list_cases_page(filters, min(max(number or 1, 1), MAX_PAGE))
        return Template(
            "cases/list.html",
            context={
                "cases": listed.rows,
                "listed": listed,
                "page_link": lambda n: _page_link(filters, n),
                "filters": filters,
                "statuses": tuple(Status),
                "channels": tuple(Channel),
                "categories": CATEGORIES,
                "deadline_states": DEADLINE_STATES,
                "townships": await services.township_choices(),
                "officers": await services.officer_choices(),
            },
        )

    @get("/approvals", name="case-approvals")
    async def approvals(self, request: AnyRequest, done: FromQuery[str | None] = None) -> Template:
        """Requests waiting for a second designated officer, and the latest decisions."""
        return await approvals_page(request, done)

    @post(
        "/approvals/{approval_id:int}/withdraw",
        name="case-approval-withdraw",
        opt=ON_APPROVALS_PAGE,
    )
    async def withdraw(
        self, user: User, approval_id: ApprovalId, data: URLEncodedBody[ReasonForm]
    ) -> Redirect:
        """Withdraw one's own pending request, with a reason."""
        await services.withdraw_approval(user, approval_id, data.body().reason)
        return Redirect("/cases/approvals?done=withdrawn", status_code=HTTP_303_SEE_OTHER)

    @post("/approvals/{approval_id:int}", name="case-approval-decide", opt=ON_APPROVALS_PAGE)
    async def decide(
        self, user: User, approval_id: ApprovalId, data: URLEncodedBody[DecisionForm]
    ) -> Redirect:
        """Approve or refuse a request (never one's own), with a reason."""
        body = data.body()
        await services.decide_approval(user, approval_id, body.approve, body.reason)
        done = "approved" if body.approve else "refused"
        return Redirect(f"/cases/approvals?done={done}", status_code=HTTP_303_SEE_OTHER)

    @post("/{ledger_no:str}/register", name="case-register", opt=ON_CASE_PAGE)
    async def register(
        self, user: User, ledger_no: LedgerNo, data: URLEncodedBody[RegisterForm]
    ) -> Redirect:
        """Register the tip (登记): category, township, summary, officer, with a reason."""
        await services.register(user, ledger_no, data.register())
        return _done_at(ledger_no, "registered")

    @post("/{ledger_no:str}/registration", name="case-registration", opt=ON_CASE_PAGE)
    async def correct_registration(
        self, user: User, ledger_no: LedgerNo, data: URLEncodedBody[RegisterForm]
    ) -> Redirect:
        """Correct the registration (category, township, summary), with a reason."""
        await services.correct_registration(user, ledger_no, data.registration())
        return _done_at(ledger_no, "corrected")

    @post("/{ledger_no:str}/assign", name="case-assign", opt=ON_CASE_PAGE)
    async def assign(
        self, user: User, ledger_no: LedgerNo, data: URLEncodedBody[OfficerForm]
    ) -> Redirect:
        """Name the officer in charge of the tip."""
        body = data.assign()
        await services.assign(user, ledger_no, body.officer_id, body.reason)
        return _done_at(ledger_no, "assigned")

    @post("/{ledger_no:str}/transitions", name="case-transition", opt=ON_CASE_PAGE)
    async def transition(
        self, user: User, ledger_no: LedgerNo, data: URLEncodedBody[TransitionForm]
    ) -> Redirect:
        """Assess, close or merge the tip, with a reason."""
        body = data.body()
        await services.transition(user, ledger_no, body.action, body.reason, body.merge_into)
        return _done_at(ledger_no, "transition")

    @post("/{ledger_no:str}/approvals", name="case-approval-request", opt=ON_CASE_PAGE)
    async def request_approval(
        self, user: User, ledger_no: LedgerNo, data: URLEncodedBody[ApprovalForm]
    ) -> Redirect:
        """Ask a second officer to approve voiding, closing without transfer or opening
        the real-name identity."""
        body = data.body()
        await services.request_approval(user, ledger_no, body.action, body.reason)
        return _done_at(ledger_no, "requested", "#approvals")

    @post("/{ledger_no:str}/access", name="case-access-grant", opt=ON_CASE_PAGE)
    async def grant(
        self,
        request: AnyRequest,
        user: User,
        ledger_no: LedgerNo,
        data: URLEncodedBody[OfficerForm],
    ) -> Redirect:
        """Re-seal the tip's key to another designated officer."""
        body = data.grant()
        key = await _key(user, request)
        await services.grant_access(user, key, ledger_no, body.officer_id, body.reason)
        return _done_at(ledger_no, "granted", "#access")

    @post(
        "/{ledger_no:str}/access/{officer_id:int}/revoke",
        name="case-access-revoke",
        opt=ON_CASE_PAGE,
    )
    async def revoke(
        self,
        user: User,
        ledger_no: LedgerNo,
        officer_id: OfficerId,
        data: URLEncodedBody[ReasonForm],
    ) -> Redirect:
        """Remove an officer's sealed copies of the tip's key."""
        await services.revoke_access(user, ledger_no, officer_id, data.body().reason)
        return _done_at(ledger_no, "revoked", "#access")

    @post("/{ledger_no:str}/identity/{approval_id:int}", name="case-identity-open")
    async def open_identity(
        self, request: AnyRequest, user: User, ledger_no: LedgerNo, approval_id: ApprovalId
    ) -> Template:
        """Open the real-name identity once, under this officer's approved request
        (recorded as ``tip.identity_opened``)."""
        key = await _key(user, request)
        identity = await services.open_identity(user, key, ledger_no, approval_id)
        return Template("cases/identity.html", context={"identity": identity})

    @get("/{ledger_no:str}", name="case")
    async def show(
        self, request: AnyRequest, ledger_no: LedgerNo, done: FromQuery[str | None] = None
    ) -> Template:
        """The tip opened for this session (recorded as ``tip.viewed``)."""
        return await case_page(request, done)

    @get("/{ledger_no:str}/attachments/{uid:str}", name="case-attachment")
    async def attachment(
        self,
        request: AnyRequest,
        user: User,
        ledger_no: LedgerNo,
        uid: Uid,
        inline: FromQuery[bool] = False,
    ) -> Response[bytes]:
        """An attachment decrypted for download (``inline=true``: a JPEG/PNG shown in the
        page); recorded as ``tip.attachment_downloaded``."""
        key = await _key(user, request)
        file = await services.open_attachment(user, key, ledger_no, uid, inline=inline)
        return _file_response(file)

    @post("/{ledger_no:str}/messages", name="case-reply", opt=form_page(case_page))
    async def reply(
        self,
        request: AnyRequest,
        user: User,
        ledger_no: LedgerNo,
        data: URLEncodedBody[ReplyForm],
    ) -> Redirect:
        """Reply to the tipster (recorded as ``tip.message_sent``)."""
        key = await _key(user, request)
        await services.reply(user, key, ledger_no, data.body().text)
        return _done_at(ledger_no, "sent", "#messages")


class CasesApiController(Controller):
    path = "/api/v1/cases"
    guards = [OFFICERS]
    tags = ["cases"]

    @get("/", name="cases-api")
    async def list_cases(
        self,
        status: FromQuery[str | None] = None,
        channel: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        township: FromQuery[int | None] = None,
        officer: FromQuery[int | None] = None,
        deadline: FromQuery[Literal["ok", "warning", "overdue", "none"] | None] = None,
        q: FromQuery[str | None] = None,
        page: Annotated[int | None, QueryParameter(ge=1, le=MAX_PAGE)] = None,
    ) -> list[CaseRow]:
        """The tip ledger, newest first: metadata only. Filters by status, channel,
        category, township id, assigned officer id, deadline state; ``q`` searches
        ledger numbers and the officers' summaries (never the sealed content). With
        ``page`` (from 1): that page of 100 tips only (an empty list past the last)."""
        filters = CaseFilter(
            status=status,
            channel=channel,
            category=category,
            township=township,
            officer=officer,
            deadline=deadline,
            q=q,
        )
        if page is not None:
            return (await services.list_cases_page(filters, page)).rows
        return await services.list_cases(filters)

    @get("/approvals", name="case-approvals-api")
    async def approvals(self, user: User) -> list[ApprovalOut]:
        """Pending two-person requests (oldest first), then the latest decisions."""
        return await services.list_approvals(user)

    @post(
        "/approvals/{approval_id:int}/withdraw", name="case-approval-withdraw-api", status_code=200
    )
    async def withdraw(
        self, user: User, approval_id: ApprovalId, data: JSONBody[RevokeBody]
    ) -> ApprovalOut:
        """Withdraw one's own pending request (403 for another officer's)."""
        return await services.withdraw_approval(user, approval_id, data.reason)

    @post("/approvals/{approval_id:int}", name="case-approval-decide-api", status_code=200)
    async def decide(
        self, user: User, approval_id: ApprovalId, data: JSONBody[DecisionBody]
    ) -> ApprovalOut:
        """Approve or refuse a request of another officer (403 for one's own); approving
        a void or close without transfer applies it at once."""
        return await services.decide_approval(user, approval_id, data.approve, data.reason)

    @get("/{ledger_no:str}", name="case-api")
    async def show(self, request: AnyRequest, user: User, ledger_no: LedgerNo) -> CaseView:
        """The tip decrypted with this session's key, without the real-name section;
        403 ``cases.error.key_locked`` when the key cookie is missing."""
        return await services.open_case(user, await _key(user, request), ledger_no)

    @get("/{ledger_no:str}/attachments/{uid:str}", name="case-attachment-api")
    async def attachment(
        self, request: AnyRequest, user: User, ledger_no: LedgerNo, uid: Uid
    ) -> Response[bytes]:
        """An attachment decrypted, as a download."""
        file = await services.open_attachment(user, await _key(user, request), ledger_no, uid)
        return _file_response(file)

    @post("/{ledger_no:str}/messages", name="case-reply-api", status_code=201)
    async def reply(
        self, request: AnyRequest, user: User, ledger_no: LedgerNo, data: JSONBody[ReplyBody]
    ) -> ReplySent:
        """Reply to the tipster; the tipster, the officers and the escrow key can read it."""
        message_id = await services.reply(user, await _key(user, request), ledger_no, data.text)
        return ReplySent(message_id=message_id)

    @post("/{ledger_no:str}/register", name="case-register-api", status_code=201)
    async def register(
        self, user: User, ledger_no: LedgerNo, data: JSONBody[RegisterBody]
    ) -> CaseFileOut:
        """Register a received tip (登记); ``tip.registered`` with the reason."""
        return await services.register(user, ledger_no, data)

    @post("/{ledger_no:str}/registration", name="case-registration-api", status_code=200)
    async def correct_registration(
        self, user: User, ledger_no: LedgerNo, data: JSONBody[RegistrationBody]
    ) -> CaseFileOut:
        """Correct category, township or summary; ``tip.registration_corrected``."""
        return await services.correct_registration(user, ledger_no, data)

    @post("/{ledger_no:str}/assign", name="case-assign-api", status_code=200)
    async def assign(
        self, user: User, ledger_no: LedgerNo, data: JSONBody[AssignBody]
    ) -> CaseFileOut:
        """Name the officer in charge of a registered tip; ``tip.assigned``."""
        return await services.assign(user, ledger_no, data.officer_id, data.reason)

    @post("/{ledger_no:str}/transitions", name="case-transition-api", status_code=200)
    async def transition(
        self, user: User, ledger_no: LedgerNo, data: JSONBody[TransitionBody]
    ) -> TransitionOut:
        """``assess``, ``close`` or ``merge`` (with ``merge_into``); 409 when the status
        does not allow it (or someone else acted first)."""
        return await services.transition(user, ledger_no, data.action, data.reason, data.merge_into)

    @post("/{ledger_no:str}/approvals", name="case-approval-request-api", status_code=201)
    async def request_approval(
        self, user: User, ledger_no: LedgerNo, data: JSONBody[ApprovalRequestBody]
    ) -> ApprovalOut:
        """Request ``void``, ``close_without_transfer`` or ``open_identity``."""
        return await services.request_approval(user, ledger_no, data.action, data.reason)

    @get("/{ledger_no:str}/timeline", name="case-timeline-api")
    async def timeline(self, ledger_no: LedgerNo) -> list[TimelineEntry]:
        """Every custody event of the tip with actor names and reasons (no content)."""
        return await services.case_page_timeline(ledger_no)

    @get("/{ledger_no:str}/access", name="case-access-api")
    async def access(self, ledger_no: LedgerNo) -> list[AccessHolder]:
        """Who holds a sealed copy of the tip's key."""
        return await services.case_access(ledger_no)

    @post("/{ledger_no:str}/access", name="case-access-grant-api", status_code=201)
    async def grant(
        self, request: AnyRequest, user: User, ledger_no: LedgerNo, data: JSONBody[GrantBody]
    ) -> list[AccessHolder]:
        """Re-seal the tip's key to another designated officer; ``tip.access_granted``."""
        return await services.grant_access(
            user, await _key(user, request), ledger_no, data.officer_id, data.reason
        )

    @post(
        "/{ledger_no:str}/access/{officer_id:int}/revoke",
        name="case-access-revoke-api",
        status_code=200,
    )
    async def revoke(
        self,
        user: User,
        ledger_no: LedgerNo,
        officer_id: OfficerId,
        data: JSONBody[RevokeBody],
    ) -> list[AccessHolder]:
        """Remove an officer's sealed copies (never the escrow's or the last officer's)."""
        return await services.revoke_access(user, ledger_no, officer_id, data.reason)

    @post(
        "/{ledger_no:str}/identity/{approval_id:int}",
        name="case-identity-open-api",
        status_code=200,
    )
    async def open_identity(
        self, request: AnyRequest, user: User, ledger_no: LedgerNo, approval_id: ApprovalId
    ) -> IdentityOut:
        """Open the real-name identity once under this officer's approved request."""
        return await services.open_identity(user, await _key(user, request), ledger_no, approval_id)


# The pages of the top navigation (registered by tipline.app, which orders the bar).
NAV: list[NavItem] = [
    NavItem("/cases", "cases.nav", frozenset({Role.officer})),
]


route_handlers: list[Any] = [CasesPageController, CasesApiController]
