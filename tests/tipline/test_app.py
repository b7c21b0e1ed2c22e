"""The assembled application: every route is guarded or explicitly public."""

from __future__ import annotations

import re

from litestar import Litestar, get
from litestar.handlers import BaseRouteHandler, HTTPRouteHandler
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from tipline.auth import PUBLIC


def _handlers(app: Litestar) -> list[tuple[str, HTTPRouteHandler]]:
    return [
        (route.path, handler)
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
    ]


def _is_openapi(handler: HTTPRouteHandler) -> bool:
    """Litestar's own schema routes (``/schema``): public by design, and generated."""
    return handler.fn.__module__.startswith("litestar.")


def _is_public(handler: HTTPRouteHandler) -> bool:
    return all(handler.opt.get(key) == value for key, value in PUBLIC.items())


def _is_automatic_options(handler: BaseRouteHandler) -> bool:
    """The ``OPTIONS`` handler Litestar adds to every path by itself."""
    return (
        isinstance(handler, HTTPRouteHandler)
        and handler.http_methods == {"OPTIONS"}
        and handler.handler_name == "options_handler"
    )


def _unguarded(app: Litestar) -> list[str]:
    """Every handler of every route (not only HTTP ones) with neither a guard nor
    ``opt=PUBLIC``; Litestar's automatic ``OPTIONS`` handlers aside."""
    found = []
    for route in app.routes:
        for handler in route.route_handlers:
            if _is_automatic_options(handler) or handler.resolve_guards():
                continue
            if isinstance(handler, HTTPRouteHandler) and _is_public(handler):
                continue
            methods = sorted(getattr(handler, "http_methods", ()))
            found.append(f"{methods} {route.path} ({handler.handler_name})")
    return found


def test_every_route_has_a_guard_or_is_marked_public(app: Litestar) -> None:
    unguarded = _unguarded(app)
    assert not unguarded, "routes with neither a guard nor opt=PUBLIC:\n" + "\n".join(unguarded)


def test_the_guard_walk_finds_a_route_without_either(own_app: Litestar) -> None:
    app = own_app

    @get("/forgotten", sync_to_thread=False)
    def forgotten() -> str:
        return "oops"

    @get("/open", opt=PUBLIC, sync_to_thread=False)
    def open_route() -> str:
        return "fine"

    app.register(forgotten)
    app.register(open_route)
    assert _unguarded(app) == ["['GET'] /forgotten (forgotten)"]


def test_the_walk_sees_the_routes(app: Litestar) -> None:
    paths = {path for path, _ in _handlers(app)}
    assert {"/", "/health", "/lang/{code:str}"} <= paths
    assert any(path.startswith("/static") for path in paths)


def _example_path(path: str) -> str:
    return re.sub(r"\{[^}:]+:(int|str|path)\}", lambda m: "1" if m[1] == "int" else "x", path)


async def test_guarded_routes_turn_the_anonymous_away_without_a_500(
    app: Litestar, client: AsyncTestClient[Litestar]
) -> None:
    """Signed out, a page sends the browser to sign in and the API answers 401."""
    checked = 0
    for path, handler in _handlers(app):
        if _is_openapi(handler) or _is_public(handler) or "GET" not in handler.http_methods:
            continue
        url = _example_path(path)
        response = await client.get(url, follow_redirects=False)
        checked += 1
        if url.startswith("/api/"):
            assert response.status_code == 401, (url, response.status_code)
            assert response.json()["error"] == "error.login_required"
        else:
            assert response.status_code == 302, (url, response.status_code)
            assert response.headers["location"] == f"/login?next={url}", url
    assert checked, "no guarded GET route to check"
