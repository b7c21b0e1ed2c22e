"""Pages and JSON API of the authority registry (``/admin/authorities``), of transfers
(``/cases/{ledger_no}/transfers``) and the authority's one-time reply link
(``/authority-reply/{token}``, the one public route here).

Thin: parse, authorize, call one service function, render. The registry is written by
the administrator and read by officers and the inspector; transfers are for designated
officers only; the transfer package needs the officer's key unlocked for this session.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, PathParameter, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tipline.auth import PUBLIC, CurrentUser, Role, User, current_user, requires
from tipline.authorities import services
from tipline.authorities.schemas import (
    AcknowledgementForm,
    AcknowledgementIn,
    AuthorityForm,
    AuthorityIn,
    AuthorityKind,
    AuthorityOut,
    FeedbackForm,
    FeedbackIn,
    FeedbackOutcome,
    LinkForm,
    ReplyForm,
    ReplyLinkIn,
    ReplyLinkOut,
    ReplyPurpose,
    TransferForm,
    TransferIn,
    TransferMethod,
    TransferOut,
    TransferReceipt,
)
from tipline.cases.services import session_key
from tipline.crypto.services import KEY_COOKIE_NAME
from tipline.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from tipline.ledger.checkpoints import ProofBundle
from tipline.ledger.services import Actor
from tipline.settings import Settings
from tipline.web.forms import form_page
from tipline.web.i18n import translate
from tipline.web.templating import NavItem, request_locale

AnyRequest = Request[Any, Any, Any]
Locale = NamedDependency[str]
LedgerNo = Annotated[str, PathParameter(max_length=16, description="ledger number, 2026-000123")]
AuthorityId = Annotated[int, PathParameter(ge=1)]
TransferId = Annotated[int, PathParameter(ge=1)]
Token = Annotated[str, PathParameter(max_length=64)]

ADMINS = requires(Role.admin)
READERS = requires(Role.admin, Role.officer, Role.inspector, Role.leader)
OFFICERS = requires(Role.officer)

DONE = {
    "created": "authorities.done.created",
    "updated": "authorities.done.updated",
    "transferred": "authorities.done.transferred",
    "acknowledged": "authorities.done.acknowledged",
    "feedback": "authorities.done.feedback",
}
# A refusal below 500 is shown on the form's page (a 5xx, a missing font, gets the
# error page): a wrong status, a taken document number, a tip not readable.
REFUSED_HERE: tuple[type[DomainError], ...] = (Invalid, Conflict, NotFound, Forbidden)


def _settings(request: AnyRequest) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _key(user: CurrentUser, request: AnyRequest) -> Any:
    """This session's officer key (``KeyLocked``, with its own page, when locked)."""
    return await session_key(user, request.cookies.get(KEY_COOKIE_NAME))


def _file(file: services.PackageFile) -> Response[bytes]:
    return Response(
        file.data,
        media_type=file.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{file.filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "X-Content-SHA256": file.sha256,
        },
    )


def _done(request: AnyRequest, done: str | None) -> str | None:
    key = DONE.get(done or "")
    return translate(request_locale(request), key) if key else None


# --- the registry -------------------------------------------------------------------------


def _registry_context(request: AnyRequest) -> dict[str, Any]:
    return {
        "kinds": list(AuthorityKind),
        "can_edit": current_user(request).role is Role.admin,
    }


async def authorities_page(request: AnyRequest, done: str | None = None) -> Template:
    """Every competent authority, with the form to register one (as refused: ``error``
    and the ``form`` typed)."""
    return Template(
        "authorities/list.html",
        context={
            **_registry_context(request),
            "authorities": await services.list_authorities(),
            "done": _done(request, done),
            "error": None,
            "form": AuthorityForm(active="1"),
        },
    )


async def authority_page(request: AnyRequest) -> Template:
    authority = await services.get_authority(int(request.path_params["authority_id"]))
    return Template(
        "authorities/edit.html",
        context={
            **_registry_context(request),
            "authority": authority,
            "form": AuthorityForm.of(authority),
            "error": None,
        },
    )


class AuthorityPageController(Controller):
    path = "/admin/authorities"
    include_in_schema = False

    @get("/", name="authorities-page", guards=[READERS])
    async def list_page(self, request: AnyRequest, done: FromQuery[str | None] = None) -> Template:
        """Every competent authority, with the form to register one (administrators)."""
        return await authorities_page(request, done)

    @post(
        "/",
        name="authorities-create-page",
        guards=[ADMINS],
        opt=form_page(authorities_page, refuse=REFUSED_HERE),
    )
    async def create(self, user: User, data: URLEncodedBody[AuthorityForm]) -> Redirect:
        await services.create_authority(Actor.account(user.account_id), data.body())
        return Redirect("/admin/authorities?done=created", status_code=HTTP_303_SEE_OTHER)

    @get("/{authority_id:int}", name="authority-page", guards=[READERS])
    async def show(self, request: AnyRequest, authority_id: AuthorityId) -> Template:
        return await authority_page(request)

    @post(
        "/{authority_id:int}",
        name="authority-update-page",
        guards=[ADMINS],
        opt=form_page(authority_page, refuse=REFUSED_HERE),
    )
    async def update(
        self, user: User, authority_id: AuthorityId, data: URLEncodedBody[AuthorityForm]
    ) -> Redirect:
        await services.get_authority(authority_id)
        await services.update_authority(Actor.account(user.account_id), authority_id, data.body())
        return Redirect("/admin/authorities?done=updated", status_code=HTTP_303_SEE_OTHER)


class AuthorityApiController(Controller):
    path = "/api/v1/authorities"
    tags = ["authorities"]

    @get("/", name="authorities-api", guards=[READERS])
    async def list_authorities(self, active: FromQuery[bool] = False) -> list[AuthorityOut]:
        """Every competent authority (``active=true``: only those taking transfers)."""
        return await services.list_authorities(active_only=active)

    @post("/", name="authorities-create-api", guards=[ADMINS], status_code=201)
    async def create(self, user: User, data: JSONBody[AuthorityIn]) -> AuthorityOut:
        """Register an authority; a public key that is not X25519 is a 400."""
        return await services.create_authority(Actor.account(user.account_id), data)

    @get("/{authority_id:int}", name="authority-api", guards=[READERS])
    async def show(self, authority_id: AuthorityId) -> AuthorityOut:
        return await services.get_authority(authority_id)

    @put("/{authority_id:int}", name="authority-update-api", guards=[ADMINS])
    async def update(
        self, user: User, authority_id: AuthorityId, data: JSONBody[AuthorityIn]
    ) -> AuthorityOut:
        """Replace an authority's details (nothing is deleted: set ``active`` false)."""
        return await services.update_authority(Actor.account(user.account_id), authority_id, data)


# --- transfers ----------------------------------------------------------------------------


async def transfers_page(
    request: AnyRequest, done: str | None = None, link: ReplyLinkOut | None = None
) -> Template:
    """The tip's transfers, the form for a new one, acknowledgement and feedback (as
    refused: ``error`` and the ``form`` typed)."""
    ledger_no = str(request.path_params["ledger_no"])
    today = services.china_today().isoformat()
    return Template(
        "authorities/transfers.html",
        context={
            "ledger_no": ledger_no,
            "status": await services.tip_status(ledger_no),
            "transfers": await services.list_transfers(ledger_no),
            "authorities": await services.list_authorities(active_only=True),
            "methods": list(TransferMethod),
            "outcomes": list(FeedbackOutcome),
            "purposes": list(ReplyPurpose),
            "today": today,
            "form": TransferForm(transferred_on=today),
            "done": _done(request, done),
            "error": None,
            "link": link,
        },
    )


def _done_at(ledger_no: str, done: str) -> Redirect:
    return Redirect(f"/cases/{ledger_no}/transfers?done={done}", status_code=HTTP_303_SEE_OTHER)


ON_TRANSFERS_PAGE = form_page(transfers_page, refuse=REFUSED_HERE)


class TransferPageController(Controller):
    path = "/cases/{ledger_no:str}/transfers"
    guards = [OFFICERS]
    include_in_schema = False

    @get("/", name="transfers-page")
    async def list_page(
        self, request: AnyRequest, ledger_no: LedgerNo, done: FromQuery[str | None] = None
    ) -> Template:
        """The tip's transfers, the form for a new one, acknowledgement and feedback."""
        return await transfers_page(request, done)

    @post("/", name="transfers-create-page", opt=ON_TRANSFERS_PAGE)
    async def create(
        self, user: User, ledger_no: LedgerNo, data: URLEncodedBody[TransferForm]
    ) -> Redirect:
        """Transfer the tip (移送): the row and the ``tip.transferred`` event together."""
        await services.transfer(user, ledger_no, data.body())
        return _done_at(ledger_no, "transferred")

    @post(
        "/{transfer_id:int}/acknowledgement",
        name="transfer-acknowledge-page",
        opt=ON_TRANSFERS_PAGE,
    )
    async def acknowledge(
        self,
        user: User,
        ledger_no: LedgerNo,
        transfer_id: TransferId,
        data: URLEncodedBody[AcknowledgementForm],
    ) -> Redirect:
        """Record the authority's acknowledgement from its paper reply."""
        await services.record_acknowledgement(user, ledger_no, transfer_id, data.body())
        return _done_at(ledger_no, "acknowledged")

    @post("/{transfer_id:int}/feedback", name="transfer-feedback-page", opt=ON_TRANSFERS_PAGE)
    async def feedback(
        self,
        user: User,
        ledger_no: LedgerNo,
        transfer_id: TransferId,
        data: URLEncodedBody[FeedbackForm],
    ) -> Redirect:
        """Record the authority's feedback from its paper reply (status feedback_received)."""
        await services.record_feedback(user, ledger_no, transfer_id, data.body())
        return _done_at(ledger_no, "feedback")

    @post(
        "/{transfer_id:int}/links",
        name="transfer-link-page",
        opt=form_page(transfers_page),  # an unknown transfer (404) is the error page
    )
    async def link(
        self,
        request: AnyRequest,
        user: User,
        ledger_no: LedgerNo,
        transfer_id: TransferId,
        data: URLEncodedBody[LinkForm],
    ) -> Template:
        """Make a one-time link for the authority; it is shown on this page only."""
        body = data.body()
        link = await services.create_reply_link(
            user, _settings(request), ledger_no, transfer_id, body.purpose, body.valid_days
        )
        return await transfers_page(request, link=link)

    @get("/{transfer_id:int}/package", name="transfer-package-page")
    async def package(
        self,
        request: AnyRequest,
        user: User,
        locale: Locale,
        ledger_no: LedgerNo,
        transfer_id: TransferId,
    ) -> Response[bytes]:
        """The transfer package made now, in memory (sealed when the authority has a key);
        recorded as ``tip.transfer_package_downloaded`` with its SHA-256."""
        key = await _key(user, request)
        file = await services.make_package(
            user, key, _settings(request), locale, ledger_no, transfer_id
        )
        return _file(file)

    @get("/{transfer_id:int}/receipt", name="transfer-receipt-page")
    async def receipt(
        self, request: AnyRequest, ledger_no: LedgerNo, transfer_id: TransferId
    ) -> Template:
        """The transfer receipt for the authority, with the inclusion proof when a signed
        checkpoint holds the transfer event."""
        return Template(
            "authorities/receipt.html",
            context={"receipt": await services.receipt(_settings(request), ledger_no, transfer_id)},
        )

    @get("/{transfer_id:int}/receipt.json", name="transfer-receipt-bundle-page")
    async def receipt_bundle(self, ledger_no: LedgerNo, transfer_id: TransferId) -> Response[bytes]:
        """The proof bundle as a file for ``tipline ledger check-proof``."""
        bundle = await services.receipt_bundle(ledger_no, transfer_id)
        return Response(
            msgspec.json.format(msgspec.json.encode(bundle), indent=2),
            media_type="application/json",
            headers={
                "Content-Disposition": (
                    f'attachment; filename="{ledger_no}-transfer-{transfer_id}-proof.json"'
                )
            },
        )


class TransferApiController(Controller):
    path = "/api/v1/cases/{ledger_no:str}/transfers"
    guards = [OFFICERS]
    tags = ["transfers"]

    @get("/", name="transfers-api")
    async def list_transfers(self, ledger_no: LedgerNo) -> list[TransferOut]:
        """Every transfer of the tip, oldest first."""
        return await services.list_transfers(ledger_no)

    @post("/", name="transfers-create-api", status_code=201)
    async def create(
        self, user: User, ledger_no: LedgerNo, data: JSONBody[TransferIn]
    ) -> TransferOut:
        """Transfer the tip; 409 when its status allows no transfer or the document number
        is taken for this authority."""
        return await services.transfer(user, ledger_no, data)

    @get("/{transfer_id:int}", name="transfer-api")
    async def show(self, ledger_no: LedgerNo, transfer_id: TransferId) -> TransferOut:
        return await services.get_transfer(ledger_no, transfer_id)

    @post("/{transfer_id:int}/acknowledgement", name="transfer-acknowledge-api", status_code=200)
    async def acknowledge(
        self,
        user: User,
        ledger_no: LedgerNo,
        transfer_id: TransferId,
        data: JSONBody[AcknowledgementIn],
    ) -> TransferOut:
        return await services.record_acknowledgement(user, ledger_no, transfer_id, data)

    @post("/{transfer_id:int}/feedback", name="transfer-feedback-api", status_code=200)
    async def feedback(
        self,
        user: User,
        ledger_no: LedgerNo,
        transfer_id: TransferId,
        data: JSONBody[FeedbackIn],
    ) -> TransferOut:
        return await services.record_feedback(user, ledger_no, transfer_id, data)

    @post("/{transfer_id:int}/links", name="transfer-link-api", status_code=201)
    async def link(
        self,
        request: AnyRequest,
        user: User,
        ledger_no: LedgerNo,
        transfer_id: TransferId,
        data: JSONBody[ReplyLinkIn],
    ) -> ReplyLinkOut:
        """A one-time link for the authority; the URL is in this answer only."""
        return await services.create_reply_link(
            user,
            _settings(request),
            ledger_no,
            transfer_id,
            data.purpose,
            data.valid_days,
        )

    @get("/{transfer_id:int}/package", name="transfer-package-api")
    async def package(
        self,
        request: AnyRequest,
        user: User,
        locale: Locale,
        ledger_no: LedgerNo,
        transfer_id: TransferId,
    ) -> Response[bytes]:
        """The transfer package (PDF, or sealed to the authority's key), in the caller's
        language; recorded with the file's SHA-256."""
        file = await services.make_package(
            user,
            await _key(user, request),
            _settings(request),
            locale,
            ledger_no,
            transfer_id,
        )
        return _file(file)

    @get("/{transfer_id:int}/receipt", name="transfer-receipt-api")
    async def receipt(
        self, request: AnyRequest, ledger_no: LedgerNo, transfer_id: TransferId
    ) -> TransferReceipt:
        return await services.receipt(_settings(request), ledger_no, transfer_id)

    @get("/{transfer_id:int}/receipt/bundle", name="transfer-receipt-bundle-api")
    async def receipt_bundle(self, ledger_no: LedgerNo, transfer_id: TransferId) -> ProofBundle:
        """The proof bundle for ``tipline ledger check-proof``; 409 until a checkpoint
        holds the transfer event."""
        return await services.receipt_bundle(ledger_no, transfer_id)


# --- the authority's one-time link --------------------------------------------------------


async def reply_page(request: AnyRequest) -> Template:
    """The authority's one-time reply page (as refused: ``error`` and the ``form``)."""
    token = str(request.path_params["token"])
    return Template(
        "authorities/reply.html",
        context={
            "page": await services.reply_page(token),
            "token": token,
            "outcomes": list(FeedbackOutcome),
            "today": services.china_today().isoformat(),
            "error": None,
        },
        headers={"Cache-Control": "no-store"},
    )


class ReplyController(Controller):
    """The authority's side: no account, only the one-time link. It shows the ledger
    no. and the transfer's document no., never the tip."""

    path = "/authority-reply"
    opt = PUBLIC
    include_in_schema = False

    @get("/{token:str}", name="authority-reply-page")
    async def show(self, request: AnyRequest, token: Token) -> Template:
        return await reply_page(request)

    @post("/{token:str}", name="authority-reply-submit", opt=form_page(reply_page))
    async def submit(self, token: Token, data: URLEncodedBody[ReplyForm]) -> Template:
        """A used or expired link (404, 410) gets the error page."""
        page = await services.reply_page(token)
        await services.submit_reply(token, data.body(page.purpose))
        return Template(
            "authorities/reply_done.html",
            context={"page": page},
            headers={"Cache-Control": "no-store"},
        )


# The pages of the top navigation (registered by tipline.app, which orders the bar).
NAV: list[NavItem] = [
    NavItem(
        "/admin/authorities",
        "authorities.nav",
        frozenset({Role.admin, Role.officer, Role.inspector, Role.leader}),
    ),
]


route_handlers: list[Any] = [
    AuthorityPageController,
    AuthorityApiController,
    TransferPageController,
    TransferApiController,
    ReplyController,
]
