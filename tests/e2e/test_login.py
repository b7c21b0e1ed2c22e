"""Signing in through a real browser: password, TOTP enrolment, then password + TOTP."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from playwright.sync_api import Page

from tests.e2e.conftest import LiveServer
from tipline.web.i18n import catalogues

COUNTY_CODE = "E2E-COUNTY"
COUNTY_CSV = f"""code,name,kind,parent_code
{COUNTY_CODE},测试县,county,
E2E-T01,城关镇,township,{COUNTY_CODE}
"""


@dataclass(frozen=True)
class Person:
    username: str
    password: str
    name: str


ADMIN = Person("admin1", "Zq7-lantern-river-42", "王建国")
STAFF = Person("staff1", "Mx4-orchard-kettle-19", "李秀英")
WALKER = Person("admin2", "Pv8-harbour-cedar-63", "赵明")


def set_up_county(
    live_server: LiveServer,
    folder: Path,
    people: Iterable[tuple[Person, str]],
    *,
    escrow: bool = True,
) -> Path:
    """Import the county (importing it again changes nothing), add ``people`` with their
    roles, and with ``escrow``, unless another module of this server made it already,
    the escrow key, its private half written to ``folder/escrow-key.pem`` (returned)."""
    csv = folder / "county.csv"
    csv.write_text(COUNTY_CSV, encoding="utf-8")
    live_server.cli("orgunits", "import", str(csv))
    for person, role in people:
        live_server.cli(
            "account",
            "add",
            person.username,
            "--role",
            role,
            "--org-unit",
            COUNTY_CODE,
            "--name",
            person.name,
            input=person.password + "\n",
        )
    escrow_file = folder / "escrow-key.pem"
    if escrow and "escrow key: none" in live_server.cli("keys", "status").stdout:
        live_server.cli("keys", "escrow-init", "--out", str(escrow_file))
    return escrow_file


@pytest.fixture(scope="package")
def county(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The live server's county, an administrator and a county staff member, via the CLI."""
    people = ((ADMIN, "admin"), (STAFF, "county_staff"), (WALKER, "admin"))
    set_up_county(live_server, tmp_path_factory.mktemp("orgunits"), people, escrow=False)
    return COUNTY_CODE


def totp_code(secret: str, at: float) -> str:
    """What an authenticator app shows for ``secret`` at time ``at`` (RFC 6238 defaults)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    return TOTP(key, 6, SHA1(), 30).generate(int(at)).decode("ascii")


def _submit_login(page: Page, person: Person, code: str | None = None) -> None:
    page.goto("/login")
    page.fill("#username", person.username)
    page.fill("#password", person.password)
    if code is not None:
        page.fill("#totp", code)
    page.locator("form[action='/login'] [type=submit]").click()
    page.wait_for_load_state()


def _sign_out(page: Page) -> None:
    page.locator("form[action='/logout'] [type=submit]").click()
    page.wait_for_load_state()


def test_admin_signs_in_enrols_totp_and_signs_in_again_with_it(
    page: Page, county: str, tmp_path: Path
) -> None:
    # First sign-in: password only; an administrator must enrol a second factor first.
    _submit_login(page, ADMIN)
    page.wait_for_url("**/account/totp**")
    assert ADMIN.name in page.inner_text("header")
    assert page.locator(".qr svg").count() == 1
    secret = "".join(page.inner_text("#totp-secret").split())
    assert len(secret) >= 16
    page.screenshot(path=str(tmp_path / "enrolment.png"), full_page=True)
    # Until it is enrolled, nothing else opens.
    page.goto("/admin/accounts")
    page.wait_for_url("**/account/totp**")

    enrolled_at = time.time()
    page.fill("#code", totp_code(secret, enrolled_at))
    page.locator("form[action='/account/totp'] [type=submit]").click()
    page.wait_for_load_state()
    assert "/account/totp" not in page.url
    page.screenshot(path=str(tmp_path / "after-enrolment.png"), full_page=True)

    _sign_out(page)
    assert ADMIN.name not in page.inner_text("header")
    page.goto("/admin/accounts")
    page.wait_for_url("**/login**")

    # Without the code the password alone no longer opens the account.
    _submit_login(page, ADMIN)
    assert "/login" in page.url
    assert page.locator("[role=alert]").count() == 1
    assert ADMIN.name not in page.inner_text("header")

    # The enrolment code's step is used up: sign in with the next step's code, which
    # the server accepts as within its ±1 step window.
    _submit_login(page, ADMIN, totp_code(secret, enrolled_at + 30))
    assert "/login" not in page.url
    assert ADMIN.name in page.inner_text("header")
    admin_page = page.goto("/admin/accounts")
    assert admin_page is not None and admin_page.status == 200
    assert "/admin/accounts" in page.url
    assert ADMIN.username in page.inner_text("main")
    # Signed-in pages are never kept by the browser or a proxy.
    assert admin_page.headers["cache-control"] == "no-store"
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    session = [c for name, c in cookies.items() if "session" in name]
    assert session and all(c["httpOnly"] and c["sameSite"] == "Strict" for c in session)
    page.screenshot(path=str(tmp_path / "signed-in.png"), full_page=True)


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    page: Page, county: str
) -> None:
    _submit_login(page, Person(ADMIN.username, "not-the-password-at-all", ADMIN.name))
    assert "/login" in page.url
    alert = page.inner_text("[role=alert]")
    assert alert
    _submit_login(page, Person("nobody-here", "not-the-password-at-all", ""))
    assert page.inner_text("[role=alert]") == alert


def test_sign_in_works_with_javascript_off(no_js_page: Page, county: str) -> None:
    page = no_js_page
    page.goto("/login")
    assert page.locator("#username").is_visible()
    _submit_login(page, STAFF)
    assert "/login" not in page.url
    assert STAFF.name in page.inner_text("header")
    _sign_out(page)
    assert STAFF.name not in page.inner_text("header")


def _sign_in_enrolling_totp(page: Page, person: Person) -> None:
    _submit_login(page, person)
    page.wait_for_url("**/account/totp**")
    secret = "".join(page.inner_text("#totp-secret").split())
    page.fill("#code", totp_code(secret, time.time()))
    page.locator("form[action='/account/totp'] [type=submit]").click()
    page.wait_for_load_state()
    assert "/account/totp" not in page.url


def _walk_navigation(page: Page, locale: str) -> list[str]:
    keys = set(catalogues()["zh-CN"])
    links = page.locator("header nav a[href^='/']")
    hrefs = sorted({links.nth(i).get_attribute("href") or "" for i in range(links.count())})
    hrefs = [href for href in hrefs if not href.startswith("/lang/")]
    for href in hrefs:
        response = page.goto(href)
        assert response is not None and response.status == 200, href
        assert page.locator("html").get_attribute("lang") == locale, href
        text = page.inner_text("body")
        leaked = sorted(key for key in keys if key in text)
        assert not leaked, f"{href} shows untranslated keys: {leaked}"
    return hrefs


def test_every_page_in_the_navigation_opens_cleanly_in_both_languages(
    page: Page, county: str
) -> None:
    """Each page an administrator can reach renders (200), translated, without CSP errors
    (the ``page`` fixture fails the test on any console error)."""
    _sign_in_enrolling_totp(page, WALKER)
    hrefs = _walk_navigation(page, "zh-CN")
    assert {"/", "/account", "/admin/accounts", "/admin/orgunits"} <= set(hrefs)
    page.goto("/account")
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/account")  # the switch returns to the page it was made on
    assert WALKER.name in page.inner_text("header")
    assert _walk_navigation(page, "en") == hrefs
