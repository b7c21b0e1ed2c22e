"""A township clerk, in a real browser, records a vacancy on a demo village's
committee, runs a by-election through township approval, nominations, vetting by each
agency (the county closes the joint review), publication, tally and filing, submits
the result; the township approves and the county accepts it.

This module runs its own server on the demo county (``tipline demo``).
"""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import LiveServer, _new_context, _watch

AGENCIES = ("public_security", "court", "procuratorate", "discipline", "political_legal")


def _page(browser: Browser, server: LiveServer) -> Page:
    page = _new_context(browser, server).new_page()
    page.problems = _watch(page)  # type: ignore[attr-defined]
    return page


def _sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.locator("form[action='/login'] [type=submit]").click()
    page.wait_for_load_state()


def _day(days: int) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()


def test_clerk_runs_a_by_election_and_the_county_accepts(
    browser: Browser, demo_server: tuple[LiveServer, dict[str, str]]
) -> None:
    server, passwords = demo_server
    clerk = _page(browser, server)
    county = _page(browser, server)
    _sign_in(clerk, "township_staff", passwords["township_staff"])
    _sign_in(county, "county_staff", passwords["county_staff"])

    # The clerk sees only 城关镇's villages and opens one without a vacancy.
    clerk.goto("/villageaffairs/registers")
    rows = clerk.locator("table tbody tr")
    assert rows.count() == 14
    assert all("城关镇" in rows.nth(i).inner_text() for i in range(rows.count()))
    rows.nth(1).locator("td").nth(1).locator("a").click()
    village_url = clerk.url

    # Record a vacancy: a member resigned 40 days ago.
    member_row = clerk.locator("#committee tbody tr").last
    resigned = member_row.locator("td").first.inner_text()
    member_row.locator("input[type=date]").fill(_day(-40))
    member_row.locator("select").select_option("resigned")
    member_row.locator("button[type=submit]").click()
    expect(clerk.locator("#vacancies tbody")).to_contain_text("待补选")
    expect(clerk.locator("#vacancies tbody")).to_contain_text(resigned)

    # Plan the by-election; the township approves it.
    clerk.fill("#election_date", _day(-5))
    clerk.locator("form[action='/villageaffairs/by-elections'] button[type=submit]").click()
    expect(clerk.locator("#by-election-status")).to_have_text("已安排，待乡镇批准")
    by_election_url = clerk.url
    clerk.get_by_role("button", name="乡镇批准补选").click()
    expect(clerk.locator("#by-election-status")).to_have_text("提名候选人")

    # Two nominees who hold no office (the last villagers in the list).
    for _ in range(2):
        options = clerk.locator("#nominee option")
        clerk.select_option("#nominee", index=options.count() - 1)
        clerk.get_by_role("button", name="提名候选人").click()
    expect(clerk.locator("#candidates tbody tr")).to_have_count(2)
    clerk.get_by_role("button", name="提交资格联审").click()
    expect(clerk.locator("#by-election-status")).to_have_text("资格联审中")

    # Each agency's answer for each candidate: clear, with its document reference.
    form = clerk.locator("form[action$='/check']")
    for candidate in range(2):
        for n, agency in enumerate(AGENCIES):
            form.locator("select[name=candidate_id]").select_option(index=candidate)
            form.locator("select[name=agency]").select_option(agency)
            form.locator("select[name=result]").select_option("clear")
            form.locator("input[name=document_ref]").fill(f"复〔2026〕{candidate}{n}号")
            form.locator("button[type=submit]").click()
            form = clerk.locator("form[action$='/check']")
    expect(clerk.locator("#vetting td.check-clear")).to_have_count(10)

    # The county closes the joint review.
    county.goto(by_election_url)
    county.fill("#joint_review_ref", "县联审〔2026〕9号")
    county.get_by_role("button", name="县级联审结束").click()
    expect(county.locator("#by-election-status")).to_have_text("联审已结束")

    # Voter list published too late is refused with the article; then in time.
    clerk.goto(by_election_url)
    clerk.fill("#registered_voters", "600")
    clerk.fill("#voter_list_published_on", _day(-10))
    clerk.fill("#candidates_published_on", _day(-10))
    clerk.get_by_role("button", name="公布选民名单和候选人").click()
    expect(clerk.locator("ul.problems")).to_contain_text("20日以前公布")
    expect(clerk.locator("ul.problems")).to_contain_text("第14条")
    clerk.goto(by_election_url)
    clerk.fill("#registered_voters", "600")
    clerk.fill("#voter_list_published_on", _day(-30))
    clerk.fill("#candidates_published_on", _day(-25))
    clerk.get_by_role("button", name="公布选民名单和候选人").click()
    expect(clerk.locator("#by-election-status")).to_have_text("选民名单和候选人已公布")

    # Tally: 500 of 600 voted; the winner has 300 (> 250).
    clerk.fill("#ballots_cast", "500")
    votes = clerk.locator("input[name=votes]")
    votes.nth(0).fill("300")
    votes.nth(1).fill("150")
    clerk.get_by_role("button", name="登记计票结果").click()
    expect(clerk.locator("#by-election-status")).to_have_text("已计票")
    clerk.get_by_role("button", name="备案补选结果").click()
    expect(clerk.locator("#by-election-status")).to_have_text("已备案")
    winner = clerk.locator("#tally tbody tr").first.locator("td").first.inner_text()

    # Up the approval chain: the clerk submits and the township approves.
    clerk.locator("button[data-step=submit]").click()
    expect(clerk.locator(".report-status")).to_contain_text("已报送乡镇")
    clerk.locator("button[data-step=approve]").click()
    expect(clerk.locator(".report-status")).to_contain_text("乡镇已审核")
    assert clerk.locator("button[data-step=accept]").count() == 0

    # The county accepts from its queue; the data is locked.
    county.goto("/villageaffairs/reports")
    expect(county.locator("table")).to_contain_text("村委会补选")
    county.goto(by_election_url)
    county.locator("button[data-step=accept]").click()
    expect(county.locator(".report-status")).to_contain_text("县级已接收")
    expect(county.locator(".report-status")).to_contain_text("数据已锁定")

    # The winner sits on the committee; the vacancy is filled.
    clerk.goto(village_url)
    expect(clerk.locator("#committee tbody")).to_contain_text(winner)
    expect(clerk.locator("#vacancies tbody")).to_contain_text("已补选")
    for page in (clerk, county):
        assert not page.problems, page.problems  # type: ignore[attr-defined]
        page.context.close()
