"""The officer's tip ledger pages (``/cases``) and their JSON mirror (``/api/v1/cases``).

Every route admits designated officers only. Reading needs the officer's key, unlocked
for this session at sign-in (the ``tipline_key`` cookie); without it the page asks the
officer to sign in again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import msgspec
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tipline.auth import Role, current_user, requires
from tipline.cases import services
from tipline.cases.exceptions import ActionNotHere, KeyLocked
from tipline.cases.schemas import (
    AccessHolder,
    ApprovalOut,
    ApprovalRequestBody,
    AssignBody,
    CaseFileOut,
    CaseFilter,
    CaseRow,
    CaseView,
    DecisionBody,
    GrantBody,
    IdentityOut,
    RegisterBody,
    RegistrationBody,
    ReplyBody,
    ReplySent,
    RevokeBody,
    TimelineEntry,
    TransitionBody,
    TransitionOut,
)
from tipline.crypto.services import KEY_COOKIE_NAME
from tipline.errors import DomainError
from tipline.hotline import services as hotline
from tipline.intake.schemas import CATEGORIES
from tipline.web.i18n import translate
from tipline.web.templating import NavItem

AnyRequest = Request[Any, Any, Any]
Locale = NamedDependency[str]
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
STATUSES = (
    "received",
    "registered",
    "under_assessment",
    "transferred",
    "feedback_received",
    "closed",
    "merged",
    "voided",
)
CHANNELS = ("web", "phone", "letter", "visit")
DEADLINE_STATES = ("ok", "warning", "overdue", "none")
MAX_PAGE = 1_000_000
ApprovalId = Annotated[int, PathParameter(ge=1)]
OfficerId = Annotated[int, PathParameter(ge=1)]


class ReplyForm(msgspec.Struct):
    text: str = ""


class RegisterForm(msgspec.Struct):
    category: str = ""
    township: str = ""
    summary: str = ""
    officer: str = ""
    reason: str = ""


class AssignForm(msgspec.Struct):
    officer: str = ""
    reason: str = ""


class TransitionForm(msgspec.Struct):
    action: str = ""
    reason: str = ""
    merge_into: str = ""


class ReasonForm(msgspec.Struct):
    reason: str = ""


class ApprovalForm(msgspec.Struct):
    action: str = ""
    reason: str = ""


class DecisionForm(msgspec.Struct):
    decision: str = ""
    reason: str = ""


class GrantForm(msgspec.Struct):
    officer: str = ""
    reason: str = ""


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


async def _key(request: AnyRequest) -> X25519PrivateKey:
    return await services.session_key(current_user(request), request.cookies.get(KEY_COOKIE_NAME))


def _locked_page(error: KeyLocked) -> Template:
    """403 with a way out: sign out and in again (the sign-in page skips the signed-in)."""
    return Template("cases/locked.html", status_code=error.status_code)


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
            status=_choice(status, STATUSES),
            channel=_choice(channel, CHANNELS),
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
                "statuses": STATUSES,
                "channels": CHANNELS,
                "categories": CATEGORIES,
                "deadline_states": DEADLINE_STATES,
                "townships": await services.township_choices(),
                "officers": await services.officer_choices(),
            },
        )

    @get("/approvals", name="case-approvals")
    async def approvals(
        self, request: AnyRequest, locale: Locale, done: FromQuery[str | None] = None
    ) -> Template:
        """Requests waiting for a second designated officer, and the latest decisions."""
        return await self._approvals_page(request, locale, done=done)

    async def _approvals_page(
        self,
        request: AnyRequest,
        locale: str,
        *,
        done: str | None = None,
        error: DomainError | None = None,
    ) -> Template:
        key = DONE_MESSAGES.get(done or "")
        return Template(
            "cases/approvals.html",
            context={
                "approvals": await services.list_approvals(current_user(request)),
                "done": translate(locale, key) if key else None,
                "error": translate(locale, error.key, **error.values) if error else None,
            },
            status_code=error.status_code if error else 200,
        )

    @post("/approvals/{approval_id:int}/withdraw", name="case-approval-withdraw")
    async def withdraw(
        self,
        request: AnyRequest,
        locale: Locale,
        approval_id: ApprovalId,
        data: URLEncodedBody[ReasonForm],
    ) -> Template | Redirect:
        """Withdraw one's own pending request, with a reason."""
        try:
            await services.withdraw_approval(current_user(request), approval_id, data.reason)
        except DomainError as error:
            return await self._approvals_page(request, locale, error=error)
        return Redirect("/cases/approvals?done=withdrawn", status_code=HTTP_303_SEE_OTHER)

    @post("/approvals/{approval_id:int}", name="case-approval-decide")
    async def decide(
        self,
        request: AnyRequest,
        locale: Locale,
        approval_id: ApprovalId,
        data: URLEncodedBody[DecisionForm],
    ) -> Template | Redirect:
        """Approve or refuse a request (never one's own), with a reason."""
        try:
            if data.decision not in ("approve", "refuse"):
                raise ActionNotHere()
            await services.decide_approval(
                current_user(request), approval_id, data.decision == "approve", data.reason
            )
        except DomainError as error:
            return await self._approvals_page(request, locale, error=error)
        done = "approved" if data.decision == "approve" else "refused"
        return Redirect(f"/cases/approvals?done={done}", status_code=HTTP_303_SEE_OTHER)

    async def _case_page(
        self,
        request: AnyRequest,
        locale: str,
        ledger_no: str,
        *,
        done: str | None = None,
        error: DomainError | None = None,
        text: str = "",
        form: dict[str, Any] | None = None,
    ) -> Template:
        user = current_user(request)
        try:
            case = await services.open_case(user, await _key(request), ledger_no)
        except KeyLocked as locked:
            return _locked_page(locked)
        key = DONE_MESSAGES.get(done or "")
        return Template(
            "cases/case.html",
            context={
                "case": case,
                "page": await services.case_page(user, ledger_no),
                "transcript": await hotline.transcript_state_for(ledger_no),
                "user": user,
                "categories": CATEGORIES,
                "done": translate(locale, key) if key else None,
                "error": translate(locale, error.key, **error.values) if error else None,
                "text": text,
                "form": form or {},
            },
            status_code=error.status_code if error else 200,
        )

    async def _act(
        self,
        request: AnyRequest,
        locale: str,
        ledger_no: str,
        action: Callable[[], Awaitable[Any]],
        done: str,
        form: dict[str, Any],
        anchor: str = "",
    ) -> Template | Redirect:
        """Run one case action; on a refusal show the case page again with the message."""
        try:
            await action()
        except KeyLocked as locked:
            return _locked_page(locked)
        except DomainError as error:
            return await self._case_page(request, locale, ledger_no, error=error, form=form)
        return Redirect(f"/cases/{ledger_no}?done={done}{anchor}", status_code=HTTP_303_SEE_OTHER)

    @post("/{ledger_no:str}/register", name="case-register")
    async def register(
        self,
        request: AnyRequest,
        locale: Locale,
        ledger_no: LedgerNo,
        data: URLEncodedBody[RegisterForm],
    ) -> Template | Redirect:
        """Register the tip (登记): category, township, summary, officer, with a reason."""
        user = current_user(request)
        body = RegisterBody(
            category=data.category,
            summary=data.summary,
            reason=data.reason,
            township_id=_int_or_none(data.township),
            assigned_officer_id=_int_or_none(data.officer),
        )
        return await self._act(
            request,
            locale,
            ledger_no,
            lambda: services.register(user, ledger_no, body),
            "registered",
            msgspec.structs.asdict(data),
        )

    @post("/{ledger_no:str}/registration", name="case-registration")
    async def correct_registration(
        self,
        request: AnyRequest,
        locale: Locale,
        ledger_no: LedgerNo,
        data: URLEncodedBody[RegisterForm],
    ) -> Template | Redirect:
        """Correct the registration (category, township, summary), with a reason."""
        user = current_user(request)
        body = RegistrationBody(
            category=data.category,
            summary=data.summary,
            reason=data.reason,
            township_id=_int_or_none(data.township),
        )
        return await self._act(
            request,
            locale,
            ledger_no,
            lambda: services.correct_registration(user, ledger_no, body),
            "corrected",
            msgspec.structs.asdict(data),
        )

    @post("/{ledger_no:str}/assign", name="case-assign")
    async def assign(
        self,
        request: AnyRequest,
        locale: Locale,
        ledger_no: LedgerNo,
        data: URLEncodedBody[AssignForm],
    ) -> Template | Redirect:
        """Name the officer in charge of the tip."""
        user = current_user(request)
        officer_id = _int_or_none(data.officer) or 0
        return await self._act(
            request,
            locale,
            ledger_no,
            lambda: services.assign(user, ledger_no, officer_id, data.reason),
            "assigned",
            msgspec.structs.asdict(data),
        )

    @post("/{ledger_no:str}/transitions", name="case-transition")
    async def transition(
        self,
        request: AnyRequest,
        locale: Locale,
        ledger_no: LedgerNo,
        data: URLEncodedBody[TransitionForm],
    ) -> Template | Redirect:
        """Assess, close or merge the tip, with a reason."""
        user = current_user(request)
        return await self._act(
            request,
            locale,
            ledger_no,
            lambda: services.transition(
                user, ledger_no, data.action, data.reason, data.merge_into or None
            ),
            "transition",
            msgspec.structs.asdict(data),
        )

    @post("/{ledger_no:str}/approvals", name="case-approval-request")
    async def request_approval(
        self,
        request: AnyRequest,
        locale: Locale,
        ledger_no: LedgerNo,
        data: URLEncodedBody[ApprovalForm],
    ) -> Template | Redirect:
        """Ask a second officer to approve voiding, closing without transfer or opening
        the real-name identity."""
        user = current_user(request)
        return await self._act(
            request,
            locale,
            ledger_no,
            lambda: services.request_approval(user, ledger_no, data.action, data.reason),
            "requested",
            msgspec.structs.asdict(data),
            "#approvals",
        )

    @post("/{ledger_no:str}/access", name="case-access-grant")
    async def grant(
        self,
        request: AnyRequest,
        locale: Locale,
        ledger_no: LedgerNo,
        data: URLEncodedBody[GrantForm],
    ) -> Template | Redirect:
        """Re-seal the tip's key to another designated officer."""
        user = current_user(request)
        officer_id = _int_or_none(data.officer) or 0

        async def run() -> None:
            await services.grant_access(
                user, await _key(request), ledger_no, officer_id, data.reason
            )

        return await self._act(
            request, locale, ledger_no, run, "granted", msgspec.structs.asdict(data), "#access"
        )

    @post("/{ledger_no:str}/access/{officer_id:int}/revoke", name="case-access-revoke")
    async def revoke(
        self,
        request: AnyRequest,
        locale: Locale,
        ledger_no: LedgerNo,
        officer_id: OfficerId,
        data: URLEncodedBody[ReasonForm],
    ) -> Template | Redirect:
        """Remove an officer's sealed copies of the tip's key."""
        user = current_user(request)
        return await self._act(
            request,
            locale,
            ledger_no,
            lambda: services.revoke_access(user, ledger_no, officer_id, data.reason),
            "revoked",
            {"revoke_reason": data.reason},
            "#access",
        )

    @post("/{ledger_no:str}/identity/{approval_id:int}", name="case-identity-open")
    async def open_identity(
        self,
        request: AnyRequest,
        ledger_no: LedgerNo,
        approval_id: ApprovalId,
    ) -> Template:
        """Open the real-name identity once, under this officer's approved request
        (recorded as ``tip.identity_opened``)."""
        try:
            key = await _key(request)
        except KeyLocked as locked:
            return _locked_page(locked)
        identity = await services.open_identity(current_user(request), key, ledger_no, approval_id)
        return Template("cases/identity.html", context={"identity": identity})

    @get("/{ledger_no:str}", name="case")
    async def show(
        self,
        request: AnyRequest,
        locale: Locale,
        ledger_no: LedgerNo,
        done: FromQuery[str | None] = None,
    ) -> Template:
        """The tip opened for this session (recorded as ``tip.viewed``)."""
        return await self._case_page(request, locale, ledger_no, done=done)

    @get("/{ledger_no:str}/attachments/{uid:str}", name="case-attachment")
    async def attachment(
        self,
        request: AnyRequest,
        ledger_no: LedgerNo,
        uid: Uid,
        inline: FromQuery[bool] = False,
    ) -> Response[bytes] | Template:
        """An attachment decrypted for download (``inline=true``: a JPEG/PNG shown in the
        page); recorded as ``tip.attachment_downloaded``."""
        try:
            key = await _key(request)
        except KeyLocked as locked:
            return _locked_page(locked)
        file = await services.open_attachment(
            current_user(request), key, ledger_no, uid, inline=inline
        )
        return _file_response(file)

    @post("/{ledger_no:str}/messages", name="case-reply")
    async def reply(
        self,
        request: AnyRequest,
        locale: Locale,
        ledger_no: LedgerNo,
        data: URLEncodedBody[ReplyForm],
    ) -> Template | Redirect:
        """Reply to the tipster (recorded as ``tip.message_sent``)."""
        try:
            key = await _key(request)
        except KeyLocked as locked:
            return _locked_page(locked)
        try:
            await services.reply(current_user(request), key, ledger_no, data.text)
        except KeyLocked as locked:
            return _locked_page(locked)
        except DomainError as error:
            if error.status_code != 400:
                raise
            return await self._case_page(request, locale, ledger_no, error=error, text=data.text)
        return Redirect(f"/cases/{ledger_no}?done=sent#messages", status_code=HTTP_303_SEE_OTHER)


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
    async def approvals(self, request: AnyRequest) -> list[ApprovalOut]:
        """Pending two-person requests (oldest first), then the latest decisions."""
        return await services.list_approvals(current_user(request))

    @post(
        "/approvals/{approval_id:int}/withdraw", name="case-approval-withdraw-api", status_code=200
    )
    async def withdraw(
        self, request: AnyRequest, approval_id: ApprovalId, data: JSONBody[RevokeBody]
    ) -> ApprovalOut:
        """Withdraw one's own pending request (403 for another officer's)."""
        return await services.withdraw_approval(current_user(request), approval_id, data.reason)

    @post("/approvals/{approval_id:int}", name="case-approval-decide-api", status_code=200)
    async def decide(
        self, request: AnyRequest, approval_id: ApprovalId, data: JSONBody[DecisionBody]
    ) -> ApprovalOut:
        """Approve or refuse a request of another officer (403 for one's own); approving
        a void or close without transfer applies it at once."""
        return await services.decide_approval(
            current_user(request), approval_id, data.approve, data.reason
        )

    @get("/{ledger_no:str}", name="case-api")
    async def show(self, request: AnyRequest, ledger_no: LedgerNo) -> CaseView:
        """The tip decrypted with this session's key, without the real-name section;
        403 ``cases.error.key_locked`` when the key cookie is missing."""
        return await services.open_case(current_user(request), await _key(request), ledger_no)

    @get("/{ledger_no:str}/attachments/{uid:str}", name="case-attachment-api")
    async def attachment(
        self, request: AnyRequest, ledger_no: LedgerNo, uid: Uid
    ) -> Response[bytes]:
        """An attachment decrypted, as a download."""
        file = await services.open_attachment(
            current_user(request), await _key(request), ledger_no, uid
        )
        return _file_response(file)

    @post("/{ledger_no:str}/messages", name="case-reply-api", status_code=201)
    async def reply(
        self, request: AnyRequest, ledger_no: LedgerNo, data: JSONBody[ReplyBody]
    ) -> ReplySent:
        """Reply to the tipster; the tipster, the officers and the escrow key can read it."""
        message_id = await services.reply(
            current_user(request), await _key(request), ledger_no, data.text
        )
        return ReplySent(message_id=message_id)

    @post("/{ledger_no:str}/register", name="case-register-api", status_code=201)
    async def register(
        self, request: AnyRequest, ledger_no: LedgerNo, data: JSONBody[RegisterBody]
    ) -> CaseFileOut:
        """Register a received tip (登记); ``tip.registered`` with the reason."""
        return await services.register(current_user(request), ledger_no, data)

    @post("/{ledger_no:str}/registration", name="case-registration-api", status_code=200)
    async def correct_registration(
        self, request: AnyRequest, ledger_no: LedgerNo, data: JSONBody[RegistrationBody]
    ) -> CaseFileOut:
        """Correct category, township or summary; ``tip.registration_corrected``."""
        return await services.correct_registration(current_user(request), ledger_no, data)

    @post("/{ledger_no:str}/assign", name="case-assign-api", status_code=200)
    async def assign(
        self, request: AnyRequest, ledger_no: LedgerNo, data: JSONBody[AssignBody]
    ) -> CaseFileOut:
        """Name the officer in charge of a registered tip; ``tip.assigned``."""
        return await services.assign(current_user(request), ledger_no, data.officer_id, data.reason)

    @post("/{ledger_no:str}/transitions", name="case-transition-api", status_code=200)
    async def transition(
        self, request: AnyRequest, ledger_no: LedgerNo, data: JSONBody[TransitionBody]
    ) -> TransitionOut:
        """``assess``, ``close`` or ``merge`` (with ``merge_into``); 409 when the status
        does not allow it (or someone else acted first)."""
        return await services.transition(
            current_user(request), ledger_no, data.action, data.reason, data.merge_into
        )

    @post("/{ledger_no:str}/approvals", name="case-approval-request-api", status_code=201)
    async def request_approval(
        self, request: AnyRequest, ledger_no: LedgerNo, data: JSONBody[ApprovalRequestBody]
    ) -> ApprovalOut:
        """Request ``void``, ``close_without_transfer`` or ``open_identity``."""
        return await services.request_approval(
            current_user(request), ledger_no, data.action, data.reason
        )

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
        self, request: AnyRequest, ledger_no: LedgerNo, data: JSONBody[GrantBody]
    ) -> list[AccessHolder]:
        """Re-seal the tip's key to another designated officer; ``tip.access_granted``."""
        return await services.grant_access(
            current_user(request), await _key(request), ledger_no, data.officer_id, data.reason
        )

    @post(
        "/{ledger_no:str}/access/{officer_id:int}/revoke",
        name="case-access-revoke-api",
        status_code=200,
    )
    async def revoke(
        self,
        request: AnyRequest,
        ledger_no: LedgerNo,
        officer_id: OfficerId,
        data: JSONBody[RevokeBody],
    ) -> list[AccessHolder]:
        """Remove an officer's sealed copies (never the escrow's or the last officer's)."""
        return await services.revoke_access(
            current_user(request), ledger_no, officer_id, data.reason
        )

    @post(
        "/{ledger_no:str}/identity/{approval_id:int}",
        name="case-identity-open-api",
        status_code=200,
    )
    async def open_identity(
        self, request: AnyRequest, ledger_no: LedgerNo, approval_id: ApprovalId
    ) -> IdentityOut:
        """Open the real-name identity once under this officer's approved request."""
        return await services.open_identity(
            current_user(request), await _key(request), ledger_no, approval_id
        )


# The pages of the top navigation (registered by tipline.app, which orders the bar).
NAV: list[NavItem] = [
    NavItem("/cases", "cases.nav", frozenset({Role.officer})),
]


route_handlers: list[Any] = [CasesPageController, CasesApiController]
