"""The one place that assembles the service: ``create_app(settings) -> Litestar``.

Every domain package contributes its ``route_handlers``; nothing else here knows
about tips, accounts or villages.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from litestar import Litestar, Request, Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from tipline import db, stretching
from tipline.accounts import controllers as accounts_controllers
from tipline.accounts import sessions as accounts_sessions
from tipline.accounts.sessions import SessionMiddleware
from tipline.auth import PUBLIC, USER_DEPENDENCY
from tipline.authorities import controllers as authorities_controllers
from tipline.cases import controllers as cases_controllers
from tipline.duedates import controllers as duedates_controllers
from tipline.duedates import services as duedates_services
from tipline.hotline import controllers as hotline_controllers
from tipline.intake import controllers as intake_controllers
from tipline.intake.reconcile import reconcile_job
from tipline.intake.schemas import TipBody
from tipline.ledger import controllers as ledger_controllers
from tipline.ledger.checkpoints import checkpoint_job
from tipline.notifications import controllers as notifications_controllers
from tipline.notifications import services as notifications_services
from tipline.orgunits import controllers as orgunits_controllers
from tipline.oversight import controllers as oversight_controllers
from tipline.oversight.services import verify_job
from tipline.scheduler import controllers as scheduler_controllers
from tipline.scheduler.services import Job, register_job, run_scheduler
from tipline.settings import Settings
from tipline.web.controllers import WebController, static_router
from tipline.web.openapi import (
    complete_openapi_lazily,
    declare_request_body,
    document_refusals,
    integer_overflow_handler,
    refuse_impossible_ids,
)
from tipline.web.refusals import EXCEPTION_HANDLERS
from tipline.web.security import make_security_headers_hook, server_secret
from tipline.web.templating import make_template_config, register_nav, request_locale
from tipline.workdays import controllers as workdays_controllers
from villageaffairs import legal
from villageaffairs import registers as villageaffairs_registers
from villageaffairs.campaigns import controllers as campaigns_controllers
from villageaffairs.campaigns.services import campaign_job
from villageaffairs.noticeboards import controllers as noticeboards_controllers
from villageaffairs.public import controllers as public_controllers
from villageaffairs.supervision import controllers as supervision_controllers
from villageaffairs.villagerules import controllers as villagerules_controllers

API_PREFIX = "/api/v1"
MAX_BODY_BYTES = 20 * 1024 * 1024

# The top navigation bar, in its order: each package names its own pages.
register_nav(
    *accounts_controllers.NAV,
    *orgunits_controllers.NAV,
    *workdays_controllers.NAV,
    *scheduler_controllers.NAV,
    *ledger_controllers.NAV,
    *cases_controllers.NAV,
    *authorities_controllers.NAV,
    *oversight_controllers.NAV,
    *villageaffairs_registers.NAV,
    *campaigns_controllers.NAV,
    *hotline_controllers.NAV,
    notifications_controllers.INBOX_NAV,
    *duedates_controllers.NAV,
    notifications_controllers.OUTBOX_NAV,
)


def provide_locale(request: Request[Any, Any, Any]) -> str:
    return request_locale(request)


def create_app(settings: Settings | None = None) -> Litestar:
    """The service for ``settings`` (by default the ``TIPLINE_*`` environment)."""
    settings = settings or Settings.from_env()
    app = build_app(settings)
    bind(app, settings)
    return app


def bind(app: Litestar, settings: Settings) -> None:
    """Point ``app`` at ``settings``: their database, their scheduler jobs, their e-mail.

    Everything an app reads from its settings while it runs is set here, so one app
    built by :func:`build_app` can serve another data dir and database of the same
    installation (the test suite builds one app per process and binds it per test).
    What :func:`build_app` fixes for good is the CSRF secret and cookie flags.
    """
    install(settings)
    # What a running app keeps in memory (the tip box's rate limits) belongs to the
    # data it served: it starts afresh with the new binding.
    for key in list(app.state.keys()):
        del app.state[key]
    app.state.settings = settings


def install(settings: Settings) -> None:
    """The process-wide wiring for ``settings``, app or not: the tables bound to their
    database, the province's thresholds, the jobs, and the hooks by which lower packages
    tell higher ones (a transition starts due dates, a checkpoint is mailed)."""
    db.bind(db.make_engine(settings))
    legal.configure(settings)
    stretching.configure(settings.password_hash_concurrency)
    register_job(
        Job("session-sweep", accounts_sessions.session_sweep(settings), "interval", {"minutes": 5})
    )
    register_job(Job("ledger-checkpoint", checkpoint_job(settings), "interval", {"minutes": 1}))
    register_job(Job("ledger-reconcile", reconcile_job, "interval", {"minutes": 5}))
    register_job(villageaffairs_registers.TERM_END_JOB)
    register_job(Job("campaign-sweep", campaign_job, "interval", {"hours": 1}))
    register_job(Job("oversight-verify", verify_job(settings), "interval", {"hours": 1}))
    notifications_services.install(settings)
    duedates_services.install()
    register_job(Job("duedates-sweep", duedates_services.sweep_job, "interval", {"minutes": 5}))
    register_job(
        Job(
            "notifications-email",
            notifications_services.email_job(settings),
            "interval",
            {"minutes": 1},
        )
    )


def build_app(settings: Settings) -> Litestar:
    """The routes, middleware and configuration; :func:`bind` connects them to a database."""

    @contextlib.asynccontextmanager
    async def database(app: Litestar) -> AsyncIterator[None]:
        await db.open_pool()
        try:
            yield
        finally:
            await db.close_pool()

    @contextlib.asynccontextmanager
    async def scheduler(app: Litestar) -> AsyncIterator[None]:
        bound: Settings = app.state.settings
        if not bound.scheduler:
            yield
            return
        async with run_scheduler(bound):
            yield

    app = Litestar(
        route_handlers=[
            WebController,
            static_router,
            *accounts_controllers.route_handlers,
            *orgunits_controllers.route_handlers,
            *ledger_controllers.route_handlers,
            *workdays_controllers.route_handlers,
            *scheduler_controllers.route_handlers,
            *intake_controllers.route_handlers,
            *hotline_controllers.route_handlers,
            *cases_controllers.route_handlers,
            *authorities_controllers.route_handlers,
            *oversight_controllers.route_handlers,
            *villageaffairs_registers.route_handlers,
            *campaigns_controllers.route_handlers,
            *supervision_controllers.route_handlers,
            *villagerules_controllers.route_handlers,
            *noticeboards_controllers.route_handlers,
            *public_controllers.route_handlers,
            *notifications_controllers.route_handlers,
            *duedates_controllers.route_handlers,
        ],
        middleware=[SessionMiddleware(), notifications_controllers.UnreadCountMiddleware()],
        dependencies={"locale": Provide(provide_locale, sync_to_thread=False), **USER_DEPENDENCY},
        template_config=make_template_config(),
        csrf_config=CSRFConfig(
            secret=server_secret(settings).hex(),
            cookie_secure=settings.secure_cookies,
            cookie_httponly=True,
            cookie_samesite="strict",
            # JSON routes take no form posts: a cross-site page cannot send them
            # (application/json needs CORS, which we never grant) and the session
            # cookie is SameSite=Strict.
            exclude=[f"^{API_PREFIX}/", "^/health$", "^/schema"],
        ),
        exception_handlers={
            **EXCEPTION_HANDLERS,
            OverflowError: integer_overflow_handler,
            asyncpg.exceptions.DataError: integer_overflow_handler,
        },
        before_send=[make_security_headers_hook(settings)],
        lifespan=[database, scheduler],
        openapi_config=OpenAPIConfig(
            title="tipline",
            version="1",
            description="Anonymous anti-gang tips and village affairs reporting.",
            # Only the JSON document: the bundled UIs load scripts from CDNs, which the
            # CSP forbids. The router marks these routes public for the guard check.
            openapi_router=Router(
                path="/schema", route_handlers=[], include_in_schema=False, opt=PUBLIC
            ),
            render_plugins=[JsonRenderPlugin()],
            components=Components(
                security_schemes={
                    "session": SecurityScheme(
                        type="apiKey", name="tipline_session", security_scheme_in="cookie"
                    )
                }
            ),
        ),
        state=State({"settings": settings}),
        request_max_body_size=MAX_BODY_BYTES,
        before_request=refuse_impossible_ids,
        debug=False,
    )
    complete_openapi_lazily(app, _complete_openapi)
    return app


def _complete_openapi(app: Litestar) -> None:
    """What Litestar's generated document cannot know (run on the first ``/schema``)."""
    document_refusals(app, API_PREFIX)
    declare_request_body(app, f"{API_PREFIX}/tips", "post", TipBody, ("application/json",))
