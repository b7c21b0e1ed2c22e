"""The officer's tip ledger pages (``/cases``) and their JSON mirror (``/api/v1/cases``).

Every route admits designated officers only. Reading needs the officer's key, unlocked
for this session at sign-in (the ``tipline_key`` cookie); without it the page asks the
officer to sign in again.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, PathParameter, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tipline.auth import Role, current_user, requires
from tipline.cases import services
from tipline.cases.exceptions import KeyLocked
from tipline.cases.schemas import CaseRow, CaseView, ReplyBody, ReplySent
from tipline.crypto.services import KEY_COOKIE_NAME
from tipline.errors import DomainError
from tipline.web.i18n import translate

AnyRequest = Request[Any, Any, Any]
Locale = NamedDependency[str]
LedgerNo = Annotated[str, PathParameter(max_length=16, description="ledger number, 2026-000123")]
Uid = Annotated[str, PathParameter(max_length=32)]
OFFICERS = requires(Role.officer)

DONE_MESSAGES = {"sent": "cases.done.sent"}


class ReplyForm(msgspec.Struct):
    text: str = ""


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
    async def list_cases(self) -> Template:
        """Every tip by ledger number with its metadata; nothing is decrypted."""
        return Template("cases/list.html", context={"cases": await services.list_cases()})

    async def _case_page(
        self,
        request: AnyRequest,
        locale: str,
        ledger_no: str,
        *,
        done: str | None = None,
        error: DomainError | None = None,
        text: str = "",
    ) -> Template:
        try:
            case = await services.open_case(current_user(request), await _key(request), ledger_no)
        except KeyLocked as locked:
            return _locked_page(locked)
        key = DONE_MESSAGES.get(done or "")
        return Template(
            "cases/case.html",
            context={
                "case": case,
                "done": translate(locale, key) if key else None,
                "error": translate(locale, error.key, **error.values) if error else None,
                "text": text,
            },
            status_code=error.status_code if error else 200,
        )

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
    async def list_cases(self) -> list[CaseRow]:
        """Every tip by ledger number, newest first: metadata only."""
        return await services.list_cases()

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


route_handlers: list[Any] = [CasesPageController, CasesApiController]
