"""Time-based one-time passwords (RFC 6238) as authenticator apps expect them.

SHA-1, 6 digits, 30-second steps: the defaults every authenticator app shares.
``cryptography``'s TOTP has no drift window and no replay protection, so both are
here: a code of the previous, current or next step is accepted, and a step at or
before the last one used is refused (a code seen over a shoulder or in a log cannot
be used again).
"""

from __future__ import annotations

import base64
import hmac
import os
import time
from urllib.parse import quote

import segno
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

DIGITS = 6
STEP_SECONDS = 30
SECRET_BYTES = 20
WINDOW = (-1, 0, 1)


def new_secret() -> str:
    """20 random bytes in base32 (no padding), as typed into an app by hand."""
    return base64.b32encode(os.urandom(SECRET_BYTES)).decode("ascii").rstrip("=")


def _totp(secret: str) -> TOTP:
    padded = secret + "=" * (-len(secret) % 8)
    key = base64.b32decode(padded, casefold=True)
    return TOTP(key, DIGITS, SHA1(), STEP_SECONDS)  # noqa: S303 (RFC 6238 as apps implement it)


def current_step(now: float | None = None) -> int:
    return int(time.time() if now is None else now) // STEP_SECONDS


def code_at_step(secret: str, step: int) -> str:
    return _totp(secret).generate(step * STEP_SECONDS).decode("ascii")


def normalize_code(code: str | None) -> str | None:
    """The six digits of ``code`` (spaces allowed, as apps show "123 456"), else None."""
    if code is None:
        return None
    digits = "".join(code.split())
    if len(digits) != DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    return digits


def matching_step(
    secret: str, code: str | None, last_step: int | None, now: float | None = None
) -> int | None:
    """The step ``code`` belongs to, if it is in the window and not yet used; else None."""
    digits = normalize_code(code)
    if digits is None:
        return None
    totp = _totp(secret)
    base = current_step(now)
    for offset in WINDOW:
        step = base + offset
        if last_step is not None and step <= last_step:
            continue
        expected = totp.generate(step * STEP_SECONDS)
        if hmac.compare_digest(expected, digits.encode("ascii")):
            return step
    return None


def provisioning_uri(secret: str, account_name: str, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return (
        f"otpauth://totp/{quote(issuer)}:{quote(account_name)}"
        f"?secret={secret}&issuer={quote(issuer)}&algorithm=SHA1&digits={DIGITS}"
        f"&period={STEP_SECONDS}"
    )


def qr_svg(uri: str) -> str:
    """The QR code as inline SVG markup (no inline styles, so the CSP allows it)."""
    return str(segno.make(uri, error="m").svg_inline(scale=4, omitsize=True, light="#fff"))


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
