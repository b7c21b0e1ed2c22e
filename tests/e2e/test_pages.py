"""What a person sees in a real browser: Chinese by default, English on a click."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.conftest import LiveServer


def _has_cjk_font() -> bool:
    if shutil.which("fc-list") is None:
        return False
    found = subprocess.run(
        ["fc-list", ":lang=zh-cn", "family"], capture_output=True, text=True, check=False
    )
    return bool(found.stdout.strip())


def test_home_page_renders_chinese(page: Page, live_server: LiveServer, tmp_path: Path) -> None:
    if not _has_cjk_font():
        pytest.skip(
            "no CJK font: Chinese would render as boxes (apt-get install fonts-wqy-microhei)"
        )
    problems: list[str] = []
    page.on("console", lambda message: _collect_console(message, problems))
    page.on("requestfailed", lambda request: problems.append(_failed(request)))

    response = page.goto("/")
    assert response is not None and response.status == 200
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.title().endswith("扫黑除恶举报与村务监督平台")
    assert "工作台" in page.locator("h1").inner_text()
    assert page.get_by_role("link", name="登录").first.is_visible()
    # The stylesheet is ours and applied (CSP would block it silently otherwise).
    assert page.evaluate("document.styleSheets.length") >= 1
    assert page.evaluate("document.styleSheets[0].cssRules.length") > 0

    # A CJK glyph drawn in a CJK font is much wider than a Latin letter; a missing
    # font would draw the same fallback box for every character.
    widths = page.evaluate(
        """() => {
            const span = document.createElement('span');
            document.body.appendChild(span);
            const measure = (text) => {
                span.textContent = text;
                return span.getBoundingClientRect().width;
            };
            const result = [measure('扫黑除恶'), measure('iiii')];
            span.remove();
            return result;
        }"""
    )
    assert widths[0] > 2 * widths[1]

    shot = tmp_path / "home-zh.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 5_000
    assert not problems, problems


def _collect_console(message: ConsoleMessage, problems: list[str]) -> None:
    if message.type == "error":
        problems.append(f"console: {message.text}")


def _failed(request: Request) -> str:
    return f"request failed: {request.url} ({request.failure})"


def test_switching_to_english_and_back(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Anti-gang Tipline and Village Affairs" in page.title()
    assert page.get_by_role("link", name="Sign in").first.is_visible()
    assert "扫黑除恶" not in page.content()

    # Switching on another page stays on that page.
    page.goto("/login")
    page.get_by_role("link", name="中文").click()
    page.wait_for_url("**/login")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/login")
    assert page.locator("html").get_attribute("lang") == "en"

    # The choice is remembered across pages, including error pages.
    missing = page.goto("/no-such-page")
    assert missing is not None and missing.status == 404
    assert "This page or record does not exist." in page.inner_text("main")

    page.goto("/")
    page.get_by_role("link", name="中文").click()
    page.wait_for_url("**/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "工作台" in page.inner_text("h1")


def test_error_page_in_chinese_shows_no_internals(page: Page) -> None:
    response = page.goto("/no-such-page")
    assert response is not None and response.status == 404
    text = page.inner_text("body")
    assert "找不到该页面或记录" in text
    assert "Traceback" not in page.content()
    page.get_by_role("link", name="返回首页").click()
    page.wait_for_url("**/")
    assert "工作台" in page.inner_text("h1")


def test_pages_work_without_javascript(no_js_page: Page) -> None:
    no_js_page.goto("/")
    assert "工作台" in no_js_page.inner_text("h1")
    no_js_page.get_by_role("link", name="English").click()
    no_js_page.wait_for_url("**/")
    assert "Workspace" in no_js_page.inner_text("h1")


def test_server_log_keeps_no_client_address(page: Page, live_server: LiveServer) -> None:
    """uvicorn runs without its access log: no visitor's address reaches the disk."""
    page.goto("/")
    page.goto("/no-such-page")
    log = live_server.log()
    assert "GET /" not in log
    assert "127.0.0.1:" not in log.replace(live_server.base_url, "")


def test_the_browser_refuses_inline_script_and_style(context: BrowserContext) -> None:
    """Our CSP really reaches the browser: injected inline code does not run."""
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text))
    page.goto("/")
    with contextlib.suppress(PlaywrightError):
        page.add_script_tag(content="window.injected = true;")
    assert page.evaluate("window.injected === undefined")
    with contextlib.suppress(PlaywrightError):
        page.add_style_tag(content="body { display: none; }")
    assert page.locator("h1").is_visible()
    assert any("Content Security Policy" in text for text in refused), refused
