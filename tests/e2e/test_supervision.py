"""A township clerk records a supervisory committee in a real browser; the county
dashboard cell of the township changes; the village's public page, opened through the
URL read back from its QR sticker, shows the committee.

This module runs its own server on the demo county (``tipline demo``): the 2020
campaign, 160 villages, one clerk of 城关镇 and one county staff member.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from playwright.sync_api import Browser, Page

from tests.e2e.conftest import LiveServer, _new_context, _watch


def _page(browser: Browser, server: LiveServer, **options: object) -> Page:
    context = _new_context(browser, server, **options)  # type: ignore[arg-type]
    page = context.new_page()
    page.problems = _watch(page)  # type: ignore[attr-defined]
    return page


def _sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.locator("form[action='/login'] [type=submit]").click()
    page.wait_for_load_state()


def _cell(page: Page, task_title: str, township: str) -> tuple[str, str]:
    """The cell's id and its "done/expected" text for one task × township."""
    page.goto("/villageaffairs/dashboard")
    headers = page.locator("#matrix thead th")
    column = next(i for i in range(headers.count()) if task_title in headers.nth(i).inner_text())
    row = page.locator("#matrix tbody tr", has=page.locator("th", has_text=township))
    cell = row.locator("td").nth(column - 1)
    return cell.get_attribute("id") or "", cell.inner_text()


def test_clerk_records_committee_dashboard_and_public_page(
    browser: Browser, demo_server: tuple[LiveServer, dict[str, str]], tmp_path: Path
) -> None:
    import zxingcpp
    from PIL import Image

    server, passwords = demo_server
    clerk = _page(browser, server)
    _sign_in(clerk, "township_staff", passwords["township_staff"])
    cell_id, before = _cell(clerk, "建立村务监督委员会", "城关镇")
    assert re.match(r"\d+/14", before), before

    # The drill-down lists the township's villages without a committee.
    clerk.locator(f"#{cell_id} a").click()
    clerk.wait_for_load_state()
    open_row = clerk.locator("tbody tr", has_text="未开展").first
    village_name = open_row.locator("td a").inner_text()
    open_row.locator("td a").click()
    clerk.get_by_role("link", name="村务监督委员会").first.click()
    clerk.wait_for_url("**/villageaffairs/supervision/villages/*")

    # Three villagers (the last three of the register: not on the committee, not its
    # relatives, not the accountant), the first the chair with accounting knowledge.
    options = clerk.locator("#person_1 option")
    values = [options.nth(i).get_attribute("value") for i in range(options.count())]
    chosen = [v for v in values if v][-3:]
    names = []
    clerk.fill("#elected_on", "2020-06-20")
    for row, value in enumerate(chosen, start=1):
        clerk.select_option(f"#person_{row}", value)
        names.append(clerk.locator(f"#person_{row} option:checked").inner_text().split(" (")[0])
        clerk.select_option(f"#post_{row}", "chair" if row == 1 else "member")
    clerk.check("#accounting_1")
    clerk.click("#save-committee")
    clerk.wait_for_load_state()
    assert "已保存" in clerk.inner_text("body")
    assert all(name in clerk.inner_text("#sc-members") for name in names)
    village_url = clerk.url.split("?")[0]
    clerk.locator("[data-step=submit]").click()
    clerk.wait_for_load_state()
    clerk.goto(village_url)
    clerk.locator("[data-step=approve]").click()
    clerk.wait_for_load_state()
    _, in_progress = _cell(clerk, "建立村务监督委员会", "城关镇")
    assert in_progress != before  # one more village in progress

    # The county accepts: one more village done in that township's cell.
    county = _page(browser, server)
    _sign_in(county, "county_staff", passwords["county_staff"])
    county.goto(village_url)
    county.locator("[data-step=accept]").click()
    county.wait_for_load_state()
    _, after = _cell(county, "建立村务监督委员会", "城关镇")
    done_before = int(before.split("/")[0])
    assert after.startswith(f"{done_before + 1}/14"), (before, after)

    # The notice board's QR sticker holds the public page's address.
    clerk.goto(village_url.replace("/supervision/", "/noticeboards/"))
    sticker = clerk.request.get(clerk.url + "/sticker.png")
    assert sticker.ok and sticker.headers["content-type"] == "image/png"
    (tmp_path / "sticker.png").write_bytes(sticker.body())
    decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(sticker.body())))]
    assert len(decoded) == 1 and decoded[0].startswith(server.base_url + "/public/villages/")

    # A villager's phone: no account, no JavaScript.
    villager = _page(browser, server, java_script_enabled=False)
    response = villager.goto(decoded[0])
    assert response is not None and response.status == 200
    assert village_name in villager.inner_text("h1")
    supervisory = villager.inner_text("#public-supervisory")
    assert all(name in supervisory for name in names)
    assert "监委会主任" in supervisory
    assert "*" not in villager.inner_text("body")  # no masked identity numbers either
    for page in (clerk, county, villager):
        assert not page.problems, page.problems  # type: ignore[attr-defined]
        page.context.close()
