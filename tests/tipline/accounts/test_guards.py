"""Every route is either guarded or explicitly public: walk the application's route table."""

from __future__ import annotations

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler

from tipline.auth import PUBLIC


def _unprotected(app: Litestar) -> list[str]:
    missing = []
    for route in app.routes:
        for handler in route.route_handlers:
            automatic_options = (
                isinstance(handler, HTTPRouteHandler)
                and handler.http_methods == {"OPTIONS"}
                and handler.handler_name == "options_handler"
            )
            if automatic_options:
                continue
            if handler.resolve_guards() or handler.opt.get("public") is True:
                continue
            missing.append(f"{route.path} ({handler.handler_name})")
    return missing


async def test_every_route_has_a_guard_or_is_marked_public(app: Litestar) -> None:
    assert _unprotected(app) == []


async def test_the_walk_finds_a_route_without_either(app: Litestar) -> None:
    from litestar import get

    @get("/forgotten", sync_to_thread=False)
    def forgotten() -> str:
        return "oops"

    @get("/open", opt=PUBLIC, sync_to_thread=False)
    def open_route() -> str:
        return "fine"

    app.register(forgotten)
    app.register(open_route)
    assert _unprotected(app) == ["/forgotten (forgotten)"]
