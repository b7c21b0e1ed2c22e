"""Signing in and out, sessions, throttling, TOTP enrolment and the admin pages, over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import json
import re
import time
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.client import TestClient
from tests.conftest import (
    TEST_PASSWORD,
    csrf_form,
    ensure_test_org_units,
    extra_client,
    log_in,
    make_account,
    next_totp_code,
    sign_in,
)
from tipline.accounts import totp
from tipline.accounts.sessions import COOKIE_NAME
from tipline.accounts.tables import Account, AccountSession
from tipline.ledger.services import recent_events
from tipline.settings import Settings

Client = AsyncTestClient[Litestar]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _avoid_step_boundary() -> None:
    """Wait if a 30-second TOTP step is about to end, so a computed code keeps its step."""
    into_step = time.time() % totp.STEP_SECONDS
    if into_step > totp.STEP_SECONDS - 3:
        await asyncio.sleep(totp.STEP_SECONDS - into_step + 0.2)


async def _events(action: str) -> list[dict[str, Any]]:
    return [event for event in await recent_events(500) if event["action"] == action]


# --- login, logout, cookie ------------------------------------------------------------


async def test_login_sets_a_strict_http_only_cookie_and_me_answers(client: Client) -> None:
    account = await make_account("county_staff")
    response = await log_in(client, account)
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == account["username"] and body["role"] == "county_staff"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and "Path=/" in cookie
    token = client.cookies.get(COOKIE_NAME)
    assert token and len(token) >= 43
    stored = await AccountSession.select(AccountSession.token_hash).first()
    assert stored is not None and stored["token_hash"] != token and len(stored["token_hash"]) == 64

    me = await client.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["id"] == account["id"]


async def test_secure_cookie_when_the_setting_asks(settings: Settings, tmp_path: Any) -> None:
    import dataclasses

    from tipline.app import create_app

    app = create_app(dataclasses.replace(settings, secure_cookies=True))
    async with TestClient(app, base_url="https://testserver.local") as secure_client:
        account = await make_account("county_staff")
        response = await log_in(secure_client, account)
        assert response.status_code == 200
        assert "Secure" in response.headers["set-cookie"]


async def test_logout_ends_the_session_and_both_are_in_the_ledger(client: Client) -> None:
    account = await sign_in(client, "officer")
    assert (await client.post("/api/v1/auth/logout")).status_code == 204
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    session = await AccountSession.select().first()
    assert session is not None and session["end_reason"] == "logout"

    login = await _events("account.login")
    logout = await _events("account.logout")
    assert len(login) == 1 and len(logout) == 1
    assert login[0]["actor_type"] == "account" and login[0]["actor_id"] == str(account["id"])
    assert logout[0]["object_id"] == str(account["id"])


async def test_failed_logins_are_recorded_without_password_or_unknown_username(
    client: Client,
) -> None:
    account = await make_account("county_staff")
    bad = {"username": account["username"], "password": "not-the-password-123"}
    assert (await client.post("/api/v1/auth/login", json=bad)).status_code == 401
    unknown = {"username": "ghost.user", "password": "ghost-password-456"}
    response = await client.post("/api/v1/auth/login", json=unknown)
    assert response.status_code == 401
    assert response.json()["error"] == "accounts.error.login_failed"

    failed = await _events("account.login_failed")
    assert len(failed) == 2
    known = next(event for event in failed if event["object_id"] == str(account["id"]))
    assert json.loads(known["payload"])["account_id"] == account["id"]
    assert known["actor_type"] == "system"
    other = next(event for event in failed if event is not known)
    assert json.loads(other["payload"]) == {}
    text = json.dumps(failed, default=str)
    for secret in ("not-the-password-123", "ghost-password-456", "ghost.user"):
        assert secret not in text


async def test_unknown_fields_and_bad_bodies_get_a_400(client: Client) -> None:
    response = await client.post(
        "/api/v1/auth/login", json={"username": "a", "password": "b", "remember": True}
    )
    assert response.status_code == 400
    response = await client.post("/api/v1/auth/login", content=b"{not json")
    assert response.status_code == 400


# --- throttling ------------------------------------------------------------------------


async def test_three_failures_throttle_until_the_time_passes(client: Client) -> None:
    account = await make_account("county_staff")
    wrong = {"username": account["username"], "password": "wrong password 1234"}
    for _ in range(3):
        assert (await client.post("/api/v1/auth/login", json=wrong)).status_code == 401

    right = {"username": account["username"], "password": TEST_PASSWORD}
    response = await client.post("/api/v1/auth/login", json=right)
    assert response.status_code == 429
    assert response.json()["error"] == "accounts.error.throttled"
    assert re.search(r"\d+", response.json()["detail"])

    # Time passes: the wait is over, the right password works and resets the count.
    await Account.update({Account.throttled_until: _now() - dt.timedelta(seconds=1)}).where(
        Account.id == account["id"]
    )
    assert (await client.post("/api/v1/auth/login", json=right)).status_code == 200
    row = await Account.select(Account.failed_logins, Account.throttled_until).first()
    assert row == {"failed_logins": 0, "throttled_until": None}
    assert (await client.post("/api/v1/auth/login", json=wrong)).status_code == 401
    assert (await client.post("/api/v1/auth/login", json=right)).status_code == 200


async def test_throttle_grows_but_never_locks_for_good(client: Client) -> None:
    account = await make_account("county_staff")
    await Account.update({Account.failed_logins: 60}).where(Account.id == account["id"])
    wrong = {"username": account["username"], "password": "wrong password 1234"}
    assert (await client.post("/api/v1/auth/login", json=wrong)).status_code == 401
    row = await Account.select(Account.throttled_until).first()
    assert row is not None
    until = row["throttled_until"]
    until = until if until.tzinfo else until.replace(tzinfo=dt.UTC)
    assert dt.timedelta(minutes=14) < until - _now() <= dt.timedelta(minutes=15)


async def test_login_page_shows_the_throttle_message_with_429(client: Client) -> None:
    account = await make_account("county_staff")
    await Account.update(
        {Account.failed_logins: 3, Account.throttled_until: _now() + dt.timedelta(seconds=90)}
    ).where(Account.id == account["id"])
    form = await csrf_form(
        client, "/login", username=account["username"], password=TEST_PASSWORD, totp=""
    )
    response = await client.post("/login", data=form)
    assert response.status_code == 429
    assert "90" in response.text or "89" in response.text
    assert 'name="username"' in response.text


# --- sessions: expiry and revocation ----------------------------------------------------


async def test_idle_session_expires(client: Client, settings: Settings) -> None:
    await sign_in(client, "county_staff")
    idle = dt.timedelta(minutes=settings.session_idle_minutes + 1)
    await AccountSession.update({AccountSession.last_seen_at: _now() - idle}).where(
        AccountSession.ended_at.is_null()
    )
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    page = await client.get("/account", follow_redirects=False)
    assert page.status_code == 302 and page.headers["location"] == "/login?next=/account"
    row = await AccountSession.select(AccountSession.end_reason).first()
    assert row == {"end_reason": "idle"}


async def test_session_ends_after_its_absolute_lifetime(client: Client, settings: Settings) -> None:
    await sign_in(client, "county_staff")
    old = _now() - dt.timedelta(hours=settings.session_max_hours, minutes=1)
    await AccountSession.update({AccountSession.created_at: old}).where(
        AccountSession.ended_at.is_null()
    )
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    row = await AccountSession.select(AccountSession.end_reason).first()
    assert row == {"end_reason": "expired"}


async def test_last_seen_is_written_at_most_once_a_minute(client: Client) -> None:
    await sign_in(client, "county_staff")
    before = _now() - dt.timedelta(minutes=2)
    await AccountSession.update({AccountSession.last_seen_at: before}).where(
        AccountSession.ended_at.is_null()
    )
    assert (await client.get("/api/v1/auth/me")).status_code == 200
    first = await AccountSession.select(AccountSession.last_seen_at).first()
    assert first is not None
    seen = first["last_seen_at"]
    seen = seen if seen.tzinfo else seen.replace(tzinfo=dt.UTC)
    assert seen > before + dt.timedelta(minutes=1)
    assert (await client.get("/api/v1/auth/me")).status_code == 200
    second = await AccountSession.select(AccountSession.last_seen_at).first()
    assert second == first


async def test_disabling_an_account_signs_it_out_at_once(client: Client, app: Litestar) -> None:
    await sign_in(client, "admin")
    user_client = await extra_client(app)
    user = await sign_in(user_client, "township_staff")
    assert (await user_client.get("/api/v1/auth/me")).status_code == 200

    form = await csrf_form(client, f"/admin/accounts/{user['id']}")
    response = await client.post(
        f"/admin/accounts/{user['id']}/disable", data=form, follow_redirects=False
    )
    assert response.status_code == 303
    assert (await user_client.get("/api/v1/auth/me")).status_code == 401
    assert (await log_in(user_client, user)).status_code == 401
    assert len(await _events("account.disabled")) == 1

    form = await csrf_form(client, f"/admin/accounts/{user['id']}")
    await client.post(f"/admin/accounts/{user['id']}/enable", data=form)
    assert (await log_in(user_client, user)).status_code == 200


async def test_password_reset_ends_every_session(client: Client, app: Litestar) -> None:
    await sign_in(client, "admin")
    user_client = await extra_client(app)
    user = await sign_in(user_client, "county_staff")
    new_password = "A brand new passphrase 2026"
    form = await csrf_form(
        client,
        f"/admin/accounts/{user['id']}",
        new_password=new_password,
        confirm_password=new_password,
    )
    response = await client.post(
        f"/admin/accounts/{user['id']}/reset-password", data=form, follow_redirects=False
    )
    assert response.status_code == 303
    assert (await user_client.get("/api/v1/auth/me")).status_code == 401
    assert (await log_in(user_client, user)).status_code == 401
    assert (await log_in(user_client, {**user, "password": new_password})).status_code == 200
    assert len(await _events("account.password_reset")) == 1


async def test_reset_password_form_refuses_a_weak_password_on_the_page(client: Client) -> None:
    await sign_in(client, "admin")
    user = await make_account("county_staff")
    form = await csrf_form(
        client,
        f"/admin/accounts/{user['id']}",
        new_password="short",
        confirm_password="short",
    )
    response = await client.post(
        f"/admin/accounts/{user['id']}/reset-password", data=form, follow_redirects=False
    )
    assert response.status_code == 400
    assert "12" in response.text and 'name="new_password"' in response.text


async def test_changing_own_password_keeps_this_session_and_ends_the_others(
    client: Client, app: Litestar
) -> None:
    account = await sign_in(client, "county_staff")
    other = await extra_client(app)
    assert (await log_in(other, account)).status_code == 200
    new_password = "Another long sentence here 42"
    form = await csrf_form(
        client,
        "/account",
        current_password=TEST_PASSWORD,
        new_password=new_password,
        confirm_password=new_password,
    )
    response = await client.post("/account/password", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert (await client.get("/api/v1/auth/me")).status_code == 200
    assert (await other.get("/api/v1/auth/me")).status_code == 401
    assert len(await _events("account.password_changed")) == 1

    form = await csrf_form(
        client,
        "/account",
        current_password="wrong current password",
        new_password="Yet another fine sentence 9",
        confirm_password="Yet another fine sentence 9",
    )
    response = await client.post("/account/password", data=form, follow_redirects=False)
    assert response.status_code == 400
    assert 'name="current_password"' in response.text


# --- TOTP at login and enrolment ---------------------------------------------------------


async def test_totp_window_at_login(client: Client) -> None:
    results = {}
    for offset in (-2, -1, 1, 2):
        account = await make_account("officer")
        await _avoid_step_boundary()
        step = totp.current_step()
        body = {
            "username": account["username"],
            "password": TEST_PASSWORD,
            "totp": totp.code_at_step(account["totp_secret"], step + offset),
        }
        results[offset] = (await client.post("/api/v1/auth/login", json=body)).status_code
    assert results == {-2: 401, -1: 200, 1: 200, 2: 401}


async def test_a_totp_code_cannot_be_used_twice(client: Client) -> None:
    await _avoid_step_boundary()
    account = await make_account("inspector")
    code = await next_totp_code(account)
    body = {"username": account["username"], "password": TEST_PASSWORD, "totp": code}
    assert (await client.post("/api/v1/auth/login", json=body)).status_code == 200
    assert (await client.post("/api/v1/auth/logout")).status_code == 204
    assert (await client.post("/api/v1/auth/login", json=body)).status_code == 401
    missing = {"username": account["username"], "password": TEST_PASSWORD}
    assert (await client.post("/api/v1/auth/login", json=missing)).status_code == 401


async def test_totp_role_without_enrolment_is_limited_to_enrolment(client: Client) -> None:
    await _avoid_step_boundary()
    account = await make_account("admin", enrol_totp=False)
    response = await log_in(client, account)
    assert response.status_code == 200
    assert response.json()["totp_enrolled"] is False and response.json()["totp_required"] is True

    limited = await client.get("/admin/accounts", follow_redirects=False)
    assert limited.status_code == 302 and limited.headers["location"] == "/account/totp"
    assert (await client.get("/api/v1/auth/me")).status_code == 200

    page = await client.get("/account/totp")
    assert page.status_code == 200 and "<svg" in page.text
    match = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', page.text)
    assert match
    secret = match.group(1).replace(" ", "")
    again = await client.get("/account/totp")
    assert secret.replace(" ", "") in again.text.replace(" ", "")

    form = {"code": "000000", "_csrf_token": client.cookies.get("csrftoken")}
    wrong = await client.post("/account/totp", data=form)
    assert wrong.status_code == 400 and "<svg" in wrong.text

    form["code"] = totp.code_at_step(secret, totp.current_step())
    done = await client.post("/account/totp", data=form, follow_redirects=False)
    assert done.status_code == 303
    assert (await client.get("/admin/accounts")).status_code == 200
    assert len(await _events("account.totp_enrolled")) == 1
    row = await Account.select(Account.totp_secret).where(Account.id == account["id"]).first()
    assert row == {"totp_secret": secret}
    pending = await AccountSession.select(AccountSession.totp_pending_secret)
    assert all(item["totp_pending_secret"] is None for item in pending)

    # From now on the password alone is not enough.
    await client.post("/api/v1/auth/logout")
    assert (await log_in(client, account)).status_code == 401
    enrolled = {**account, "totp_secret": secret}
    assert (await log_in(client, enrolled)).status_code == 200


# --- pages -------------------------------------------------------------------------------


async def test_login_page_signs_in_and_refuses_foreign_next(client: Client) -> None:
    account = await make_account("county_staff")
    form = await csrf_form(
        client,
        "/login",
        username=account["username"],
        password=TEST_PASSWORD,
        totp="",
        next="//evil.example/steal",
    )
    response = await client.post("/login", data=form, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert client.cookies.get(COOKIE_NAME)


async def test_login_page_keeps_a_local_next(client: Client) -> None:
    account = await make_account("county_staff")
    form = await csrf_form(
        client, "/login", username=account["username"], password=TEST_PASSWORD, next="/account"
    )
    response = await client.post("/login", data=form, follow_redirects=False)
    assert response.headers["location"] == "/account"


async def test_wrong_password_on_the_page_re_renders_the_form(client: Client) -> None:
    account = await make_account("county_staff")
    form = await csrf_form(
        client, "/login", username=account["username"], password="wrong wrong wrong"
    )
    response = await client.post("/login", data=form)
    assert response.status_code == 401
    assert "用户名、密码或验证码错误" in response.text
    assert f'value="{account["username"]}"' in response.text


async def test_form_post_without_csrf_token_is_refused(client: Client) -> None:
    account = await make_account("county_staff")
    await client.get("/login")
    response = await client.post(
        "/login", data={"username": account["username"], "password": TEST_PASSWORD}
    )
    assert response.status_code == 403
    assert not client.cookies.get(COOKIE_NAME)


async def test_logout_page_ends_the_session(client: Client) -> None:
    await sign_in(client, "county_staff")
    form = await csrf_form(client, "/account")
    response = await client.post("/logout", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_admin_creates_an_account_through_the_page(client: Client) -> None:
    await sign_in(client, "admin")
    units = await ensure_test_org_units()
    page = await client.get("/admin/accounts")
    assert page.status_code == 200 and f'value="{units["township"]}"' in page.text
    form = await csrf_form(
        client,
        "/admin/accounts",
        username="zhang.wei",
        display_name="张伟",
        role="township_staff",
        org_unit_id=str(units["township"]),
        password=TEST_PASSWORD,
        confirm_password=TEST_PASSWORD,
    )
    response = await client.post("/admin/accounts", data=form)
    assert response.status_code == 200
    assert "zhang.wei" in response.text and "张伟" in response.text
    created = await _events("account.created")
    assert any(json.loads(event["payload"])["role"] == "township_staff" for event in created)

    other = {"username": "zhang.wei", "password": TEST_PASSWORD}
    assert (await client.post("/api/v1/auth/login", json=other)).status_code == 200


async def test_admin_create_errors_re_render_the_form_with_the_input(client: Client) -> None:
    await sign_in(client, "admin")
    units = await ensure_test_org_units()
    form = await csrf_form(
        client,
        "/admin/accounts",
        username="li.na",
        display_name="李娜",
        role="township_staff",
        org_unit_id=str(units["county"]),
        password=TEST_PASSWORD,
        confirm_password=TEST_PASSWORD,
    )
    response = await client.post("/admin/accounts", data=form)
    assert response.status_code == 400
    assert "乡镇工作人员必须属于一个乡镇或场" in response.text
    assert 'value="li.na"' in response.text
    assert TEST_PASSWORD not in html.unescape(response.text)

    form.update(password="password1234", confirm_password="password1234", role="county_staff")
    response = await client.post("/admin/accounts", data=form)
    assert response.status_code == 400 and "太常见" in response.text

    form.update(role="emperor")
    response = await client.post("/admin/accounts", data=form)
    assert response.status_code == 400


async def test_admin_cannot_disable_itself(client: Client) -> None:
    admin = await sign_in(client, "admin")
    form = await csrf_form(client, f"/admin/accounts/{admin['id']}")
    response = await client.post(f"/admin/accounts/{admin['id']}/disable", data=form)
    assert response.status_code == 403
    assert (await client.get("/api/v1/auth/me")).status_code == 200


async def test_township_staff_is_refused_on_admin_pages(township_staff_client: Client) -> None:
    assert (await township_staff_client.get("/admin/accounts")).status_code == 403
    assert (await township_staff_client.get("/account")).status_code == 200


async def test_anonymous_is_sent_to_the_login_page(client: Client) -> None:
    response = await client.get("/admin/accounts", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == "/login?next=/admin/accounts"
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_admin_pages_are_not_cached(admin_client: Client) -> None:
    response = await admin_client.get("/admin/accounts")
    assert response.headers["cache-control"] == "no-store"
