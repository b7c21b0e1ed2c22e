"""The officer's entry form for phone, letter and visit tips (``/cases/new``), its JSON
mirror (``/api/v1/cases/intake``), and the tipster's transcript check in the mailbox
(``/tip/mailbox/transcript``, ``/api/v1/tipster/transcript``).

The entry form is multipart (scanned letters) and is read into memory by the tip box's
own parser, never spooled to disk; so Litestar's CSRF middleware, which would parse it
first and spool large files, is switched off for that one POST and the same token is
checked here. The tipster routes are the mailbox's: public, no CSRF cookie, the form
token derived from the ``tipster`` cookie.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash
from litestar.params import FromQuery, JSONBody, PathParameter, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED, HTTP_303_SEE_OTHER

from tipline.auth import Role, User, requires
from tipline.errors import Conflict, DomainError, Forbidden, Invalid
from tipline.hotline import services
from tipline.hotline.schemas import (
    CHANNELS,
    CorrectionBody,
    HotlineForm,
    HotlineReceipt,
    HotlineTipBody,
    TranscriptForm,
    TranscriptState,
    TranscriptView,
)
from tipline.intake import receipts
from tipline.intake import services as intake
from tipline.intake.controllers import COOKIE_NAME, TIP_ROUTE, removed_text
from tipline.intake.exceptions import PayloadTooLarge
from tipline.intake.forms import UploadLimits, read_form
from tipline.intake.schemas import CATEGORIES, Channel
from tipline.settings import Settings
from tipline.web.forms import form_page, keep_posted
from tipline.web.templating import NavItem

AnyRequest = Request[Any, Any, Any]
Locale = NamedDependency[str]
LedgerNo = Annotated[str, PathParameter(max_length=16, description="ledger number, 2026-000123")]
OFFICERS = requires(Role.officer)
FIELDS = ("channel", "category", "content", "township", "village", "occurred", "who")
DONE = {
    "confirmed": "hotline.transcript.done.confirmed",
    "corrected": "hotline.transcript.done.corrected",
}


def _settings(request: AnyRequest) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _limits(settings: Settings) -> UploadLimits:
    return UploadLimits(
        max_file_bytes=settings.max_attachment_bytes,
        max_files_bytes=settings.max_tip_attachments_bytes,
    )


def _token_secret(token: str, secret: str) -> str | None:
    if len(token) <= CSRF_SECRET_LENGTH:
        return None
    value, signature = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
    expected = generate_csrf_hash(token=value, secret=secret)
    return value if hmac.compare_digest(signature, expected) else None


def check_csrf(request: AnyRequest, submitted: str) -> None:
    """Litestar's double-submit check (the ``_csrf_token`` field against the signed
    ``csrftoken`` cookie), for a form the CSRF middleware does not parse."""
    config = request.app.csrf_config
    if config is None:
        return
    cookie = request.cookies.get(config.cookie_name) or ""
    mine = _token_secret(cookie, config.secret)
    theirs = _token_secret(submitted or "", config.secret)
    if mine is None or theirs is None or not hmac.compare_digest(mine, theirs):
        raise PermissionDeniedException("CSRF token verification failed")


# What an officer typed may be refused on the form: a field (400), a file too large (413).
TYPED: tuple[type[DomainError], ...] = (Invalid, Conflict, PayloadTooLarge)


async def new_page(request: AnyRequest) -> Template:
    """The entry form (as refused: ``tipline.web.forms`` adds ``error`` and the ``form``
    typed); while tips cannot be sealed (no escrow key yet) it says so instead."""
    channel = request.query_params.get("channel")
    return Template(
        "hotline/new.html",
        context={
            "closed": not await intake.tip_box_is_open(),
            "channels": CHANNELS,
            "categories": CATEGORIES,
            "places": await intake.place_choices(),
            "form": {"channel": channel if channel in CHANNELS else Channel.phone},
            "error": None,
        },
    )


class HotlinePagesController(Controller):
    """The officer's entry form; a designated officer's page like the rest of ``/cases``."""

    path = "/cases/new"
    guards = [OFFICERS]
    include_in_schema = False

    @get("/", name="hotline-new")
    async def new_form(self, request: AnyRequest) -> Template:
        """The form; while tips cannot be sealed (no escrow key yet) it says so instead."""
        return await new_page(request)

    @post(
        "/",
        name="hotline-enter",
        request_max_body_size=None,
        status_code=HTTP_201_CREATED,
        opt={"exclude_from_csrf": True, **form_page(new_page, refuse=TYPED)},
    )
    async def enter(self, request: AnyRequest, user: User, locale: Locale) -> Template:
        """The receipt page is the answer to the POST itself (``no-store``, never in a
        URL): the officer reads it out to the caller once; it cannot be shown again."""
        settings = _settings(request)
        received = await read_form(request, _limits(settings))
        check_csrf(request, received.get("_csrf_token"))
        keep_posted(request, received.fields)
        form = HotlineForm.of(received.fields)
        submitted = await services.enter_tip(
            settings, user, form.channel, form.tip(), received.files
        )
        return Template(
            "hotline/receipt.html",
            context={
                "ledger_no": submitted.ledger_no,
                "channel": form.channel,
                "groups": receipts.receipt_groups(submitted.receipt),
                "removed": removed_text(locale, submitted.removed),
            },
            status_code=HTTP_201_CREATED,
        )


class HotlineApiController(Controller):
    path = "/api/v1/cases"
    guards = [OFFICERS]
    tags = ["cases"]

    @post("/intake", name="hotline-enter-api", status_code=HTTP_201_CREATED)
    async def enter(
        self, request: AnyRequest, user: User, data: JSONBody[HotlineTipBody]
    ) -> HotlineReceipt:
        """Enter a tip taken by phone, letter or visit; ``content`` is the officer's
        transcript. Answers the ledger number and the receipt to read out to the caller
        (shown once, never stored). 503 while tips cannot be sealed."""
        submitted = await services.enter_tip(_settings(request), user, data.channel, data.tip())
        return HotlineReceipt(
            ledger_no=submitted.ledger_no,
            channel=data.channel,
            receipt=receipts.format_receipt(submitted.receipt),
            removed=submitted.removed,
        )

    @get("/{ledger_no:str}/transcript", name="hotline-transcript-api")
    async def transcript(self, ledger_no: LedgerNo) -> TranscriptState:
        """Whether the tipster confirmed or corrected the officer's transcript (metadata
        only); 404 for web tips."""
        return await services.officer_transcript_state(ledger_no)


async def transcript_page(request: AnyRequest, done: str | None = None) -> Template | Redirect:
    """The transcript in the tipster's mailbox (as refused: ``error`` and the ``form``
    typed); a tipster not signed in goes to the mailbox's sign-in."""
    token = request.cookies.get(COOKIE_NAME)
    try:
        view = await services.tipster_transcript(token)
    except Forbidden:  # not a refusal to answer: who is not signed in signs in
        return Redirect("/tip/mailbox", status_code=HTTP_303_SEE_OTHER)
    return Template(
        "hotline/transcript.html",
        context={
            "view": view,
            "csrf": intake.tipster_csrf_token(_settings(request), token or ""),
            "done": DONE.get(done or ""),
            "error": None,
            "form": {},
        },
    )


class TranscriptPagesController(Controller):
    """The transcript in the tipster's mailbox: read it, confirm it or correct it."""

    path = "/tip/mailbox/transcript"
    opt = TIP_ROUTE
    include_in_schema = False

    @get("/", name="tip-transcript")
    async def show(
        self, request: AnyRequest, done: FromQuery[str | None] = None
    ) -> Template | Redirect:
        return await transcript_page(request, done)

    @post("/confirm", status_code=HTTP_303_SEE_OTHER)
    async def confirm(self, request: AnyRequest, data: URLEncodedBody[TranscriptForm]) -> Redirect:
        token = request.cookies.get(COOKIE_NAME)
        intake.check_tipster_csrf(_settings(request), token, data.csrf)
        await services.confirm_transcript(token)
        return Redirect("/tip/mailbox/transcript?done=confirmed", status_code=HTTP_303_SEE_OTHER)

    @post("/corrections", status_code=HTTP_303_SEE_OTHER, opt=form_page(transcript_page))
    async def correct(self, request: AnyRequest, data: URLEncodedBody[TranscriptForm]) -> Redirect:
        token = request.cookies.get(COOKIE_NAME)
        settings = _settings(request)
        intake.check_tipster_csrf(settings, token, data.csrf)
        await services.correct_transcript(settings, token, data.text)
        return Redirect("/tip/mailbox/transcript?done=corrected", status_code=HTTP_303_SEE_OTHER)


class TranscriptApiController(Controller):
    """The same for apps, with the ``tipster`` cookie of ``POST /api/v1/tipster/session``."""

    path = "/api/v1/tipster/transcript"
    opt = TIP_ROUTE
    tags = ["tips"]

    @get("/")
    async def show(self, request: AnyRequest) -> TranscriptView:
        """The officer's transcript of a phone, letter or visit tip, its state and the
        corrections sent; 404 for a web tip."""
        return await services.tipster_transcript(request.cookies.get(COOKIE_NAME))

    @post("/confirm", status_code=200)
    async def confirm(self, request: AnyRequest) -> TranscriptState:
        """Agree that the transcript is accurate (recorded as ``tip.transcript_confirmed``)."""
        return await services.confirm_transcript(request.cookies.get(COOKIE_NAME))

    @post("/corrections", status_code=HTTP_201_CREATED)
    async def correct(self, request: AnyRequest, data: JSONBody[CorrectionBody]) -> TranscriptState:
        """Say what is wrong or missing (a message, recorded as ``tip.transcript_corrected``)."""
        return await services.correct_transcript(
            _settings(request), request.cookies.get(COOKIE_NAME), data.text
        )


# The pages of the top navigation (registered by tipline.app, which orders the bar).
NAV: list[NavItem] = [
    NavItem("/cases/new", "hotline.nav", frozenset({Role.officer})),
]


route_handlers: list[Any] = [
    HotlinePagesController,
    HotlineApiController,
    TranscriptPagesController,
    TranscriptApiController,
]
