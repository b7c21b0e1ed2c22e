"""One place that turns every refusal into an answer in the user's language.

Domain errors and Litestar's HTTP exceptions become a 4xx: JSON under ``/api`` and
``/health``, an HTML page elsewhere (a redirect to the login page when a browser is
not signed in). Anything unexpected becomes a 500 that shows no traceback, no
request data and no exception text; the traceback goes to the server log only.
"""

from __future__ import annotations

import logging
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

from tipline.errors import DomainError
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


def wants_json(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path == "/health" or path.startswith("/schema")


def _error_response(
    request: Request[Any, Any, Any],
    status_code: int,
    key: str,
    values: dict[str, Any] | None = None,
    details: list[str] | None = None,
) -> Response[Any]:
    locale = request_locale(request)
    message = translate(locale, key, **(values or {}))
    if wants_json(request):
        body: dict[str, Any] = {"status_code": status_code, "error": key, "detail": message}
        if details:
            body["fields"] = details
        return Response(body, status_code=status_code, media_type=MediaType.JSON)
    return Template(
        "web/error.html",
        context={
            "status_code": status_code,
            "title": translate(locale, "error.title"),
            "message": message,
            "details": details or [],
        },
        status_code=status_code,
        media_type=MediaType.HTML,
    )


def domain_error_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    return _error_response(request, exc.status_code, exc.key, exc.values)


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
