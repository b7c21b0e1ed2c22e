"""The admin holidays page, through HTTP as an administrator uses it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import csrf_form, sign_in
from tipline.ledger.services import recent_events
from tipline.workdays.services import add_working_days, statutory_year_known, today_local
from tipline.workdays.tables import HolidayOverride

Client = AsyncTestClient[Litestar]


def first_unknown_year() -> int:
    year = 2026
    while statutory_year_known(year):
        year += 1
    return year


def warning(year: int) -> str:
    return f"{year}年尚无法定节假日安排，按周一至周五计算工作日，请录入县政府公布的节假日通知"


async def post_notice(client: Client, year: int | str, lines: str) -> Any:
    form = await csrf_form(client, "/admin/holidays", year=str(year), lines=lines)
    return await client.post("/admin/holidays", data=form, follow_redirects=False)


async def test_a_year_without_holiday_data_is_warned_about_until_its_notice_is_entered(
    admin_client: Client,
) -> None:
    year = first_unknown_year()
    page = await admin_client.get(f"/admin/holidays?year={year}")
    assert page.status_code == 200
    assert warning(year) in page.text
    this_year = today_local().year
    default_page = await admin_client.get("/admin/holidays")
    for checked in (this_year, this_year + 1):
        assert (warning(checked) in default_page.text) is not statutory_year_known(checked)

    # A 2027-style date is counted Monday to Friday until then.
    friday = next(
        dt.date(year, 1, day) for day in range(1, 8) if dt.date(year, 1, day).weekday() == 4
    )
    assert await add_working_days(friday, 1) == friday + dt.timedelta(days=3)

    monday, saturday = friday + dt.timedelta(days=3), friday + dt.timedelta(days=1)
    lines = f"{monday.isoformat()} 示例假日\n{saturday.isoformat()} 上班 示例调休"
    response = await post_notice(admin_client, year, lines)
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/holidays?year={year}&added=2"
    page = await admin_client.get(response.headers["location"])
    assert warning(year) not in page.text
    assert "已录入 2 天" in page.text
    assert "示例假日" in page.text and "调休上班" in page.text
    assert await add_working_days(friday, 1) == saturday
    actions = [event["action"] for event in await recent_events(action_prefix="holiday.")]
    assert actions == ["holiday.added", "holiday.added"]


async def test_a_notice_with_a_bad_line_is_refused_naming_the_line_and_nothing_is_written(
    admin_client: Client,
) -> None:
    lines = "2021-01-01 元旦\n2021-02-31..2021-02-33 春节\n2021-02-07 上班 春节调休"
    response = await post_notice(admin_client, 2021, lines)
    assert response.status_code == 400
    assert "第 2 行" in response.text
    assert "2021-02-31" in response.text
    assert "未录入任何内容" in response.text
    assert "2021-02-07 上班 春节调休" in response.text  # the text is kept for correction
    assert await HolidayOverride.count() == 0
    assert await recent_events(action_prefix="holiday.") == []


async def test_a_bad_year_is_a_400_with_its_reason(admin_client: Client) -> None:
    response = await post_notice(admin_client, "二〇二七", "2027-01-01 元旦")
    assert response.status_code == 400
    assert "年份须为 2000 至 2100 之间的整数" in response.text
    assert await HolidayOverride.count() == 0


async def test_deleting_an_entered_day_is_recorded_and_a_missing_one_is_404(
    admin_client: Client,
) -> None:
    assert (await post_notice(admin_client, 2020, "2020-11-09 县庆")).status_code == 303
    row = await HolidayOverride.select(HolidayOverride.id).first()
    assert row is not None
    form = await csrf_form(admin_client, "/admin/holidays")
    response = await admin_client.post(
        f"/admin/holidays/{row['id']}/delete", data=form, follow_redirects=False
    )
    assert response.status_code == 303
    assert await HolidayOverride.count() == 0
    events = await recent_events(action_prefix="holiday.")
    assert events[0]["action"] == "holiday.removed"
    assert '"name":"县庆"' in events[0]["payload"]
    missing = await admin_client.post(
        f"/admin/holidays/{row['id']}/delete", data=form, follow_redirects=False
    )
    assert missing.status_code == 404


async def test_the_holiday_pages_are_for_admins_only(client: Client) -> None:
    await sign_in(client, "officer")
    assert (await client.get("/admin/holidays")).status_code == 403
    assert (await client.get("/api/v1/admin/holidays")).status_code == 403
