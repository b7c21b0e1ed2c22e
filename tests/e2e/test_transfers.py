"""Transferring a tip in a real browser: register, transfer, download the PDF, feedback.

An anonymous tip arrives through the tip API. A designated officer registers it on the
case page, follows the link to its transfers, transfers it to the county public
security bureau (registered with ``tipline authorities add``), downloads the
watermarked transfer package, records the bureau's acknowledgement and feedback from
its paper reply, and sees the tip move to "feedback received". The server's log never
holds the tip's text.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pikepdf
import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import LiveServer
from tests.e2e.test_cases import _submit_tip
from tests.e2e.test_intake import _officer_signs_in
from tests.e2e.test_login import Person, set_up_county
from tests.tipline.authorities.support import pdf_pages_text
from tipline.web.i18n import translate

OFFICER = Person("officer-transfers", "Kp4-lantern-orchard-61", "郑移送")
AUTHORITY = "测试县公安局（E2E）"


def _zh(key: str, **values: str) -> str:
    return translate("zh-CN", key, **values)


@pytest.fixture(scope="module")
def officer(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Person:
    """The county, a designated officer, the escrow key (unless made already) and the
    public security bureau as a competent authority."""
    folder = tmp_path_factory.mktemp("transfers")
    set_up_county(live_server, folder, ((OFFICER, "officer"),))
    added = live_server.cli(
        "authorities", "add", AUTHORITY, "--kind", "public_security", "--phone", "0000-110"
    )
    assert "registered" in added.stdout
    return OFFICER


def test_transfer_a_tip_download_its_package_and_record_feedback(
    page: Page, live_server: LiveServer, officer: Person, tmp_path: Path
) -> None:
    marker = uuid.uuid4().hex[:12]
    ledger_no = _submit_tip(live_server, f"MARKER-{marker} 有人在河道非法采砂并威胁村民")

    _officer_signs_in(page, officer)
    page.goto(f"/cases/{ledger_no}")
    assert f"MARKER-{marker}" in page.inner_text("main")
    registration = page.locator(f"form[action='/cases/{ledger_no}/register']")
    registration.locator("#reg-category").select_option("village_bully")
    registration.locator("#reg-township").select_option(label="城关镇")
    registration.locator("#reg-summary").fill(f"SUMMARY-{marker} 非法采砂")
    registration.locator("#reg-reason").fill("予以登记")
    registration.locator("[type=submit]").click()
    page.wait_for_url(f"**/cases/{ledger_no}?done=registered")

    # Transfer it.
    page.get_by_role("link", name=_zh("cases.transfers.link")).click()
    page.wait_for_url(f"**/cases/{ledger_no}/transfers")
    form = page.locator(f"form[action='/cases/{ledger_no}/transfers']")
    form.locator("#authority_id").select_option(label=AUTHORITY)
    form.locator("#document_no").fill(f"测公移〔2026〕{marker}号")
    form.locator("#method").select_option("confidential_post")
    form.locator("#note").fill("涉嫌非法采矿，依管辖移送")
    form.locator("[type=submit]").click()
    page.wait_for_url(f"**/cases/{ledger_no}/transfers?done=transferred")
    main = page.inner_text("main")
    assert _zh("authorities.done.transferred") in main
    assert page.inner_text("#tip-status") == _zh("cases.status.transferred")
    assert f"测公移〔2026〕{marker}号" in main and OFFICER.name in main
    assert f"MARKER-{marker}" not in main  # the transfers page is metadata only

    # Download the package: a PDF watermarked with the ledger no. and the officer.
    with page.expect_download() as info:
        page.get_by_role("link", name=_zh("authorities.package.pdf")).click()
    download = info.value
    assert download.suggested_filename.startswith(f"{ledger_no}-transfer-")
    assert download.suggested_filename.endswith(".pdf")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    data = saved.read_bytes()
    with pikepdf.open(saved) as pdf:
        assert len(pdf.pages) >= 1
    pages = pdf_pages_text(data)
    assert all(ledger_no in text and OFFICER.name in text for text in pages)
    whole = "".join(pages)
    assert f"MARKER-{marker}" in whole and f"SUMMARY-{marker}" in whole and "城关镇" in whole

    # The bureau's paper reply: acknowledgement, then feedback.
    card = page.locator(".transfer").filter(has_text=f"测公移〔2026〕{marker}号")
    card.locator("form[action$='/acknowledgement'] input[name='document_no']").fill("测公签1号")
    card.locator("form[action$='/acknowledgement'] [type=submit]").click()
    page.wait_for_url(f"**/cases/{ledger_no}/transfers?done=acknowledged")
    assert page.inner_text("#tip-status") == _zh("cases.status.transferred")
    card = page.locator(".transfer").filter(has_text=f"测公移〔2026〕{marker}号")
    feedback = card.locator("form[action$='/feedback']")
    feedback.locator("select[name='outcome']").select_option("case_opened")
    feedback.locator("textarea[name='summary']").fill("已立案侦查")
    feedback.locator("[type=submit]").click()
    page.wait_for_url(f"**/cases/{ledger_no}/transfers?done=feedback")
    assert page.inner_text("#tip-status") == _zh("cases.status.feedback_received")
    main = page.inner_text("main")
    assert "已立案侦查" in main and "测公签1号" in main

    # The receipt page: the transfer event is on record (a proof once a checkpoint holds it).
    page.get_by_role("link", name=_zh("authorities.receipt.link")).click()
    assert ledger_no in page.inner_text("main")
    assert page.locator("#receipt-seq").inner_text().isdigit()

    assert f"MARKER-{marker}" not in live_server.log()
