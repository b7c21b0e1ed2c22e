"""The web tip box (``/tip``), the tipster's mailbox and the tip API (``/api/v1/tips``).

Every route here is public and anonymous. They set no cookie before a receipt login
(Litestar's CSRF cookie is switched off for them: there is no session to ride on
before it; after it the ``tipster`` cookie is SameSite=Strict and each form carries a
token derived from it). Nothing here reads or keeps the client's address, user agent
or referrer, except the in-memory keyed hash of the rate limits.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.params import FromQuery, JSONBody, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_201_CREATED,
    HTTP_204_NO_CONTENT,
    HTTP_303_SEE_OTHER,
)

from tipline.auth import PUBLIC
from tipline.errors import Conflict, DomainError, Invalid
from tipline.filecleaning.schemas import REMOVED_KEYS
from tipline.intake import receipts, services
from tipline.intake.exceptions import (
    PayloadTooLarge,
    TooManySubmissions,
    TooManyTries,
    WrongReceipt,
)
from tipline.intake.forms import (
    MAX_FIELDS_BYTES,
    ReceivedForm,
    UploadLimits,
    media_type_of,
    read_body,
    read_form,
)
from tipline.intake.ratelimit import limits_for
from tipline.intake.schemas import (
    CATEGORIES,
    LogoutForm,
    ReceiptBody,
    ReceiptConfirmForm,
    ReceiptLoginForm,
    TipBody,
    TipForm,
    TipInput,
    TipReceipt,
    TipsterMessageBody,
    TipsterTipOut,
)
from tipline.settings import Settings
from tipline.web.cookies import cleared_cookie, strict_cookie
from tipline.web.forms import form_page, keep_posted
from tipline.web.i18n import translate

AnyRequest = Request[Any, Any, Any]
Locale = NamedDependency[str]

COOKIE_NAME = "tipster"
# Public and anonymous: no CSRF cookie (see the module docstring).
TIP_ROUTE: dict[str, Any] = {**PUBLIC, "exclude_from_csrf": True}
DONE_MESSAGES = {"sent": "intake.mailbox.sent"}


def _settings(request: AnyRequest) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _limits(request: AnyRequest) -> UploadLimits:
    settings = _settings(request)
    return UploadLimits(
        max_file_bytes=settings.max_attachment_bytes,
        max_files_bytes=settings.max_tip_attachments_bytes,
    )


def _client_key(request: AnyRequest) -> str:
    client = request.scope.get("client")
    address = client[0] if client else None
    return limits_for(request.app).client_key(address)


def _count_submission(request: AnyRequest) -> None:
    if not _settings(request).tipster_rate_limit:
        return
    if not limits_for(request.app).submissions.hit(_client_key(request)):
        raise TooManySubmissions()


async def _receipt_login(request: AnyRequest, receipt: str) -> str:
    """Sign in with a receipt, throttled per client after a few wrong ones."""
    windows = limits_for(request.app).wrong_receipts
    key = _client_key(request)
    if windows.blocked(key):
        raise TooManyTries()
    try:
        return await services.open_tipster_session(_settings(request), receipt)
    except WrongReceipt:
        windows.hit(key)
        raise


def tipster_cookie(token: str, settings: Settings) -> Cookie:
    """Set only after a receipt login; gone with the browser, strict, HTTP only."""
    return strict_cookie(COOKIE_NAME, token, settings)


def cleared_tipster_cookie(settings: Settings) -> Cookie:
    return cleared_cookie(COOKIE_NAME, settings)


def tip_from_form(form: ReceivedForm) -> TipInput:
    """A tip from the tip form's fields (the hotline's entry form has the same ones)."""
    return TipForm.of(form.fields).tip()


def _tip_from_json(body: bytes) -> TipInput:
    try:
        data = msgspec.json.decode(body, type=TipBody)
    except msgspec.ValidationError as error:
        raise ValidationException(extra=[{"message": str(error)}]) from None
    except msgspec.DecodeError:
        raise ValidationException(extra=[{"message": "malformed JSON"}]) from None
    return data.tip()


def removed_text(locale: str, removed: list[list[str]]) -> list[list[str]]:
    """What was removed from each file, in the tipster's language."""
    return [
        [translate(locale, REMOVED_KEYS[item]) if item in REMOVED_KEYS else item for item in items]
        for items in removed
    ]


def _receipt_page(
    receipt: str, ledger_no: str, removed: list[list[str]], *, status_code: int, error: str | None
) -> Template:
    return Template(
        "intake/receipt.html",
        context={
            "receipt": receipt,
            "groups": receipts.receipt_groups(receipt),
            "ledger_no": ledger_no,
            "removed": removed,
            "error": error,
        },
        status_code=status_code,
    )


# What a tipster typed may be refused on its form: a field (400), a file too large (413).
TYPED: tuple[type[DomainError], ...] = (Invalid, Conflict, PayloadTooLarge)


async def new_tip_page(request: AnyRequest) -> Template:
    """The tip form (as refused: ``tipline.web.forms`` adds ``error`` and ``form``)."""
    return Template(
        "intake/new.html",
        context={"categories": CATEGORIES, "places": await services.new_tip_form(), "form": {}},
    )


async def mailbox_login_page(request: AnyRequest) -> Template:
    return Template("intake/mailbox_login.html", context={"error": None})


async def mailbox_page(request: AnyRequest, done: str | None = None) -> Template:
    """The signed-in tipster's mailbox; the receipt sign-in form for anyone else (a
    session that ended included)."""
    token = request.cookies.get(COOKIE_NAME)
    if not token:
        return await mailbox_login_page(request)
    try:
        view = await services.tipster_view(token)
    except DomainError:  # not a refusal to answer: who is not signed in signs in
        return await mailbox_login_page(request)
    return Template(
        "intake/mailbox.html",
        context={
            "tip": view,
            "csrf": services.tipster_csrf_token(_settings(request), token),
            "done": DONE_MESSAGES.get(done or ""),
            "error": None,
            "form": {},
        },
    )


class TipPagesController(Controller):
    """The web tip box: works without JavaScript and loads nothing from other hosts."""

    path = "/tip"
    opt = TIP_ROUTE
    include_in_schema = False

    @get("/", name="tip-landing")
    async def landing(self) -> Template:
        return Template("intake/landing.html", context={"open": await services.tip_box_is_open()})

    @get("/new", name="tip-new")
    async def new_form(self, request: AnyRequest) -> Template:
        return await new_tip_page(request)

    @post(
        "/new",
        request_max_body_size=None,
        status_code=HTTP_201_CREATED,
        opt=form_page(new_tip_page, refuse=TYPED),
    )
    async def submit(self, request: AnyRequest, locale: Locale) -> Template:
        """The receipt page is the answer to the POST itself: no redirect, so the receipt
        is never in a URL."""
        _count_submission(request)
        form = await read_form(request, _limits(request))
        keep_posted(request, form.fields)
        submitted = await services.submit_tip(_settings(request), tip_from_form(form), form.files)
        return _receipt_page(
            submitted.receipt,
            submitted.ledger_no,
            removed_text(locale, submitted.removed),
            status_code=HTTP_201_CREATED,
            error=None,
        )

    @post("/receipt", status_code=200)
    async def confirm_receipt(
        self, locale: Locale, data: URLEncodedBody[ReceiptConfirmForm]
    ) -> Template:
        """The tipster types the last group back, to show they saved the receipt."""
        digits = receipts.normalize_receipt(data.receipt)
        if services.receipt_confirmed(digits, data.last_group):
            return Template("intake/receipt_saved.html", context={"ledger_no": data.ledger_no})
        return _receipt_page(
            digits if digits.isdigit() else "",
            data.ledger_no[:16],
            [],
            status_code=400,
            error=translate(locale, "intake.receipt.mismatch"),
        )

    @get("/mailbox", name="tip-mailbox")
    async def mailbox(self, request: AnyRequest, done: FromQuery[str | None] = None) -> Template:
        return await mailbox_page(request, done)

    @post(
        "/mailbox",
        status_code=HTTP_303_SEE_OTHER,
        opt=form_page(mailbox_login_page, refuse=(DomainError,)),
    )
    async def mailbox_login(
        self, request: AnyRequest, data: URLEncodedBody[ReceiptLoginForm]
    ) -> Redirect:
        """A wrong receipt (or too many) is shown on the sign-in form."""
        token = await _receipt_login(request, data.receipt)
        response = Redirect("/tip/mailbox", status_code=HTTP_303_SEE_OTHER)
        response.cookies.append(tipster_cookie(token, _settings(request)))
        return response

    @post(
        "/mailbox/messages",
        request_max_body_size=None,
        status_code=HTTP_303_SEE_OTHER,
        opt=form_page(mailbox_page, refuse=TYPED),
    )
    async def mailbox_message(self, request: AnyRequest) -> Redirect:
        token = request.cookies.get(COOKIE_NAME)
        settings = _settings(request)
        form = await read_form(request, _limits(request))
        keep_posted(request, {"text": form.get("text")})
        services.check_tipster_csrf(settings, token, form.get("csrf"))
        await services.add_tipster_message(settings, token, form.get("text"), form.files)
        return Redirect("/tip/mailbox?done=sent", status_code=HTTP_303_SEE_OTHER)

    @post("/mailbox/logout", status_code=HTTP_303_SEE_OTHER)
    async def mailbox_logout(
        self, request: AnyRequest, data: URLEncodedBody[LogoutForm]
    ) -> Redirect:
        token = request.cookies.get(COOKIE_NAME)
        settings = _settings(request)
        services.check_tipster_csrf(settings, token, data.csrf)
        await services.close_tipster_session(token)
        response = Redirect("/tip", status_code=HTTP_303_SEE_OTHER)
        response.cookies.append(cleared_tipster_cookie(settings))
        return response


class TipApiController(Controller):
    """The tip box for apps: JSON, or a multipart form with files."""

    path = "/api/v1"
    opt = PUBLIC
    tags = ["tips"]

    @post("/tips", request_max_body_size=None, status_code=HTTP_201_CREATED)
    async def submit(self, request: AnyRequest) -> TipReceipt:
        """Submit a tip: JSON ``{"category", "content", "township"?, "village"?,
        "occurred"?, "who"?, "identity"?}`` or the same fields as a multipart form with
        ``attachments`` files. Answers the receipt (keep it: it cannot be recovered) and
        the ledger number. 503 while the tip box is not open."""
        _count_submission(request)
        if media_type_of(request) == "application/json":
            data = _tip_from_json(await read_body(request, MAX_FIELDS_BYTES))
            files: list[Any] = []
        else:
            form = await read_form(request, _limits(request))
            data, files = tip_from_form(form), form.files
        submitted = await services.submit_tip(_settings(request), data, files)
        return TipReceipt(
            receipt=receipts.format_receipt(submitted.receipt),
            ledger_no=submitted.ledger_no,
            removed=submitted.removed,
        )

    @post("/tipster/session", status_code=HTTP_204_NO_CONTENT)
    async def tipster_login(
        self, request: AnyRequest, data: JSONBody[ReceiptBody]
    ) -> Response[None]:
        """Sign in with a receipt; sets the ``tipster`` cookie. A wrong receipt and one
        that never existed get the same 403; 429 after a few wrong ones."""
        token = await _receipt_login(request, data.receipt)
        return Response(
            None,
            status_code=HTTP_204_NO_CONTENT,
            cookies=[tipster_cookie(token, _settings(request))],
        )

    @post("/tipster/logout", status_code=HTTP_204_NO_CONTENT)
    async def tipster_logout(self, request: AnyRequest) -> Response[None]:
        """End the tipster session (its unlocked key is deleted) and clear the cookie."""
        await services.close_tipster_session(request.cookies.get(COOKIE_NAME))
        return Response(
            None,
            status_code=HTTP_204_NO_CONTENT,
            cookies=[cleared_tipster_cookie(_settings(request))],
        )

    @get("/tipster/tip")
    async def tipster_tip(self, request: AnyRequest) -> TipsterTipOut:
        """The tip's status in plain words and every message, for the signed-in tipster."""
        return await services.tipster_view(request.cookies.get(COOKIE_NAME))

    @post("/tipster/messages", status_code=HTTP_201_CREATED)
    async def tipster_message(
        self, request: AnyRequest, data: JSONBody[TipsterMessageBody]
    ) -> Response[None]:
        """Add information to the tip (sealed like the tip itself)."""
        await services.add_tipster_message(
            _settings(request), request.cookies.get(COOKIE_NAME), data.text
        )
        return Response(None, status_code=HTTP_201_CREATED)


route_handlers = [TipPagesController, TipApiController]
