"""The inbox (``/inbox``) of every signed-in account and its JSON mirror (``/api/v1/inbox``).

An account only ever sees and marks its own messages; another account's message id
answers 404, as if it did not exist.
"""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.middleware import ASGIMiddleware
from litestar.params import FromQuery, PathParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from litestar.types import ASGIApp, Receive, Scope, Send

from tipline.auth import CurrentUser, Role, current_user, requires, signed_in
from tipline.notifications import services
from tipline.notifications.services import Inbox, OutboxRow
from tipline.web.templating import ADMIN, EVERYONE, Locale, NavItem

AnyRequest = Request[Any, Any, Any]
NotificationId = Annotated[int, PathParameter(ge=1)]
UNREAD_SCOPE_KEY = "tipline.inbox_unread"


class InboxPageController(Controller):
    path = "/inbox"
    guards = [signed_in]
    include_in_schema = False

    @get("/", name="inbox")
    async def show(
        self, request: AnyRequest, locale: Locale, unread: FromQuery[int | None] = None
    ) -> Template:
        """The account's messages, newest first, with a button to mark each read."""
        user = current_user(request)
        box = await services.inbox(user.account_id, locale, unread_only=bool(unread))
        return Template(
            "notifications/inbox.html", context={"inbox": box, "unread_only": bool(unread)}
        )

    @post("/{notification_id:int}/read", name="inbox-read")
    async def read(self, request: AnyRequest, notification_id: NotificationId) -> Redirect:
        await services.mark_read(current_user(request).account_id, notification_id)
        return Redirect("/inbox", status_code=HTTP_303_SEE_OTHER)

    @post("/read-all", name="inbox-read-all")
    async def read_all(self, request: AnyRequest) -> Redirect:
        await services.mark_all_read(current_user(request).account_id)
        return Redirect("/inbox", status_code=HTTP_303_SEE_OTHER)


class InboxApiController(Controller):
    path = "/api/v1/inbox"
    guards = [signed_in]
    tags = ["inbox"]

    @get("/", name="api-inbox")
    async def show(
        self, request: AnyRequest, locale: Locale, unread: FromQuery[bool] = False
    ) -> Inbox:
        """The signed-in account's messages (at most 200, newest first) and its unread count."""
        return await services.inbox(current_user(request).account_id, locale, unread_only=unread)

    @post("/{notification_id:int}/read", name="api-inbox-read", status_code=200)
    async def read(
        self, request: AnyRequest, locale: Locale, notification_id: NotificationId
    ) -> Inbox:
        """Mark one message read; returns the inbox as it is now."""
        user = current_user(request)
        await services.mark_read(user.account_id, notification_id)
        return await services.inbox(user.account_id, locale)

    @post("/read-all", name="api-inbox-read-all", status_code=200)
    async def read_all(self, request: AnyRequest, locale: Locale) -> Inbox:
        user = current_user(request)
        await services.mark_all_read(user.account_id)
        return await services.inbox(user.account_id, locale)


class OutboxPageController(Controller):
    path = "/admin/outbox"
    guards = [requires(Role.admin)]
    include_in_schema = False

    @get("/", name="admin-outbox")
    async def show(self, request: AnyRequest) -> Template:
        """The newest e-mails with their delivery state (sent, retrying, given up)."""
        settings = request.app.state.settings
        return Template(
            "notifications/outbox.html",
            context={"rows": await services.outbox(), "configured": settings.smtp_configured},
        )


class OutboxApiController(Controller):
    path = "/api/v1/admin/outbox"
    guards = [requires(Role.admin)]
    tags = ["admin"]

    @get("/", name="api-admin-outbox")
    async def show(self) -> list[OutboxRow]:
        """The newest 100 e-mails: attempts, next attempt, sent or given up, last error type."""
        return await services.outbox()


class UnreadCountMiddleware(ASGIMiddleware):
    """Counts the signed-in account's unread messages for the navigation bar of pages.

    Runs after the session middleware; only for page requests (not the API, not static
    files), so it costs one indexed count per page view.
    """

    should_bypass_for_scope = staticmethod(
        lambda scope: str(scope.get("path", "")).startswith(("/static/", "/api/", "/schema"))
    )

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        user = scope.get("user")
        if isinstance(user, CurrentUser) and scope.get("method") == "GET":
            # A missing count must never break a page.
            with contextlib.suppress(Exception):
                count = await services.unread_count(user.account_id)
                scope[UNREAD_SCOPE_KEY] = count  # type: ignore[literal-required]
        await next_app(scope, receive, send)


# The pages of the top navigation (registered by tipline.app, which orders the bar: the
# inbox beside the other pages everyone uses, the outbox among the admin's).
INBOX_NAV = NavItem("/inbox", "notifications.nav", EVERYONE, badge=UNREAD_SCOPE_KEY)
OUTBOX_NAV = NavItem("/admin/outbox", "notifications.outbox.title", ADMIN)


route_handlers = [
    InboxPageController,
    InboxApiController,
    OutboxPageController,
    OutboxApiController,
]
