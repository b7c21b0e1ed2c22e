"""The working-day calendar: statutory holidays, make-up days, county notices, the fallback."""

from __future__ import annotations

import datetime as dt

import pytest

from tipline.ledger.services import Actor, events_for, recent_events
from tipline.ledger.tables import CustodyEvent
from tipline.settings import Settings
from tipline.workdays import services
from tipline.workdays.services import (
    NoticeInvalid,
    add_notice,
    add_working_days,
    due_date,
    is_working_day,
    load_calendar,
    remove_override,
    statutory_year_known,
    uncovered_years,
)
from tipline.workdays.tables import HolidayOverride

ADMIN = Actor.account(1)


def first_unknown_year() -> int:
    """The first year chinese_calendar has no notice for (2027 with chinese_calendar 1.11)."""
    year = 2026
    while statutory_year_known(year):
        year += 1
    return year


async def test_national_day_2020_is_a_holiday_and_the_saturday_after_a_working_day(
    tipline_db: Settings,
) -> None:
    for day in range(1, 9):
        assert not await is_working_day(dt.date(2020, 10, day)), f"2020-10-0{day}"
    assert await is_working_day(dt.date(2020, 10, 9))
    assert dt.date(2020, 10, 10).weekday() == 5
    assert await is_working_day(dt.date(2020, 10, 10))
    assert not await is_working_day(dt.date(2020, 10, 11))


async def test_one_working_day_after_30_september_2020_is_9_october(tipline_db: Settings) -> None:
    assert await add_working_days(dt.date(2020, 9, 30), 1) == dt.date(2020, 10, 9)
    # The make-up Saturday counts: 9 Oct (Fri), 10 Oct (Sat, 调休), 12 Oct (Mon).
    assert await add_working_days(dt.date(2020, 9, 30), 3) == dt.date(2020, 10, 12)


async def test_working_days_skip_a_weekend_and_never_count_the_start(tipline_db: Settings) -> None:
    friday = dt.date(2020, 11, 6)
    assert await add_working_days(friday, 1) == dt.date(2020, 11, 9)
    assert await add_working_days(friday, 5) == dt.date(2020, 11, 13)
    assert await add_working_days(dt.date(2020, 11, 7), 1) == dt.date(2020, 11, 9)
    assert await add_working_days(friday, 0) == friday
    with pytest.raises(ValueError):
        await add_working_days(friday, -1)


async def test_a_county_notice_makes_a_day_a_holiday_or_a_working_day(tipline_db: Settings) -> None:
    friday = dt.date(2020, 11, 6)
    await add_notice(ADMIN, "2020", "2020-11-09 县庆")
    assert not await is_working_day(dt.date(2020, 11, 9))
    assert await add_working_days(friday, 1) == dt.date(2020, 11, 10)

    await add_notice(ADMIN, "2020", "2020-11-08 上班 县庆调休")
    assert await is_working_day(dt.date(2020, 11, 8))
    assert await add_working_days(friday, 1) == dt.date(2020, 11, 8)

    # The override wins over chinese_calendar: a statutory holiday made a working day.
    await add_notice(ADMIN, "2020", "2020-10-08 班 示例")
    assert await is_working_day(dt.date(2020, 10, 8))

    events = await recent_events(action_prefix="holiday.")
    assert [event["action"] for event in events] == ["holiday.added"] * 3
    assert '"day":"2020-11-09"' in events[-1]["payload"]
    assert '"is_working_day":false' in events[-1]["payload"]


async def test_a_range_adds_every_day_with_its_own_custody_event(tipline_db: Settings) -> None:
    notice = await add_notice(
        ADMIN,
        "2020",
        "# 县政府通知\n\n2020-12-01..2020-12-03 示例假期\n2020-12-05 ~ 2020-12-05 示例\n",
    )
    assert notice.year == 2020
    assert [day.day.day for day in notice.days] == [1, 2, 3, 5]
    assert await HolidayOverride.count() == 4
    assert len(await events_for("holiday_override", notice.days[0].id)) == 1


async def test_a_year_nobody_covers_falls_back_to_monday_to_friday_and_says_so(
    tipline_db: Settings,
) -> None:
    year = first_unknown_year()
    assert await uncovered_years([2020, year, year + 1]) == [year, year + 1]
    start = dt.date(year, 3, 5)
    due = await due_date(start, 3)
    assert due.fallback_years == (year,)
    expected = start
    for _ in range(3):
        expected += dt.timedelta(days=1)
        while expected.weekday() >= 5:
            expected += dt.timedelta(days=1)
    assert due.day == expected
    assert (await due_date(dt.date(2020, 3, 5), 3)).fallback_years == ()

    # Once the county enters that year's notice, the year is covered and the notice counts.
    await add_notice(ADMIN, str(year), f"{expected.isoformat()} 示例假日")
    assert await uncovered_years([year]) == []
    later = await due_date(start, 3)
    assert later.fallback_years == ()
    assert later.day > expected


async def test_a_bad_line_names_the_line_and_writes_nothing(tipline_db: Settings) -> None:
    text = "2021-01-01 元旦\n2021-02-30 春节\n2021-03-01\nnonsense\n2020-05-01 劳动节\n"
    with pytest.raises(NoticeInvalid) as caught:
        await add_notice(ADMIN, "2021", text)
    errors = {error.line: error.key for error in caught.value.errors}
    assert errors == {
        2: "workdays.notice.error.date",
        3: "workdays.notice.error.name",
        4: "workdays.notice.error.format",
        5: "workdays.notice.error.year",
    }
    assert await HolidayOverride.count() == 0
    assert await CustodyEvent.count() == 0


@pytest.mark.parametrize(
    ("year", "text", "key"),
    [
        ("20x1", "2021-01-01 元旦", "workdays.notice.error.bad_year"),
        ("2021", "\n# only a comment\n", "workdays.notice.error.empty"),
        ("2021", "2021-02-12..2021-02-10 春节", "workdays.notice.error.range_order"),
        ("2021", "2021-01-01..2021-03-01 太长", "workdays.notice.error.range_long"),
        ("2021", "2021-01-01 " + "长" * 101, "workdays.notice.error.name_long"),
        ("2021", "2021-01-01 元旦\n2020-12-31..2021-01-02 元旦", "workdays.notice.error.year"),
        (
            "2021",
            "2021-01-01 元旦\n2021-01-01..2021-01-02 元旦",
            "workdays.notice.error.duplicate",
        ),
    ],
)
async def test_each_kind_of_bad_notice_is_refused(
    tipline_db: Settings, year: str, text: str, key: str
) -> None:
    with pytest.raises(NoticeInvalid) as caught:
        await add_notice(ADMIN, year, text)
    assert key in {error.key for error in caught.value.errors}
    assert await HolidayOverride.count() == 0


async def test_a_day_already_entered_is_refused_and_nothing_else_of_the_notice_written(
    tipline_db: Settings,
) -> None:
    await add_notice(ADMIN, "2021", "2021-06-01 示例")
    with pytest.raises(NoticeInvalid) as caught:
        await add_notice(ADMIN, "2021", "2021-05-31 示例\n2021-06-01 示例")
    assert [(error.line, error.key) for error in caught.value.errors] == [
        (2, "workdays.notice.error.exists")
    ]
    assert await HolidayOverride.count() == 1


async def test_removing_a_day_restores_the_calendar_and_is_recorded(tipline_db: Settings) -> None:
    notice = await add_notice(ADMIN, "2020", "2020-11-09 县庆")
    assert not await is_working_day(dt.date(2020, 11, 9))
    await remove_override(ADMIN, notice.days[0].id)
    assert await is_working_day(dt.date(2020, 11, 9))
    timeline = await events_for("holiday_override", notice.days[0].id)
    assert [event["action"] for event in timeline] == ["holiday.added", "holiday.removed"]
    with pytest.raises(services.HolidayOverrideNotFound):
        await remove_override(ADMIN, notice.days[0].id)


async def test_the_calendar_is_cached_until_the_notices_change(tipline_db: Settings) -> None:
    first = await load_calendar()
    assert await load_calendar() is first
    await add_notice(ADMIN, "2020", "2020-11-09 县庆")
    second = await load_calendar()
    assert second is not first
    assert second.revision == first.revision + 1
    assert await load_calendar() is second
