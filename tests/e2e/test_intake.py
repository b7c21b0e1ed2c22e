"""The tip box in a real browser, from the tipster's phone to the officer's desk and back.

The tipster's browser has JavaScript switched off. They submit a tip with a photo
carrying a GPS position, confirm the receipt by typing its last group back, sign in
to the mailbox with it and see the status. A designated officer signs in (enrolling
TOTP), opens the tip from /cases, reads it, sees the photo and downloads it without
its EXIF, and replies; the tipster's mailbox then shows the reply. Afterwards the
server's files, its log and (on PostgreSQL) a dump of its database hold neither the
tip's text, nor the receipt, nor the client's address.
"""

from __future__ import annotations

import io
import re
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page

from tests.e2e.conftest import LiveServer
from tests.e2e.test_login import Person, set_up_county, totp_code
from tests.tipline.intake.support import forms_of, jpeg_with_gps
from tipline.web.i18n import translate

OFFICER = Person("officer-e2e", "Rk5-willow-beacon-81", "孙指定")


@dataclass(frozen=True)
class TipBox:
    officer: Person
    escrow_file: Path


@pytest.fixture(scope="module")
def tip_box(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> TipBox:
    """Open the live server's tip box as a county would: the county (the same file as the
    sign-in tests; importing it twice changes nothing), a designated officer (whose key
    pair is made with the account) and the escrow key, written outside the data dir."""
    # Another module of this server (cases, hotline) may have made the escrow key already.
    escrow_file = set_up_county(
        live_server, tmp_path_factory.mktemp("tipbox"), ((OFFICER, "officer"),)
    )
    status = live_server.cli("keys", "status").stdout
    assert "tip box: open" in status, status
    return TipBox(OFFICER, escrow_file)


def _zh(key: str) -> str:
    return translate("zh-CN", key)


def _submit_tip(page: Page, text: str, photo: Path) -> tuple[str, str]:
    """The tipster's way through the landing page and the form; returns the receipt
    (24 digits, as shown in six groups) and the ledger number."""
    page.goto("/tip")
    assert page.locator("script").count() == 0
    page.locator("a[href='/tip/new']").first.click()
    page.wait_for_url("**/tip/new")
    page.select_option("#category", "village_bully")
    page.fill("#content", text)
    page.select_option("#township", label="城关镇")
    page.fill("#occurred", "2026年3月")
    page.fill("#who", "村主任")
    page.set_input_files("#attachments", str(photo))
    page.locator("form[action='/tip/new'] [type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == _zh("intake.receipt.title")
    groups = page.locator(".receipt span").all_inner_texts()
    assert len(groups) == 6 and all(re.fullmatch(r"\d{4}", g) for g in groups), groups
    receipt = "".join(groups)
    assert receipt not in page.url
    main = page.inner_text("main")
    assert _zh("intake.receipt.no_recovery") in main
    assert "GPS" in main  # the tipster is told what was removed from the photo
    ledger = re.search(r"\d{4}-\d{6}", main)
    assert ledger, main
    # Not saved yet: a wrong last group is refused, the right one accepted.
    page.fill("#last_group", "0000" if groups[-1] != "0000" else "1111")
    page.locator("form[action='/tip/receipt'] [type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("[role=alert]").inner_text() == _zh("intake.receipt.mismatch")
    page.fill("#last_group", groups[-1])
    page.locator("form[action='/tip/receipt'] [type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == _zh("intake.saved.title")
    return receipt, ledger.group(0)


def _open_mailbox(page: Page, receipt: str) -> None:
    page.goto("/tip/mailbox")
    spaced = " ".join(receipt[i : i + 4] for i in range(0, 24, 4))
    page.fill("#receipt", spaced)  # as read out over the phone, with spaces
    page.locator("form[action='/tip/mailbox'] [type=submit]").click()
    page.wait_for_url("**/tip/mailbox")
    page.wait_for_load_state()


def _officer_signs_in(page: Page, officer: Person) -> None:
    """First sign-in of a designated officer: password, then TOTP enrolment."""
    page.goto("/login")
    page.fill("#username", officer.username)
    page.fill("#password", officer.password)
    page.locator("form[action='/login'] [type=submit]").click()
    page.wait_for_url("**/account/totp**")
    secret = "".join(page.inner_text("#totp-secret").split())
    page.fill("#code", totp_code(secret, time.time()))
    page.locator("form[action='/account/totp'] [type=submit]").click()
    page.wait_for_load_state()
    assert "/account/totp" not in page.url
    assert officer.name in page.inner_text("header")


def _dump(live_server: LiveServer, out: Path) -> Path:
    subprocess.run(
        ["pg_dump", "--no-owner", "--file", str(out), live_server.env["TIPLINE_DATABASE_URL"]],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out


def test_a_tip_with_a_photo_goes_from_the_tipster_to_the_officer_and_back(
    no_js_page: Page, page: Page, live_server: LiveServer, tip_box: TipBox, tmp_path: Path
) -> None:
    marker = uuid.uuid4().hex
    text = f"MARKER-{marker} 村主任强占村集体鱼塘，还打伤了反对的村民。"
    reply = f"REPLY-{marker} 请问鱼塘在哪个村民小组？"
    photo = tmp_path / "IMG_2041.jpg"
    photo.write_bytes(jpeg_with_gps((320, 240)))
    assert Image.open(photo).getexif().get_ifd(0x8825)  # the photo does carry a position

    # The tipster, JavaScript off.
    tipster = no_js_page
    receipt, ledger_no = _submit_tip(tipster, text, photo)
    assert not tipster.context.cookies()  # no cookie before a receipt login
    _open_mailbox(tipster, receipt)
    mailbox = tipster.inner_text("main")
    assert ledger_no in mailbox
    assert _zh("intake.status.received") in mailbox
    assert _zh("intake.mailbox.no_messages") in mailbox
    cookies = tipster.context.cookies()
    assert [c["name"] for c in cookies] == ["tipster"]
    assert cookies[0]["httpOnly"] and cookies[0]["sameSite"] == "Strict"

    # The officer, in their own browser.
    _officer_signs_in(page, tip_box.officer)
    page.goto("/cases")
    page.get_by_role("link", name=ledger_no).click()
    page.wait_for_url(f"**/cases/{ledger_no}")
    case = page.inner_text("main")
    assert text in case and "村主任" in case
    image = page.locator(f"img[src^='/cases/{ledger_no}/attachments/']")
    image.wait_for()
    assert image.evaluate("img => img.complete && img.naturalWidth") == 320
    link = page.locator(f"a[href^='/cases/{ledger_no}/attachments/']").first
    href = link.get_attribute("href")
    assert href and "IMG_2041" not in link.inner_text()  # the file name was replaced
    download = page.request.get(href)
    assert download.ok and download.headers["content-type"].startswith("image/jpeg")
    cleaned = Image.open(io.BytesIO(download.body()))
    assert cleaned.size == (320, 240)
    exif = cleaned.getexif()
    assert not exif.get_ifd(0x8825) and 0x010F not in exif, dict(exif)
    assert b"MarkerCamMake" not in download.body()
    page.fill("#text", reply)
    page.locator(f"form[action='/cases/{ledger_no}/messages'] [type=submit]").click()
    page.wait_for_url(f"**/cases/{ledger_no}**")
    assert reply in page.inner_text("#messages")

    # The tipster comes back and reads the reply.
    tipster.goto("/tip/mailbox")
    assert reply in tipster.inner_text("main")

    # Nothing of the tipster is left in the server's files, its log or its database.
    files = [p for p in live_server.data_dir.rglob("*") if p.is_file()]
    if "TIPLINE_DATABASE_URL" in live_server.env:
        files.append(_dump(live_server, tmp_path / "dump.sql"))
    else:
        assert any(p.name == "tipline.sqlite" for p in files)
    spaced = " ".join(receipt[i : i + 4] for i in range(0, 24, 4))
    secrets = {"tip text": text, "receipt": receipt, "spaced receipt": spaced, "reply": reply}
    found = [
        f"{what} in {path}"
        for path in files
        for what, secret in secrets.items()
        if any(form in path.read_bytes() for form in forms_of(secret))
    ]
    log = live_server.log()
    assert log  # the server's output was captured
    found += [f"{what} in the log" for what, secret in secrets.items() if secret in log]
    # The browser's address is 127.0.0.1, the server's too: only the server's own
    # "running on" line may name it.
    server_line = f"http://127.0.0.1:{live_server.port}"
    if "127.0.0.1" in log.replace(server_line, ""):
        found.append("the client address in the log")
    found += [f"the client address in {p}" for p in files if b"127.0.0.1" in p.read_bytes()]
    assert not found, "\n".join(found)
