"""The web base as a browser and an API client meet it: headers, static files, errors, health."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar, get, post
from litestar.testing import AsyncTestClient

from tests.client import TestClient
from tipline.app import create_app
from tipline.auth import PUBLIC
from tipline.settings import Settings
from tipline.web.templating import Locale

BASE = "http://testserver.local"


def _csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def _assert_security_headers(headers: Any) -> None:
    csp = headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    directives = _csp_directives(csp)
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["default-src"] == ["'self'"]
    for name in ("script-src", "style-src"):
        assert directives[name] == ["'self'"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("path", ["/", "/health", "/no-such-page", "/api/v1/no-such-thing"])
async def test_security_headers_on_every_answer(
    client: AsyncTestClient[Litestar], path: str
) -> None:
    response = await client.get(path)
    _assert_security_headers(response.headers)
    assert response.headers["cache-control"] == "no-store"
    # Test settings serve plain HTTP: HSTS there would lock a browser out of the test host.
    assert "strict-transport-security" not in response.headers


async def test_hsts_only_when_cookies_are_secure(settings: Settings) -> None:
    secure = create_app(
        Settings(data_dir=settings.data_dir, database_url=settings.database_url, scheduler=False)
    )
    async with TestClient(secure, base_url="https://testserver.local") as client:
        for path in ("/", "/health"):
            response = await client.get(path)
            hsts = response.headers["strict-transport-security"]
            assert re.search(r"max-age=(\d+)", hsts)
            assert int(re.search(r"max-age=(\d+)", hsts)[1]) >= 180 * 24 * 3600  # type: ignore[index]
            _assert_security_headers(response.headers)


async def test_static_files_are_ours_and_cacheable(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/static/tipline.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert response.headers.get("cache-control") != "no-store"
    _assert_security_headers(response.headers)
    assert "url(http" not in response.text and "@import" not in response.text
    missing = await client.get("/static/nothing-here.css")
    assert missing.status_code == 404


async def test_static_files_cannot_escape_their_folder(client: AsyncTestClient[Litestar]) -> None:
    # httpx resolves the literal "../" itself (GET /settings.py); the encoded ones reach
    # the static router, which must not find anything outside its folder.
    for path in ("/static/../settings.py", "/static/%2e%2e/settings.py", "/static/..%2fapp.py"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "SettingsError" not in response.text and "import" not in response.text


EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["']\s*(?:https?:)?//""", re.IGNORECASE)


@pytest.mark.parametrize("path", ["/", "/no-such-page"])
async def test_pages_load_nothing_from_another_host(
    client: AsyncTestClient[Litestar], path: str
) -> None:
    html = (await client.get(path)).text
    assert "<html" in html
    assert not EXTERNAL.findall(html)
    assert "<script>" not in html and " style=" not in html


async def test_home_page_is_in_chinese_by_default_and_english_on_request(
    client: AsyncTestClient[Litestar],
) -> None:
    home = await client.get("/")
    assert home.status_code == 200
    assert '<html lang="zh-CN">' in home.text
    assert "扫黑除恶举报与村务监督平台" in home.text

    switch = await client.get("/lang/en", follow_redirects=False)
    assert switch.status_code == 302
    assert switch.headers["location"] == "/"
    cookie = switch.headers["set-cookie"]
    assert "lang=en" in cookie and "HttpOnly" in cookie and "samesite=strict" in cookie.lower()

    english = await client.get("/")
    assert '<html lang="en">' in english.text
    assert "Anti-gang Tipline and Village Affairs" in english.text
    assert "扫黑除恶" not in english.text

    await client.get("/lang/zh-CN")
    assert "扫黑除恶举报与村务监督平台" in (await client.get("/")).text


@pytest.mark.parametrize(
    ("next_path", "location"),
    [
        ("/login", "/login"),
        ("/admin/accounts", "/admin/accounts"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
    ],
)
async def test_the_language_switch_returns_only_to_a_page_of_ours(
    client: AsyncTestClient[Litestar], next_path: str, location: str
) -> None:
    response = await client.get("/lang/en", params={"next": next_path}, follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == location


async def test_language_links_name_the_current_page(client: AsyncTestClient[Litestar]) -> None:
    html = (await client.get("/no-such-page")).text
    assert 'href="/lang/en?next=/no-such-page"' in html
    assert 'href="/lang/zh-CN?next=/no-such-page"' in html


async def test_an_unknown_language_changes_nothing(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/lang/fr", follow_redirects=False)
    assert response.status_code == 302 and response.headers["location"] == "/"
    assert "set-cookie" not in response.headers or "lang=" not in response.headers["set-cookie"]
    client.cookies.set("lang", "fr")
    assert '<html lang="zh-CN">' in (await client.get("/")).text


async def test_health_reports_the_database(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_openapi_lists_health_and_the_api(
    app: Litestar, client: AsyncTestClient[Litestar]
) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    paths = set(document["paths"])
    assert "/health" in paths
    api_routes = {
        route.path_format
        for route in app.routes
        if route.path.startswith("/api/v1/")
        and any(handler.include_in_schema for handler in getattr(route, "route_handlers", []))
    }
    assert {"/api/v1/auth/login", "/api/v1/auth/logout"} <= api_routes
    assert api_routes <= paths, f"missing from the schema: {sorted(api_routes - paths)}"
    assert not any(path.startswith(("/static", "/lang")) for path in paths)


# ---- error pages -------------------------------------------------------------


async def test_not_found_page_is_html_in_chinese_then_english(
    client: AsyncTestClient[Litestar],
) -> None:
    response = await client.get("/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "找不到该页面或记录" in response.text
    assert '<html lang="zh-CN">' in response.text

    await client.get("/lang/en")
    response = await client.get("/no-such-page")
    assert response.status_code == 404
    assert "This page or record does not exist." in response.text
    assert "找不到" not in response.text


async def test_not_found_under_api_is_json(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status_code"] == 404
    assert body["error"] == "error.not_found"
    assert body["detail"] == "找不到该页面或记录。"


async def test_wrong_method_is_a_405_page(client: AsyncTestClient[Litestar]) -> None:
    response = await client.delete("/health")
    assert response.status_code == 405
    assert response.json()["error"] == "error.method_not_allowed"


def _add_test_routes(app: Litestar) -> None:
    @get("/boom", opt=PUBLIC, name="test-boom")
    async def boom() -> str:
        raise RuntimeError("secret-detail")

    @get("/api/v1/boom", opt=PUBLIC, name="test-api-boom")
    async def api_boom() -> str:
        raise RuntimeError("secret-detail")

    @post("/test-form", opt=PUBLIC, name="test-form", status_code=200)
    async def form() -> str:
        return "accepted"

    @get("/test-locale", opt=PUBLIC, name="test-locale")
    async def which_locale(locale: Locale) -> str:
        return locale

    for handler in (boom, api_boom, form, which_locale):
        app.register(handler)


@pytest.fixture
async def test_client(own_app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    _add_test_routes(own_app)
    async with TestClient(own_app, base_url=BASE) as client:
        yield client


async def test_a_crash_shows_no_traceback_or_exception_text(
    test_client: AsyncTestClient[Litestar], caplog: pytest.LogCaptureFixture
) -> None:
    response = await test_client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "服务器内部错误" in response.text
    for leaked in ("secret-detail", "Traceback", "RuntimeError", 'File "', "site-packages"):
        assert leaked not in response.text
    _assert_security_headers(response.headers)
    # The operator still finds it in the server log.
    assert "secret-detail" in caplog.text

    api = await test_client.get("/api/v1/boom")
    assert api.status_code == 500
    assert api.json()["error"] == "error.internal"
    assert "secret-detail" not in api.text and "Traceback" not in api.text

    await test_client.get("/lang/en")
    english = await test_client.get("/boom")
    assert english.status_code == 500
    assert "Internal server error" in english.text
    assert "secret-detail" not in english.text


async def test_a_form_post_without_csrf_token_is_refused_readably(
    test_client: AsyncTestClient[Litestar],
) -> None:
    response = await test_client.post("/test-form", data={"name": "x"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "表单已过期，请刷新页面后重试。" in response.text
    assert "CSRF token verification failed" not in response.text


async def test_a_form_post_with_the_csrf_token_passes(
    test_client: AsyncTestClient[Litestar],
) -> None:
    await test_client.get("/")  # sets the CSRF cookie, as any page a form sits on does
    token = test_client.cookies.get("csrftoken")
    assert token
    response = await test_client.post("/test-form", data={"_csrf_token": token})
    assert response.status_code == 200
    assert response.text == "accepted"
    # One character changed, whatever it was (ending in "00" already, the old forgery
    # was the real token once in 256 runs).
    forged_token = token[:-1] + ("0" if token[-1] != "0" else "1")
    forged = await test_client.post("/test-form", data={"_csrf_token": forged_token})
    assert forged.status_code == 403


async def test_csrf_cookie_is_httponly_and_samesite(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("csrftoken=")
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()


async def test_templates_use_no_inline_script_style_or_foreign_host() -> None:
    """CSP forbids inline code: a template that used it would break silently in browsers."""
    from tipline.web.i18n import PACKAGE_ROOTS

    problems = []
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
    handler_attr = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
    for root in PACKAGE_ROOTS:
        for path in sorted(Path(root).glob("**/templates/**/*.html")):
            text = path.read_text("utf-8")
            for label, pattern in (
                ("inline <script>", inline_script),
                ("inline style attribute", re.compile(r"\sstyle\s*=", re.IGNORECASE)),
                ("<style> element", re.compile(r"<style[\s>]", re.IGNORECASE)),
                ("inline event handler", handler_attr),
                ("another host", EXTERNAL),
            ):
                if pattern.search(text):
                    problems.append(f"{path}: {label}")
    assert not problems, "\n".join(problems)


async def test_sign_out_without_csrf_token_is_refused_readably(
    client: AsyncTestClient[Litestar],
) -> None:
    response = await client.post("/logout", data={})
    assert response.status_code == 403
    assert "表单已过期，请刷新页面后重试。" in response.text


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('{"username": "a", "password": "b", "totp": "", "extra": 1}', "error.validation"),
        ('{"username": 1, "password": "b", "totp": ""}', "error.validation"),
        ("[]", "error.validation"),
        ("{not json", "error.bad_request"),
        ("", "error.validation"),
    ],
)
async def test_bad_api_bodies_get_a_400_with_a_message_key(
    client: AsyncTestClient[Litestar], body: str, key: str
) -> None:
    response = await client.post(
        "/api/v1/auth/login", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["error"] == key
    assert answer["detail"]
    assert "Traceback" not in response.text


async def test_an_oversized_body_is_refused_with_413(client: AsyncTestClient[Litestar]) -> None:
    from tipline.app import MAX_BODY_BYTES

    response = await client.post(
        "/api/v1/auth/login",
        content=b"x" * (MAX_BODY_BYTES + 1),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"] == "error.too_large"


async def test_handlers_receive_the_locale_without_deprecation(
    test_client: AsyncTestClient[Litestar], recwarn: pytest.WarningsRecorder
) -> None:
    assert (await test_client.get("/test-locale")).text == "zh-CN"
    await test_client.get("/lang/en")
    assert (await test_client.get("/test-locale")).text == "en"
    assert not [w for w in recwarn if "test-locale" in str(w.message)]


def test_every_post_form_in_a_template_carries_the_csrf_token() -> None:
    from tipline.web.i18n import PACKAGE_ROOTS

    form = re.compile(r"<form\b(?P<attrs>[^>]*)>(?P<body>.*?)</form>", re.IGNORECASE | re.DOTALL)
    missing = []
    checked = 0
    for root in PACKAGE_ROOTS:
        for path in sorted(Path(root).glob("**/templates/**/*.html")):
            for match in form.finditer(path.read_text("utf-8")):
                if not re.search(r"method\s*=\s*[\"']?post", match["attrs"], re.IGNORECASE):
                    continue
                checked += 1
                # Anonymous tip box forms have no session to forge; they say why instead.
                exempt = "{# csrf-exempt:" in match["body"]
                if "{{ csrf_input | safe }}" not in match["body"] and not exempt:
                    missing.append(f"{path}: <form{match['attrs']}>")
    assert checked, "no POST form found: the scan is broken"
    assert not missing, "POST forms without {{ csrf_input | safe }}:\n" + "\n".join(missing)
