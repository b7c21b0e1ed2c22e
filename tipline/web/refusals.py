"""One place that turns every refusal into an answer in the user's language.

Domain errors and Litestar's HTTP exceptions become a 4xx: JSON under ``/api`` and
``/health``; on a page, the refused form's page again with the input kept and the
message beside its field when the handler names that page (``opt=form_page(...)``,
see ``tipline.web.forms``), else an error page with a link back (a redirect to the
login page when a browser is not signed in). No controller catches a domain error to
answer it: this module is the only mapping. Anything unexpected becomes a 500 that
shows no traceback, no request data and no exception text; the traceback goes to the
server log only.

A package whose refusal carries more than a message (a failed legal check lists each
rule with its article) registers how to spell it out with :func:`register_details`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from tipline.errors import DomainError, Invalid
from tipline.web.forms import form_page_of, posted, refusal_context
from tipline.web.i18n import catalogues, translate
from tipline.web.templating import request_locale

log = logging.getLogger("tipline.errors")

_STATUS_KEYS = {
    400: "error.bad_request",
    401: "error.login_required",
    403: "error.forbidden",
    404: "error.not_found",
    405: "error.method_not_allowed",
    409: "error.conflict",
    413: "error.too_large",
    429: "error.too_many_requests",
    503: "error.unavailable",
}


# exception type -> (page lines, extra JSON members), each given the error and the locale
Details = tuple[
    Callable[[Any, str], list[str]],
    Callable[[Any, str], dict[str, Any]],
]
_DETAILS: dict[type[DomainError], Details] = {}


def register_details(
    exc_type: type[DomainError],
    lines: Callable[[Any, str], list[str]],
    json: Callable[[Any, str], dict[str, Any]],
) -> None:
    """How ``exc_type`` spells out its reasons: ``lines`` on a page, ``json`` merged
    into the API's refusal body."""
    _DETAILS[exc_type] = (lines, json)


def _details_of(exc: DomainError) -> Details | None:
    for cls in type(exc).__mro__:
        if cls in _DETAILS:
            return _DETAILS[cls]
    return None


def wants_json(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path == "/health" or path.startswith("/schema")


def _back(request: Request[Any, Any, Any]) -> str | None:
    """Where a refused page's "back" link goes: the page above the one posted to."""
    if request.method == "GET":
        return None
    parent = request.url.path.rstrip("/").rsplit("/", 1)[0]
    return parent or "/"


def _error_response(
    request: Request[Any, Any, Any],
    status_code: int,
    key: str,
    values: dict[str, Any] | None = None,
    details: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response[Any]:
    locale = request_locale(request)
    message = translate(locale, key, **(values or {}))
    if wants_json(request):
        body: dict[str, Any] = {"status_code": status_code, "error": key, "detail": message}
        if details:
            body["fields"] = details
        body.update(extra or {})
        return Response(body, status_code=status_code, media_type=MediaType.JSON)
    return Template(
        "web/error.html",
        context={
            "status_code": status_code,
            "title": translate(locale, "error.title"),
            "message": message,
            "details": details or [],
            "back": _back(request),
        },
        status_code=status_code,
        media_type=MediaType.HTML,
    )


class _RefusedForm(Response[Any]):
    """The refused form's page, drawn when the answer is sent: its page renderer reads
    the database, which an exception handler (a plain function) cannot await."""

    def __init__(self, request: Request[Any, Any, Any], exc: DomainError) -> None:
        super().__init__(content=None, status_code=exc.status_code)
        self.request = request
        self.exc = exc

    async def _page(self) -> Response[Any]:
        request, exc = self.request, self.exc
        page = form_page_of(request)
        assert page is not None
        locale = request_locale(request)
        try:
            template = await page.render(request)
        except DomainError as refused:  # the page itself is refused (gone, forbidden)
            return domain_error_handler(request, refused, form=False)
        if not isinstance(template, Template):  # the page sends elsewhere (a redirect)
            return template
        details = _details_of(exc)
        problems = details[0](exc, locale) if details else []
        message = translate(locale, exc.key, **exc.values)
        template.context = {
            **template.context,
            **refusal_context(exc, message, problems, await posted(request)),
        }
        template.status_code = exc.status_code
        return template

    def to_asgi_response(self, app: Any, request: Any, **kwargs: Any) -> Any:
        async def send_page(scope: Any, receive: Any, send: Any) -> None:
            try:
                response = await self._page()
            except Exception as error:  # never a traceback to the browser
                response = internal_error_handler(self.request, error)
            await response.to_asgi_response(None, request, **kwargs)(scope, receive, send)

        return send_page


def domain_error_handler(
    request: Request[Any, Any, Any], exc: DomainError, *, form: bool = True
) -> Response[Any]:
    if not wants_json(request) and exc.page is not None:
        return Template(exc.page, status_code=exc.status_code, media_type=MediaType.HTML)
    if not wants_json(request) and form:
        page = form_page_of(request)
        if page is not None and page.applies_to(exc):
            return _RefusedForm(request, exc)
    locale = request_locale(request)
    details = _details_of(exc)
    return _error_response(
        request,
        exc.status_code,
        exc.key,
        exc.values,
        details=details[0](exc, locale) if details and not wants_json(request) else None,
        extra=details[1](exc, locale) if details and wants_json(request) else None,
    )


def _validation_details(exc: ValidationException) -> list[str]:
    details: list[str] = []
    for item in exc.extra or []:
        if isinstance(item, dict):
            where = item.get("key") or item.get("source") or ""
            details.append(f"{where}: {item.get('message', '')}".strip(": "))
    return details


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status_code = exc.status_code
    detail = exc.detail if isinstance(exc.detail, str) else ""
    key = detail if detail in catalogues()["zh-CN"] else _STATUS_KEYS.get(status_code, "")
    if not key:
        key = "error.bad_request" if status_code < 500 else "error.internal"
    if "csrf" in detail.lower():
        key = "error.csrf"
    if not wants_json(request) and request.method == "GET":
        if isinstance(exc, NotAuthorizedException):
            return Redirect(f"/login?next={quote(request.url.path)}")
        if isinstance(exc, PermissionDeniedException) and key == "error.totp_enrolment_required":
            return Redirect("/account/totp")
    if isinstance(exc, ValidationException) and not wants_json(request):
        # a field of a form struct not of its kind (a date, a number, a choice): the
        # form again, the message beside that field, what was typed kept
        fields = [
            str(item["key"])
            for item in exc.extra or []
            if isinstance(item, dict) and item.get("source") == "body" and item.get("key")
        ]
        page = form_page_of(request)
        if fields and page is not None:
            return _RefusedForm(request, Invalid("error.validation", field=fields[0]))
    details = _validation_details(exc) if isinstance(exc, ValidationException) else None
    if isinstance(exc, ValidationException):
        key = "error.validation"
    return _error_response(request, status_code, key, details=details)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _error_response(request, HTTP_500_INTERNAL_SERVER_ERROR, "error.internal")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: domain_error_handler,
    HTTPException: http_exception_handler,
    HTTP_500_INTERNAL_SERVER_ERROR: internal_error_handler,
    Exception: internal_error_handler,
}
