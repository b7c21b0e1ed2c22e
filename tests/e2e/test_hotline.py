"""A phone tip in a real browser: an officer enters it and reads out the receipt; the
caller, in a browser of their own with JavaScript off, signs in with it, reads the
officer's transcript labelled as such and confirms it; the officer's case page then
shows the transcript confirmed (EU 2019/1937 Art. 18: check, rectify and agree)."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import LiveServer
from tests.e2e.test_intake import _officer_signs_in, _open_mailbox
from tests.e2e.test_login import Person, set_up_county
from tipline.web.i18n import translate

OFFICER = Person("officer-hotline-e2e", "Qv7-harbor-lantern-52", "钱接线")


def _zh(key: str) -> str:
    return translate("zh-CN", key)


@pytest.fixture(scope="module")
def hotline_officer(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Person:
    """The county, a designated officer who takes calls, and the escrow key (made here
    unless another module of this server already made it)."""
    folder = tmp_path_factory.mktemp("hotline")
    set_up_county(live_server, folder, ((OFFICER, "officer"),))
    assert "tip box: open" in live_server.cli("keys", "status").stdout
    return OFFICER


def test_a_phone_tip_is_entered_and_the_caller_confirms_the_transcript(
    page: Page, no_js_page: Page, hotline_officer: Person
) -> None:
    transcript = f"CALL-{uuid.uuid4().hex[:12]} 来电人称：村主任在换届前挨家挨户威胁村民。"

    # The officer takes the call and enters it.
    _officer_signs_in(page, hotline_officer)
    page.goto("/cases")
    page.locator("a[href='/cases/new']").first.click()
    page.wait_for_url("**/cases/new")
    page.check("input[name=channel][value=phone]")
    page.select_option("#category", "election_interference")
    page.fill("#content", transcript)
    page.select_option("#township", label="城关镇")
    page.fill("#who", "村主任")
    page.locator("form[action='/cases/new'] [type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == _zh("hotline.receipt.title")
    groups = page.locator(".receipt span").all_inner_texts()
    assert len(groups) == 6 and all(re.fullmatch(r"\d{4}", g) for g in groups), groups
    receipt = "".join(groups)
    assert receipt not in page.url
    main = page.inner_text("main")
    assert _zh("hotline.receipt.how.phone") in main
    ledger = re.search(r"\d{4}-\d{6}", main)
    assert ledger, main
    ledger_no = ledger.group(0)

    # The caller, later, in a browser of their own with JavaScript off.
    caller = no_js_page
    _open_mailbox(caller, receipt)
    assert ledger_no in caller.inner_text("main")
    caller.locator("a[href='/tip/mailbox/transcript']").click()
    caller.wait_for_url("**/tip/mailbox/transcript")
    shown = caller.inner_text("main")
    assert _zh("hotline.transcript.label") in shown
    assert caller.inner_text("#transcript-text") == transcript
    assert _zh("hotline.state.awaiting") in shown
    caller.locator("form[action='/tip/mailbox/transcript/confirm'] [type=submit]").click()
    caller.wait_for_url("**/tip/mailbox/transcript?done=confirmed")
    confirmed = caller.inner_text("main")
    assert _zh("hotline.transcript.done.confirmed") in confirmed
    assert _zh("hotline.state.confirmed") in confirmed

    # The officer's case page shows it confirmed.
    page.goto(f"/cases/{ledger_no}")
    assert transcript in page.inner_text("main")
    assert page.inner_text("#transcript-state") == _zh("hotline.state.confirmed")
    assert OFFICER.name in page.inner_text("#transcript")
