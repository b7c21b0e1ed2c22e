"""The one shape of every cookie tipline sets: HttpOnly, SameSite=Strict, whole site.

Session cookies (the officer's session and key, the tipster's mailbox) have no
max-age, so they die with the browser; ``Secure`` follows the settings.
"""

from __future__ import annotations

from litestar.datastructures import Cookie

from tipline.settings import Settings


def strict_cookie(
    name: str, value: str, settings: Settings, *, max_age: int | None = None
) -> Cookie:
    return Cookie(
        key=name,
        value=value,
        path="/",
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
    )


def cleared_cookie(name: str, settings: Settings) -> Cookie:
    """Tells the browser to drop ``name`` at once."""
    return strict_cookie(name, "", settings, max_age=0)
