"""Server-side sessions: the cookie holds a random token, the database its SHA-256.

A stolen database therefore yields no usable session. A session ends on logout, after
``session_idle_minutes`` without a request, ``session_max_hours`` after sign-in, and
when its account is disabled or its password reset (GB/T 22239-2019 8.1.4.1 b:
ending sessions and logging out automatically after a time-out).

A designated officer's session also holds their private key, unlocked at sign-in and
wrapped under a secret that lives only in the ``tipline_key`` cookie (see
``tipline.crypto.services.unlock_for_session``). Whenever a session ends, its
unlocked key is deleted with it, so the key never outlives the session that opened it
(docs/ARCHITECTURE.md principle 1).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.datastructures import Cookie
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from tipline import db
from tipline.accounts.tables import AccountSession
from tipline.auth import CurrentUser, Role
from tipline.crypto import services as crypto
from tipline.crypto.tables import SessionKey
from tipline.settings import Settings
from tipline.web.cookies import cleared_cookie, strict_cookie

COOKIE_NAME = "tipline_session"
KEY_COOKIE_NAME = crypto.KEY_COOKIE_NAME
TOUCH_INTERVAL = dt.timedelta(minutes=1)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(moment: dt.datetime) -> dt.datetime:
    """Timestamps read back from SQLite may lack a zone; they are stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def session_cookie(token: str, settings: Settings) -> Cookie:
    """The session cookie: no max-age (it dies with the browser), strict, HTTP only."""
    return strict_cookie(COOKIE_NAME, token, settings)


def cleared_session_cookie(settings: Settings) -> Cookie:
    return cleared_cookie(COOKIE_NAME, settings)


def key_cookie(value: str, settings: Settings) -> Cookie:
    """The officer's ``tipline_key`` cookie: like the session cookie, gone with the browser."""
    return strict_cookie(KEY_COOKIE_NAME, value, settings)


def cleared_key_cookie(settings: Settings) -> Cookie:
    return cleared_cookie(KEY_COOKIE_NAME, settings)


async def end_sessions(account_id: int, reason: str, *, keep_session_id: int | None = None) -> None:
    """End every open session of an account and forget their unlocked keys (joins the
    caller's transaction)."""
    query = AccountSession.update(
        {
            AccountSession.ended_at: utcnow(),
            AccountSession.end_reason: reason,
            AccountSession.totp_pending_secret: None,
        }
    ).where((AccountSession.account == account_id) & AccountSession.ended_at.is_null())
    if keep_session_id is not None:
        query = query.where(AccountSession.id != keep_session_id)
    await query
    await crypto.forget_account_session_keys(account_id, keep_session_id=keep_session_id)


async def end_session(session_id: int, reason: str) -> None:
    await AccountSession.update(
        {
            AccountSession.ended_at: utcnow(),
            AccountSession.end_reason: reason,
            AccountSession.totp_pending_secret: None,
        }
    ).where((AccountSession.id == session_id) & AccountSession.ended_at.is_null())
    await crypto.forget_session_key(session_id)


async def sweep_sessions(settings: Settings) -> int:
    """End the sessions that timed out without a request and delete every unlocked key
    whose session is over; returns how many keys were deleted.

    A session that times out is otherwise only ended when its cookie comes back, and
    an abandoned browser never sends it: without this sweep its unlocked key would
    stay in the database (GB/T 22239-2019 8.1.4.1 b, automatic end after a time-out).
    """
    now = utcnow()
    idle_since = now - dt.timedelta(minutes=settings.session_idle_minutes)
    max_age = dt.timedelta(hours=settings.session_max_hours)
    still_open = AccountSession.ended_at.is_null()
    async with db.write_transaction():
        for reason, condition in (
            ("expired", AccountSession.created_at < now - max_age),
            ("idle", AccountSession.last_seen_at < idle_since),
        ):
            await AccountSession.update(
                {
                    AccountSession.ended_at: now,
                    AccountSession.end_reason: reason,
                    AccountSession.totp_pending_secret: None,
                }
            ).where(still_open & condition)
        held = [row["session_id"] for row in await SessionKey.select(SessionKey.session_id)]
        live = {
            row["id"]
            for row in await AccountSession.select(AccountSession.id).where(
                AccountSession.id.is_in(held or [-1]) & still_open
            )
        }
        over = [session_id for session_id in held if session_id not in live]
        if over:
            await SessionKey.delete().where(SessionKey.session_id.is_in(over))
        return len(over) + await crypto.forget_session_keys_older_than(max_age)


def session_sweep(settings: Settings) -> Callable[[], Awaitable[None]]:
    """The scheduler job running :func:`sweep_sessions` with these settings."""

    async def sweep() -> None:
        await sweep_sessions(settings)

    return sweep


async def find_open_session(token: str) -> int | None:
    row = (
        await AccountSession.select(AccountSession.id)
        .where((AccountSession.token_hash == token_hash(token)) & AccountSession.ended_at.is_null())
        .first()
    )
    return None if row is None else int(row["id"])


async def load_user(token: str, settings: Settings) -> CurrentUser | None:
    """The account signed in with ``token``, or None; ends the session if it expired."""
    account = AccountSession.account._
    row: dict[str, Any] | None = (
        await AccountSession.select(
            AccountSession.id,
            AccountSession.created_at,
            AccountSession.last_seen_at,
            AccountSession.ended_at,
            account.id.as_alias("account_id"),
            account.username.as_alias("username"),
            account.display_name.as_alias("display_name"),
            account.role.as_alias("role"),
            account.disabled.as_alias("disabled"),
            account.totp_secret.as_alias("totp_secret"),
            account.org_unit._.id.as_alias("org_unit_id"),
            account.org_unit._.name.as_alias("org_unit_name"),
        )
        .where(AccountSession.token_hash == token_hash(token))
        .first()
    )
    if row is None or row["ended_at"] is not None:
        return None
    now = utcnow()
    reason = None
    if row["disabled"]:
        reason = "disabled"
    elif now - aware(row["last_seen_at"]) > dt.timedelta(minutes=settings.session_idle_minutes):
        reason = "idle"
    elif now - aware(row["created_at"]) > dt.timedelta(hours=settings.session_max_hours):
        reason = "expired"
    if reason is not None:
        async with db.write_transaction():
            await end_session(row["id"], reason)
        return None
    if now - aware(row["last_seen_at"]) >= TOUCH_INTERVAL:
        async with db.write_transaction():
            await AccountSession.update({AccountSession.last_seen_at: now}).where(
                AccountSession.id == row["id"]
            )
    return CurrentUser(
        account_id=row["account_id"],
        username=row["username"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        org_unit_id=row["org_unit_id"],
        org_unit_name=row["org_unit_name"],
        session_id=row["id"],
        totp_enrolled=row["totp_secret"] is not None,
    )


def _cookie_from_scope(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name != b"cookie":
            continue
        for part in value.decode("latin-1").split(";"):
            key, _, cookie_value = part.strip().partition("=")
            if key == COOKIE_NAME and cookie_value:
                return cookie_value
    return None


class SessionMiddleware(ASGIMiddleware):
    """Puts the signed-in account (or None) in ``scope["user"]`` for guards and handlers."""

    should_bypass_for_scope = staticmethod(
        lambda scope: str(scope.get("path", "")).startswith("/static/")
    )

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        token = _cookie_from_scope(scope)
        user = None
        if token and len(token) <= 128:
            settings: Settings = scope["app"].state.settings
            user = await load_user(token, settings)
        scope["user"] = user
        await next_app(scope, receive, send)
