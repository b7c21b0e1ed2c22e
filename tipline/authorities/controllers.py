"""Pages and JSON API of the authority registry (``/admin/authorities``), of transfers
(``/cases/{ledger_no}/transfers``) and the authority's one-time reply link
(``/authority-reply/{token}``, the one public route here).

Thin: parse, authorize, call one service function, render. The registry is written by
the administrator and read by officers and the inspector; transfers are for designated
officers only; the transfer package needs the officer's key unlocked for this session.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, PathParameter, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tipline.auth import PUBLIC, Role, current_user, requires
from tipline.authorities import services
from tipline.authorities.schemas import (
    AcknowledgementIn,
    AuthorityIn,
    AuthorityKind,
    AuthorityOut,
    FeedbackIn,
    FeedbackOutcome,
    ReplyLinkIn,
    ReplyLinkOut,
    ReplyPurpose,
    TransferIn,
    TransferMethod,
    TransferOut,
    TransferReceipt,
)
from tipline.cases.exceptions import KeyLocked
from tipline.cases.services import session_key
from tipline.crypto.services import KEY_COOKIE_NAME
from tipline.errors import DomainError, Invalid
from tipline.ledger.checkpoints import ProofBundle
from tipline.ledger.services import Actor
from tipline.settings import Settings
from tipline.web.i18n import translate
from tipline.web.templating import NavItem

AnyRequest = Request[Any, Any, Any]
Locale = NamedDependency[str]
LedgerNo = Annotated[str, PathParameter(max_length=16, description="ledger number, 2026-000123")]
AuthorityId = Annotated[int, PathParameter(ge=1)]
TransferId = Annotated[int, PathParameter(ge=1)]
Token = Annotated[str, PathParameter(max_length=64)]

ADMINS = requires(Role.admin)
READERS = requires(Role.admin, Role.officer, Role.inspector, Role.leader)
OFFICERS = requires(Role.officer)

T = TypeVar("T")

DONE = {
    "created": "authorities.done.created",
    "updated": "authorities.done.updated",
    "transferred": "authorities.done.transferred",
    "acknowledged": "authorities.done.acknowledged",
    "feedback": "authorities.done.feedback",
}


class FormInvalid(Invalid):
    message_key = "authorities.error.form"


def _convert(data: dict[str, Any], kind: type[T]) -> T:
    """A form's strings as the API's struct; a bad value is a 400 naming the field."""
    values = {name: value for name, value in data.items() if value != "" or name == "note"}
    try:
        return msgspec.convert(values, kind, strict=False)
    except msgspec.ValidationError as error:
        raise FormInvalid(detail=str(error)) from None


def _settings(request: AnyRequest) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _key(request: AnyRequest) -> Any:
    return await session_key(current_user(request), request.cookies.get(KEY_COOKIE_NAME))


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


# --- forms --------------------------------------------------------------------------------


class AuthorityForm(msgspec.Struct):
    name: str = ""
    kind: str = ""
    contact_person: str = ""
    phone: str = ""
    address: str = ""
    public_key: str = ""
    active: str = ""


class TransferForm(msgspec.Struct):
    authority_id: str = ""
    transferred_on: str = ""
    document_no: str = ""
    method: str = ""
    note: str = ""


class AcknowledgementForm(msgspec.Struct):
    acknowledged_on: str = ""
    document_no: str = ""


class FeedbackForm(msgspec.Struct):
    feedback_on: str = ""
    outcome: str = ""
    summary: str = ""
    document_no: str = ""


class LinkForm(msgspec.Struct):
    purpose: str = ""
    valid_days: str = "14"


def _authority_in(form: AuthorityForm) -> AuthorityIn:
    values = msgspec.structs.asdict(form)
    values["active"] = form.active in ("1", "on", "true")
    return _convert(values, AuthorityIn)


# --- the registry -------------------------------------------------------------------------


def _registry_context(request: AnyRequest) -> dict[str, Any]:
    return {
        "kinds": list(AuthorityKind),
        "can_edit": current_user(request).role is Role.admin,
    }


class AuthorityPageController(Controller):
    path = "/admin/authorities"
    include_in_schema = False

    async def _list(
        self,
        request: AnyRequest,
        locale: str,
        *,
        done: str | None = None,
        error: DomainError | None = None,
        form: AuthorityForm | None = None,
    ) -> Template:
        key = DONE.get(done or "")
        return Template(
            "authorities/list.html",
            context={
                **_registry_context(request),
                "authorities": await services.list_authorities(),
                "done": translate(locale, key) if key else None,
                "error": translate(locale, error.key, **error.values) if error else None,
                "form": form or AuthorityForm(active="1"),
            },
            status_code=error.status_code if error else 200,
        )

    @get("/", name="authorities-page", guards=[READERS])
    async def list_page(
        self, request: AnyRequest, locale: Locale, done: FromQuery[str | None] = None
    ) -> Template:
        """Every competent authority, with the form to register one (administrators)."""
        return await self._list(request, locale, done=done)

    @post("/", name="authorities-create-page", guards=[ADMINS])
    async def create(
        self, request: AnyRequest, locale: Locale, data: URLEncodedBody[AuthorityForm]
    ) -> Template | Redirect:
        try:
            await services.create_authority(
                Actor.account(current_user(request).account_id), _authority_in(data)
            )
        except DomainError as error:
            if error.status_code >= 500:
                raise
            return await self._list(request, locale, error=error, form=data)
        return Redirect("/admin/authorities?done=created", status_code=HTTP_303_SEE_OTHER)

    async def _edit(
        self,
        request: AnyRequest,
        locale: str,
        authority: AuthorityOut,
        *,
        error: DomainError | None = None,
        form: AuthorityForm | None = None,
    ) -> Template:
        form = form or AuthorityForm(
            name=authority.name,
            kind=authority.kind.value,
            contact_person=authority.contact_person,
            phone=authority.phone,
            address=authority.address,
            public_key=authority.public_key or "",
            active="1" if authority.active else "",
        )
        return Template(
            "authorities/edit.html",
            context={
                **_registry_context(request),
                "authority": authority,
                "form": form,
                "error": translate(locale, error.key, **error.values) if error else None,
            },
            status_code=error.status_code if error else 200,
        )

    @get("/{authority_id:int}", name="authority-page", guards=[READERS])
    async def show(
        self, request: AnyRequest, locale: Locale, authority_id: AuthorityId
    ) -> Template:
        return await self._edit(request, locale, await services.get_authority(authority_id))

    @post("/{authority_id:int}", name="authority-update-page", guards=[ADMINS])
    async def update(
        self,
        request: AnyRequest,
        locale: Locale,
        authority_id: AuthorityId,
        data: URLEncodedBody[AuthorityForm],
    ) -> Template | Redirect:
        authority = await services.get_authority(authority_id)
        try:
            await services.update_authority(
                Actor.account(current_user(request).account_id), authority_id, _authority_in(data)
            )
        except DomainError as error:
            if error.status_code >= 500:
                raise
            return await self._edit(request, locale, authority, error=error, form=data)
        return Redirect("/admin/authorities?done=updated", status_code=HTTP_303_SEE_OTHER)


class AuthorityApiController(Controller):
    path = "/api/v1/authorities"
    tags = ["authorities"]

    @get("/", name="authorities-api", guards=[READERS])
    async def list_authorities(self, active: FromQuery[bool] = False) -> list[AuthorityOut]:
        """Every competent authority (``active=true``: only those taking transfers)."""
        return await services.list_authorities(active_only=active)

    @post("/", name="authorities-create-api", guards=[ADMINS], status_code=201)
    async def create(self, request: AnyRequest, data: JSONBody[AuthorityIn]) -> AuthorityOut:
        """Register an authority; a public key that is not X25519 is a 400."""
        return await services.create_authority(
            Actor.account(current_user(request).account_id), data
        )

    @get("/{authority_id:int}", name="authority-api", guards=[READERS])
    async def show(self, authority_id: AuthorityId) -> AuthorityOut:
        return await services.get_authority(authority_id)

    @put("/{authority_id:int}", name="authority-update-api", guards=[ADMINS])
    async def update(
        self, request: AnyRequest, authority_id: AuthorityId, data: JSONBody[AuthorityIn]
    ) -> AuthorityOut:
        """Replace an authority's details (nothing is deleted: set ``active`` false)."""
        return await services.update_authority(
            Actor.account(current_user(request).account_id), authority_id, data
        )


# --- transfers ----------------------------------------------------------------------------


class TransferPageController(Controller):
    path = "/cases/{ledger_no:str}/transfers"
    guards = [OFFICERS]
    include_in_schema = False

    async def _page(
        self,
        request: AnyRequest,
        locale: str,
        ledger_no: str,
        *,
        done: str | None = None,
        error: DomainError | None = None,
        form: TransferForm | None = None,
        link: ReplyLinkOut | None = None,
    ) -> Template:
        transfers = await services.list_transfers(ledger_no)
        status = await services.tip_status(ledger_no)
        key = DONE.get(done or "")
        return Template(
            "authorities/transfers.html",
            context={
                "ledger_no": ledger_no,
                "status": status,
                "transfers": transfers,
                "authorities": await services.list_authorities(active_only=True),
                "methods": list(TransferMethod),
                "outcomes": list(FeedbackOutcome),
                "purposes": list(ReplyPurpose),
                "today": services.china_today().isoformat(),
                "form": form or TransferForm(transferred_on=services.china_today().isoformat()),
                "done": translate(locale, key) if key else None,
                "error": translate(locale, error.key, **error.values) if error else None,
                "link": link,
            },
            status_code=error.status_code if error else 200,
        )

    @get("/", name="transfers-page")
    async def list_page(
        self,
        request: AnyRequest,
        locale: Locale,
        ledger_no: LedgerNo,
        done: FromQuery[str | None] = None,
    ) -> Template:
        """The tip's transfers, the form for a new one, acknowledgement and feedback."""
        return await self._page(request, locale, ledger_no, done=done)

    async def _act(
        self, request: AnyRequest, locale: str, ledger_no: str, work: Any, done: str, **kw: Any
    ) -> Template | Redirect:
        try:
            await work()
        except DomainError as error:
            if error.status_code >= 500:
                raise
            return await self._page(request, locale, ledger_no, error=error, **kw)
        return Redirect(f"/cases/{ledger_no}/transfers?done={done}", status_code=HTTP_303_SEE_OTHER)

    @post("/", name="transfers-create-page")
    async def create(
        self,
        request: AnyRequest,
        locale: Locale,
        ledger_no: LedgerNo,
        data: URLEncodedBody[TransferForm],
    ) -> Template | Redirect:
        """Transfer the tip (移送): the row and the ``tip.transferred`` event together."""

        async def work() -> None:
            values = msgspec.structs.asdict(data)
            await services.transfer(current_user(request), ledger_no, _convert(values, TransferIn))

        return await self._act(request, locale, ledger_no, work, "transferred", form=data)

    @post("/{transfer_id:int}/acknowledgement", name="transfer-acknowledge-page")
    async def acknowledge(
        self,
        request: AnyRequest,
        locale: Locale,
        ledger_no: LedgerNo,
        transfer_id: TransferId,
        data: URLEncodedBody[AcknowledgementForm],
    ) -> Template | Redirect:
        """Record the authority's acknowledgement from its paper reply."""

        async def work() -> None:
            body = _convert(msgspec.structs.asdict(data), AcknowledgementIn)
            await services.record_acknowledgement(
                current_user(request), ledger_no, transfer_id, body
            )

        return await self._act(request, locale, ledger_no, work, "acknowledged")

    @post("/{transfer_id:int}/feedback", name="transfer-feedback-page")
    async def feedback(
        self,
        request: AnyRequest,
        locale: Locale,
        ledger_no: LedgerNo,
        transfer_id: TransferId,
        data: URLEncodedBody[FeedbackForm],
    ) -> Template | Redirect:
        """Record the authority's feedback from its paper reply (status feedback_received)."""

        async def work() -> None:
            body = _convert(msgspec.structs.asdict(data), FeedbackIn)
            await services.record_feedback(current_user(request), ledger_no, transfer_id, body)

        return await self._act(request, locale, ledger_no, work, "feedback")

    @post("/{transfer_id:int}/links", name="transfer-link-page")
    async def link(
        self,
        request: AnyRequest,
        locale: Locale,
        ledger_no: LedgerNo,
        transfer_id: TransferId,
        data: URLEncodedBody[LinkForm],
    ) -> Template:
        """Make a one-time link for the authority; it is shown on this page only."""
        try:
            body = _convert(msgspec.structs.asdict(data), ReplyLinkIn)
            link = await services.create_reply_link(
                current_user(request),
                _settings(request),
                ledger_no,
                transfer_id,
                body.purpose,
                body.valid_days,
            )
        except DomainError as error:
            if error.status_code >= 500 or error.status_code == 404:
                raise
            return await self._page(request, locale, ledger_no, error=error)
        return await self._page(request, locale, ledger_no, link=link)

    @get("/{transfer_id:int}/package", name="transfer-package-page")
    async def package(
        self, request: AnyRequest, locale: Locale, ledger_no: LedgerNo, transfer_id: TransferId
    ) -> Response[bytes] | Template:
        """The transfer package made now, in memory (sealed when the authority has a key);
        recorded as ``tip.transfer_package_downloaded`` with its SHA-256."""
        try:
            key = await _key(request)
        except KeyLocked as locked:
            return Template("cases/locked.html", status_code=locked.status_code)
        file = await services.make_package(
            current_user(request), key, _settings(request), locale, ledger_no, transfer_id
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
        self, request: AnyRequest, ledger_no: LedgerNo, data: JSONBody[TransferIn]
    ) -> TransferOut:
        """Transfer the tip; 409 when its status allows no transfer or the document number
        is taken for this authority."""
        return await services.transfer(current_user(request), ledger_no, data)

    @get("/{transfer_id:int}", name="transfer-api")
    async def show(self, ledger_no: LedgerNo, transfer_id: TransferId) -> TransferOut:
        return await services.get_transfer(ledger_no, transfer_id)

    @post("/{transfer_id:int}/acknowledgement", name="transfer-acknowledge-api", status_code=200)
    async def acknowledge(
        self,
        request: AnyRequest,
        ledger_no: LedgerNo,
        transfer_id: TransferId,
        data: JSONBody[AcknowledgementIn],
    ) -> TransferOut:
        return await services.record_acknowledgement(
            current_user(request), ledger_no, transfer_id, data
        )

    @post("/{transfer_id:int}/feedback", name="transfer-feedback-api", status_code=200)
    async def feedback(
        self,
        request: AnyRequest,
        ledger_no: LedgerNo,
        transfer_id: TransferId,
        data: JSONBody[FeedbackIn],
    ) -> TransferOut:
        return await services.record_feedback(current_user(request), ledger_no, transfer_id, data)

    @post("/{transfer_id:int}/links", name="transfer-link-api", status_code=201)
    async def link(
        self,
        request: AnyRequest,
        ledger_no: LedgerNo,
        transfer_id: TransferId,
        data: JSONBody[ReplyLinkIn],
    ) -> ReplyLinkOut:
        """A one-time link for the authority; the URL is in this answer only."""
        return await services.create_reply_link(
            current_user(request),
            _settings(request),
            ledger_no,
            transfer_id,
            data.purpose,
            data.valid_days,
        )

    @get("/{transfer_id:int}/package", name="transfer-package-api")
    async def package(
        self, request: AnyRequest, locale: Locale, ledger_no: LedgerNo, transfer_id: TransferId
    ) -> Response[bytes]:
        """The transfer package (PDF, or sealed to the authority's key), in the caller's
        language; recorded with the file's SHA-256."""
        file = await services.make_package(
            current_user(request),
            await _key(request),
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


class ReplyController(Controller):
    """The authority's side: no account, only the one-time link. It shows the ledger
    no. and the transfer's document no., never the tip."""

    path = "/authority-reply"
    opt = PUBLIC
    include_in_schema = False

    def _page(
        self, locale: str, page: Any, *, error: DomainError | None = None, token: str = ""
    ) -> Template:
        return Template(
            "authorities/reply.html",
            context={
                "page": page,
                "token": token,
                "outcomes": list(FeedbackOutcome),
                "today": services.china_today().isoformat(),
                "error": translate(locale, error.key, **error.values) if error else None,
            },
            status_code=error.status_code if error else 200,
            headers={"Cache-Control": "no-store"},
        )

    @get("/{token:str}", name="authority-reply-page")
    async def show(self, locale: Locale, token: Token) -> Template:
        return self._page(locale, await services.reply_page(token), token=token)

    @post("/{token:str}", name="authority-reply-submit")
    async def submit(self, request: AnyRequest, locale: Locale, token: Token) -> Template:
        page = await services.reply_page(token)
        form = dict(await request.form())
        data: AcknowledgementIn | FeedbackIn
        try:
            if page.purpose is ReplyPurpose.acknowledgement:
                data = _convert(
                    {k: form.get(k, "") for k in ("acknowledged_on", "document_no")},
                    AcknowledgementIn,
                )
            else:
                data = _convert(
                    {
                        k: form.get(k, "")
                        for k in ("feedback_on", "outcome", "summary", "document_no")
                    },
                    FeedbackIn,
                )
            await services.submit_reply(token, data)
        except DomainError as error:
            if error.status_code >= 500 or error.status_code in (404, 410):
                raise
            return self._page(locale, page, error=error, token=token)
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
