"""Oversight in a real browser: the officer's Excel 台账, the inspector's trail and note.

A tip arrives through the tip API. A designated officer downloads the Excel ledger
from /exports and finds the tip's line (no content in the file). The discipline
inspector opens /oversight, follows the ledger number to its custody trail (no content),
writes a supervision note, sees it on the trail, verifies the
ledger and opens the statistics with their SVG charts; the officer's /cases page stays
closed to the inspector.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page

from tests.e2e.conftest import LiveServer
from tests.e2e.test_cases import _submit_tip
from tests.e2e.test_intake import _officer_signs_in
from tests.e2e.test_login import Person, set_up_county
from tipline.web.i18n import translate

OFFICER = Person("officer-oversight", "Wd3-meadow-lantern-27", "钱台账")
INSPECTOR = Person("inspector-oversight", "Hq6-river-pavilion-58", "孙督办")


def _zh(key: str, **values: object) -> str:
    return translate("zh-CN", key, **values)


@pytest.fixture(scope="module")
def people(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("oversight")
    set_up_county(live_server, folder, ((OFFICER, "officer"), (INSPECTOR, "inspector")))


def test_the_excel_ledger_and_the_inspectors_trail_and_note(
    page: Page, live_server: LiveServer, people: None, tmp_path: Path
) -> None:
    marker = uuid.uuid4().hex[:12]
    ledger_no = _submit_tip(live_server, f"MARKER-{marker} 有人强迫商户缴纳保护费")

    _officer_signs_in(page, OFFICER)
    page.get_by_role("link", name=_zh("oversight.exports.nav")).click()
    page.wait_for_url("**/exports")
    with page.expect_download() as info:
        page.get_by_role("link", name=_zh("oversight.export.button")).click()
    download = info.value
    assert download.suggested_filename.startswith("tip-ledger-")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    sheet = load_workbook(saved).active
    assert sheet is not None
    lines = {row[0]: row for row in sheet.iter_rows(values_only=True)}
    assert lines[ledger_no][2] == _zh("cases.channel.web")
    assert f"MARKER-{marker}".encode() not in saved.read_bytes()
    page.locator("form[action='/logout'] [type=submit]").click()
    page.wait_for_load_state()

    _officer_signs_in(page, INSPECTOR)
    page.get_by_role("link", name=_zh("oversight.nav")).click()
    page.wait_for_url("**/oversight")
    page.get_by_role("link", name=ledger_no).first.click()
    page.wait_for_url(f"**/oversight/cases/{ledger_no}")
    main = page.inner_text("main")
    assert "tip.received" in main and f"MARKER-{marker}" not in main

    note = f"请尽快登记并移送 NOTE-{marker}"
    page.fill("#text", note)
    page.get_by_role("button", name=_zh("oversight.note.submit")).click()
    page.wait_for_url(f"**/oversight/cases/{ledger_no}#trail")
    row = page.locator("tr.supervision-note")
    assert note in row.inner_text() and "tip.supervision_note" in row.inner_text()

    page.goto("/oversight")
    page.get_by_role("button", name=_zh("oversight.verify.button")).click()
    page.wait_for_url("**/oversight?done=verified#verification")
    assert _zh("oversight.verify.done") in page.inner_text("#verification")

    page.goto("/statistics")
    assert page.locator("svg[role=img]").count() == 4
    title = page.locator("svg[role=img] title").first.text_content()
    assert title == _zh("oversight.stats.per_month")

    refused = page.goto(f"/cases/{ledger_no}")
    assert refused is not None and refused.status == 403
    assert f"MARKER-{marker}" not in live_server.log() and note not in live_server.log()
