"""A designated officer's key follows their account: made with it, unlocked at sign-in
for that session only, re-wrapped on a password change, replaced on a reset."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import csrf_form, extra_client, log_in, make_account, sign_in
from tipline.accounts import sessions
from tipline.accounts.tables import AccountSession
from tipline.crypto import primitives
from tipline.crypto import services as crypto
from tipline.crypto.exceptions import SessionKeyUnavailable
from tipline.crypto.tables import OfficerKey, SessionKey
from tipline.ledger.services import recent_events
from tipline.scheduler import services as scheduler
from tipline.settings import Settings

Client = AsyncTestClient[Litestar]
NEW_PASSWORD = "Eleven Lanterns Along The Dyke 3"


async def _officer_key(account_id: int) -> dict[str, Any]:
    row = await OfficerKey.select().where(OfficerKey.account_id == account_id).first()
    assert row is not None
    return row


async def _session_id(account_id: int) -> int:
    row = (
        await AccountSession.select(AccountSession.id)
        .where((AccountSession.account == account_id) & AccountSession.ended_at.is_null())
        .order_by(AccountSession.id, ascending=False)
        .first()
    )
    assert row is not None
    return int(row["id"])


async def _private_key_of(client: Client, account_id: int) -> Any:
    cookie = client.cookies.get(sessions.KEY_COOKIE_NAME)
    assert cookie
    return await crypto.session_private_key(
        await _session_id(account_id), crypto.decode_session_secret(cookie)
    )


async def _actions(action: str) -> list[dict[str, Any]]:
    return [event for event in await recent_events(500) if event["action"] == action]


async def test_an_officer_account_gets_its_key_when_created(app: Litestar) -> None:
    officer = await make_account("officer")
    staff = await make_account("county_staff")
    assert await crypto.has_officer_key(officer["id"])
    assert not await crypto.has_officer_key(staff["id"])
    assert not await crypto.tip_box_open()  # no escrow key yet
    key = await crypto.unwrap_officer_key(officer["id"], officer["password"])
    assert primitives.fingerprint(key) == (await _officer_key(officer["id"]))["fingerprint"]
    (event,) = await _actions("officer_key.created")
    assert event["object_id"] == str(officer["id"])


async def test_officer_login_sets_the_key_cookie_and_unlocks_for_this_session(
    client: Client,
) -> None:
    officer = await make_account("officer")
    response = await log_in(client, officer)
    assert response.status_code == 200
    cookies = response.headers.get_list("set-cookie")
    key_cookie = next(c for c in cookies if c.startswith(f"{sessions.KEY_COOKIE_NAME}="))
    assert "HttpOnly" in key_cookie and "samesite=strict" in key_cookie.lower()
    assert "max-age" not in key_cookie.lower() and "Path=/" in key_cookie

    (row,) = await SessionKey.select()
    assert row["account_id"] == officer["id"]
    assert row["session_id"] == await _session_id(officer["id"])
    key = await _private_key_of(client, officer["id"])
    public = (await _officer_key(officer["id"]))["public_key"]
    assert primitives.public_bytes(key).hex() == public


async def test_the_database_holds_no_usable_key_without_the_cookie(client: Client) -> None:
    officer = await sign_in(client, "officer")
    session_id = await _session_id(officer["id"])
    cookie = client.cookies.get(sessions.KEY_COOKIE_NAME)
    assert cookie
    # Everything stored for this session and account, tried as the cookie's secret.
    stored: list[str] = []
    for table in (SessionKey, OfficerKey, AccountSession):
        for row in await table.select():
            stored += [str(value) for value in row.values()]
    for text in stored:
        raw = text.encode()
        for candidate in (raw[:32], raw[-32:], bytes.fromhex(text)[:32] if _is_hex(text) else b""):
            if len(candidate) != 32:
                continue
            with pytest.raises(SessionKeyUnavailable):
                await crypto.session_private_key(session_id, candidate)
    with pytest.raises(SessionKeyUnavailable):
        await crypto.session_private_key(session_id, secrets.token_bytes(32))
    assert cookie not in stored
    # The cookie's secret opens it, for this session only.
    secret = crypto.decode_session_secret(cookie)
    await crypto.session_private_key(session_id, secret)
    with pytest.raises(SessionKeyUnavailable):
        await crypto.session_private_key(session_id + 1, secret)


def _is_hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return len(text) >= 64


async def test_other_roles_get_no_key_and_a_cleared_key_cookie(client: Client) -> None:
    for role in ("admin", "inspector", "county_staff", "township_staff"):
        account = await make_account(role)
        response = await log_in(client, account)
        assert response.status_code == 200
        key_cookie = next(
            c
            for c in response.headers.get_list("set-cookie")
            if c.startswith(f"{sessions.KEY_COOKIE_NAME}=")
        )
        assert "max-age=0" in key_cookie.lower()
    assert await SessionKey.count() == 0
    assert await OfficerKey.count() == 0


async def test_page_login_sets_the_key_cookie_too(client: Client) -> None:
    officer = await make_account("officer")
    from tests.conftest import next_totp_code

    form = await csrf_form(
        client,
        "/login",
        username=officer["username"],
        password=officer["password"],
        totp=await next_totp_code(officer),
        next="/",
    )
    response = await client.post("/login", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert client.cookies.get(sessions.KEY_COOKIE_NAME)
    await _private_key_of(client, officer["id"])


async def test_logout_forgets_the_session_key_and_clears_the_cookie(client: Client) -> None:
    await sign_in(client, "officer")
    assert await SessionKey.count() == 1
    response = await client.post("/api/v1/auth/logout")
    assert response.status_code == 204
    assert await SessionKey.count() == 0
    cleared = [
        c
        for c in response.headers.get_list("set-cookie")
        if c.startswith(f"{sessions.KEY_COOKIE_NAME}=")
    ]
    assert cleared and "max-age=0" in cleared[0].lower()
    assert not client.cookies.get(sessions.KEY_COOKIE_NAME)


async def test_logout_page_forgets_the_session_key(client: Client) -> None:
    await sign_in(client, "officer")
    form = await csrf_form(client, "/account")
    response = await client.post("/logout", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert await SessionKey.count() == 0
    assert not client.cookies.get(sessions.KEY_COOKIE_NAME)


async def test_an_idle_session_loses_its_key_when_it_comes_back(
    client: Client, settings: Settings
) -> None:
    await sign_in(client, "officer")
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=settings.session_idle_minutes + 1)
    await AccountSession.update({AccountSession.last_seen_at: long_ago}).where(
        AccountSession.id > 0
    )
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    assert await SessionKey.count() == 0


async def test_password_change_keeps_the_key_pair(client: Client, app: Litestar) -> None:
    officer = await sign_in(client, "officer")
    before = await _officer_key(officer["id"])
    other = await extra_client(app)
    assert (await log_in(other, officer)).status_code == 200
    assert await SessionKey.count() == 2

    form = await csrf_form(
        client,
        "/account",
        current_password=officer["password"],
        new_password=NEW_PASSWORD,
        confirm_password=NEW_PASSWORD,
    )
    response = await client.post("/account/password", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text

    after = await _officer_key(officer["id"])
    assert after["public_key"] == before["public_key"]
    assert after["wrapped_private_key"] != before["wrapped_private_key"]
    # The new password opens the same key; the old one no longer does.
    key = await crypto.unwrap_officer_key(officer["id"], NEW_PASSWORD)
    assert primitives.public_bytes(key).hex() == before["public_key"]
    # This session keeps its unlocked key; the other session's key is gone with it.
    assert await SessionKey.count() == 1
    await _private_key_of(client, officer["id"])
    assert len(await _actions("officer_key.rewrapped")) == 1


async def test_admin_reset_replaces_the_key(client: Client, app: Litestar) -> None:
    officer = await make_account("officer")
    before = await _officer_key(officer["id"])
    officer_client = await extra_client(app)
    assert (await log_in(officer_client, officer)).status_code == 200
    assert await SessionKey.count() == 1

    admin = await sign_in(client, "admin")
    form = await csrf_form(
        client,
        f"/admin/accounts/{officer['id']}",
        new_password=NEW_PASSWORD,
        confirm_password=NEW_PASSWORD,
    )
    response = await client.post(
        f"/admin/accounts/{officer['id']}/reset-password", data=form, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    assert (await officer_client.get("/api/v1/auth/me")).status_code == 401

    after = await _officer_key(officer["id"])
    assert after["public_key"] != before["public_key"]
    assert await SessionKey.count() == 0
    key = await crypto.unwrap_officer_key(officer["id"], NEW_PASSWORD)
    assert primitives.public_bytes(key).hex() == after["public_key"]
    (event,) = await _actions("officer_key.replaced")
    assert event["actor_id"] == str(admin["id"])


async def test_first_login_makes_a_missing_key(client: Client) -> None:
    officer = await make_account("officer")
    await OfficerKey.delete().where(OfficerKey.account_id == officer["id"])
    assert (await log_in(client, officer)).status_code == 200
    row = await _officer_key(officer["id"])
    key = await _private_key_of(client, officer["id"])
    assert primitives.public_bytes(key).hex() == row["public_key"]


async def test_the_sweep_job_deletes_keys_of_sessions_that_are_over(
    client: Client, app: Litestar, settings: Settings
) -> None:
    assert "session-sweep" in [job.id for job in scheduler.JOBS]
    officer = await sign_in(client, "officer")
    other = await extra_client(app)
    assert (await log_in(other, officer)).status_code == 200
    assert await SessionKey.count() == 2
    first, second = sorted(row["session_id"] for row in await SessionKey.select())
    # One session reached its absolute lifetime (its key too), the other is live.
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=settings.session_max_hours, minutes=1)
    await AccountSession.update({AccountSession.created_at: old}).where(AccountSession.id == first)
    await SessionKey.update({SessionKey.created_at: old}).where(SessionKey.session_id == first)
    # A key whose session row is already ended (e.g. a crash between the two).
    await SessionKey.insert(
        SessionKey(session_id=999_999, account_id=officer["id"], wrapped_private_key="x")
    )

    assert await scheduler.run_job("session-sweep") == "ok"
    remaining = [row["session_id"] for row in await SessionKey.select()]
    assert remaining == [second]
    ended = await AccountSession.select().where(AccountSession.id == first).first()
    assert ended is not None and ended["end_reason"] == "expired"
    assert await scheduler.run_job("session-sweep") == "ok"
    assert [row["session_id"] for row in await SessionKey.select()] == [second]
