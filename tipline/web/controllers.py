"""Pages and routes that belong to no domain: home, language switch, health, static files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.params import PathParameter, QueryParameter
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from tipline import db
from tipline.auth import PUBLIC
from tipline.settings import LOCALES
from tipline.web.cookies import strict_cookie
from tipline.web.i18n import LOCALE_COOKIE

STATIC_DIR = Path(__file__).resolve().parent / "static"


def local_path(value: str | None) -> str:
    """``value`` if it is a path on this site, else ``/``: never ``//host`` or ``scheme:``."""
    if (
        not value
        or not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(char) < 32 or char.isspace() for char in value)
    ):
        return "/"
    return value


class Health(msgspec.Struct):
    status: str
    database: str


class WebController(Controller):
    opt = PUBLIC

    @get("/", name="home", include_in_schema=False)
    async def home(self) -> Template:
        return Template("web/home.html")

    @get("/lang/{code:str}", name="switch-language", include_in_schema=False)
    async def switch_language(
        self,
        request: Request[Any, Any, Any],
        code: Annotated[str, PathParameter()],
        next_path: Annotated[str | None, QueryParameter(name="next", max_length=2000)] = None,
    ) -> Redirect:
        """Remember the chosen language in a cookie and go back to the page it was chosen on.

        No Referer is ever sent (``Referrer-Policy: no-referrer``), so the page names
        itself in ``next``; only a path on this site is followed (no open redirect).
        """
        response = Redirect(local_path(next_path))
        if code in LOCALES:
            response.cookies.append(
                strict_cookie(
                    LOCALE_COOKIE, code, request.app.state.settings, max_age=365 * 24 * 3600
                )
            )
        return response

    @get("/health", name="health", tags=["service"])
    async def health(self) -> Response[Health]:
        """Whether the service and its database answer."""
        if await db.check_database():
            return Response(Health("ok", "ok"), status_code=HTTP_200_OK)
        return Response(Health("degraded", "unavailable"), status_code=HTTP_503_SERVICE_UNAVAILABLE)


# Static files never set a cookie (not even the CSRF one): the tip box loads them
# before any receipt login, and it promises to set no cookie until then.
static_router = create_static_files_router(
    path="/static",
    directories=[STATIC_DIR],
    opt={**PUBLIC, "exclude_from_csrf": True},
    include_in_schema=False,
    cache_control=None,
)
