"""Handling a tip in a real browser: two designated officers and the two-person rule.

An anonymous tip arrives through the tip API. The first officer registers it from the
case page (category, township, a summary written on purpose), then asks to close it
without transfer; a second officer, in their own browser, approves the request with a
reason on the approvals page; the ledger then shows the tip closed, and the case page's
custody timeline names both officers with their reasons.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import LiveServer, _new_context, _watch
from tests.e2e.test_intake import _officer_signs_in
from tests.e2e.test_login import Person, set_up_county
from tipline.web.i18n import translate

FIRST = Person("officer-cases-1", "Tq3-meadow-lantern-58", "周登记")
SECOND = Person("officer-cases-2", "Wn6-harbour-thistle-27", "吴审批")


def _zh(key: str, **values: str) -> str:
    return translate("zh-CN", key, **values)


@pytest.fixture(scope="module")
def officers(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The county, two designated officers (keys made with the accounts) and, unless
    another module made it already, the escrow key."""
    folder = tmp_path_factory.mktemp("cases")
    set_up_county(live_server, folder, ((FIRST, "officer"), (SECOND, "officer")))
    assert "tip box: open" in live_server.cli("keys", "status").stdout


def _submit_tip(live_server: LiveServer, text: str) -> str:
    """A tipster's tip through the JSON API; returns its ledger number."""
    body = json.dumps({"category": "village_bully", "content": text}).encode()
    request = urllib.request.Request(
        f"{live_server.base_url}/api/v1/tips",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 201
        return str(json.loads(answer.read())["ledger_no"])


@pytest.fixture
def second_page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """The second officer's own browser profile."""
    context = _new_context(browser, live_server)
    try:
        new_page = context.new_page()
        problems = _watch(new_page)
        yield new_page
        assert not problems, "\n".join(problems)
    finally:
        context.close()


def test_register_then_close_without_transfer_with_a_second_officers_approval(
    page: Page, second_page: Page, live_server: LiveServer, officers: None
) -> None:
    marker = uuid.uuid4().hex[:12]
    ledger_no = _submit_tip(live_server, f"MARKER-{marker} 村主任强占鱼塘")

    # The first officer registers the tip.
    _officer_signs_in(page, FIRST)
    page.goto("/cases")
    page.get_by_role("link", name=ledger_no).click()
    page.wait_for_url(f"**/cases/{ledger_no}")
    assert f"MARKER-{marker}" in page.inner_text("main")
    registration = page.locator(f"form[action='/cases/{ledger_no}/register']")
    assert _zh("cases.registration.summary_warning") in page.inner_text("#registration")
    registration.locator("#reg-category").select_option("village_bully")
    registration.locator("#reg-township").select_option(label="城关镇")
    registration.locator("#reg-summary").fill(f"SUMMARY-{marker} 鱼塘纠纷")
    registration.locator("#reg-reason").fill("来源清楚，予以登记")
    registration.locator("[type=submit]").click()
    page.wait_for_url(f"**/cases/{ledger_no}?done=registered")
    assert _zh("cases.done.registered") in page.inner_text("main")
    assert _zh("cases.status.registered") in page.inner_text("main")

    # ... and asks to close it without transfer.
    request = page.locator(f"form[action='/cases/{ledger_no}/approvals']").filter(
        has=page.locator("input[value='close_without_transfer']")
    )
    request.locator("textarea").fill("属民事纠纷，不涉黑涉恶")
    request.locator("[type=submit]").click()
    page.wait_for_url(f"**/cases/{ledger_no}?done=requested**")
    assert _zh("cases.done.requested") in page.inner_text("main")
    page.goto("/cases/approvals")
    assert _zh("cases.approval.own_request") in page.inner_text("main")
    assert page.locator("button[value='approve']").count() == 0  # not one's own request
    assert page.locator("form[action$='/withdraw']").count() == 1

    # The second officer approves it in their own browser.
    _officer_signs_in(second_page, SECOND)
    second_page.goto("/cases/approvals")
    card = second_page.locator(".approval").filter(has_text=ledger_no)
    assert "属民事纠纷，不涉黑涉恶" in card.inner_text()
    assert FIRST.name in card.inner_text()
    card.locator("textarea").fill("同意，已核对")
    card.locator("button[value='approve']").click()
    second_page.wait_for_url("**/cases/approvals?done=approved")
    assert _zh("cases.done.approved") in second_page.inner_text("main")

    # The ledger shows the tip closed, and the timeline names both officers.
    page.goto("/cases?status=closed")
    row = page.locator("tr").filter(has=page.get_by_role("link", name=ledger_no))
    assert _zh("cases.status.closed") in row.inner_text()
    assert f"SUMMARY-{marker}" in row.inner_text()
    page.get_by_role("link", name=ledger_no).click()
    page.wait_for_url(f"**/cases/{ledger_no}")
    timeline = page.inner_text("#timeline")
    for text in (
        FIRST.name,
        SECOND.name,
        "来源清楚，予以登记",
        "属民事纠纷，不涉黑涉恶",
        "同意，已核对",
        _zh("cases.event.tip.closed"),
    ):
        assert text in timeline, text
    assert _zh("cases.actions.none") in page.inner_text("#actions")
    log = live_server.log()
    assert f"MARKER-{marker}" not in log
