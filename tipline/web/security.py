"""Security headers on every response, and the server's own secret.

Litestar has no built-in CSP or HSTS, so a ``before_send`` hook adds them. The CSP
allows nothing inline and nothing from another host: the tip form must load no
third-party asset (docs/ARCHITECTURE.md principle 2).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from tipline.settings import Settings

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

STATIC_PREFIX = "/static/"


def make_security_headers_hook(
    settings: Settings,
) -> Callable[[Message, Scope], Awaitable[None]]:
    """A ``before_send`` hook adding the headers every answer carries."""

    async def add_security_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        headers["X-Frame-Options"] = "DENY"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if settings.secure_cookies:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if not scope["path"].startswith(STATIC_PREFIX):
            headers["Cache-Control"] = "no-store"

    return add_security_headers


def server_secret(settings: Settings, name: str = "secret.key") -> bytes:
    """A random 32-byte secret kept in the data dir (mode 0600), made on first use.

    Used for CSRF tokens and keyed hashes; every worker of one installation reads the
    same file.
    """
    path = Path(settings.data_dir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return bytes.fromhex(path.read_text().strip())
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())
