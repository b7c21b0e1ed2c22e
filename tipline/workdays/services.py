"""Working days: Chinese statutory holidays, make-up working days and the county's notices.

Due dates are counted in working days (工作日). The rule behind the calendar: each
year the General Office of the State Council publishes the holiday arrangement
(国务院办公厅关于××年部分节假日安排的通知) under the 全国年节及纪念日放假办法
(State Council Decree No. 270, as amended 2024), which names the holidays and the
weekend days that become working days (调休上班). A day is decided in this order:

1. the county's override table (:class:`HolidayOverride`), where an admin enters a
   year's official notice — it wins over everything below;
2. the ``chinese_calendar`` package, which knows the State Council notices of
   2004–2026 and raises ``NotImplementedError`` for later years;
3. for a year neither covers: Monday to Friday. This fallback is never silent: every
   result that used it says so (:class:`DueDate.fallback_years`,
   :func:`uncovered_years`) and the admin holidays page shows a warning.

Design: :class:`WorkingCalendar` is a synchronous, immutable snapshot (pure date
arithmetic, for sweeps that compute many dates in a loop). :func:`load_calendar`
is the async loader: each process keeps the override table in memory and re-reads
it only when :class:`CalendarRevision` (bumped in every change's transaction) differs
from the revision it holds, so a request costs one single-row query, and several
worker processes see an admin's change on their next call. The async helpers
:func:`add_working_days`, :func:`is_working_day` and :func:`due_date` load and ask
in one step.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import sqlite3
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import chinese_calendar
import msgspec
from piccolo.engine.base import Engine

from tipline import db
from tipline.errors import Conflict, Invalid, NotFound
from tipline.ledger.services import Actor, append_event
from tipline.workdays.tables import CalendarRevision, HolidayOverride

LOCAL_TIMEZONE = ZoneInfo("Asia/Shanghai")
MAX_WORKING_DAYS = 3660
"""Refuse absurd spans: ten years of working days is more than any legal deadline."""


def today_local() -> dt.date:
    """Today's date in China (deadlines are counted in local days, not UTC days)."""
    return dt.datetime.now(LOCAL_TIMEZONE).date()


class YearSource(StrEnum):
    """Where a year's holidays come from."""

    statutory = "statutory"  # the chinese_calendar package (State Council notices)
    county = "county"  # the county's override table
    fallback = "fallback"  # neither: Monday to Friday


@functools.cache
def statutory_year_known(year: int) -> bool:
    """Whether ``chinese_calendar`` has the State Council's notice for ``year``."""
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


class CalendarCoverage(msgspec.Struct, frozen=True):
    """Which of the asked years have a holiday arrangement, and from where."""

    year: int
    sources: list[YearSource]

    @property
    def uses_fallback(self) -> bool:
        return YearSource.fallback in self.sources


class DueDate(msgspec.Struct, frozen=True):
    """A due date and the years whose days were counted Monday to Friday for lack of data."""

    day: dt.date
    fallback_years: tuple[int, ...] = ()


class WorkingCalendar:
    """One snapshot of the county's overrides on top of ``chinese_calendar``: sync and pure."""

    def __init__(self, overrides: Mapping[dt.date, bool], revision: int = 0) -> None:
        self.overrides = dict(overrides)
        self.revision = revision
        self.county_years = frozenset(day.year for day in self.overrides)
        # Answers so far: chinese_calendar checks its whole table's range on every call
        # (~25 µs), and statistics ask about the same few thousand days millions of times.
        self._working: dict[dt.date, bool] = {}

    def sources(self, year: int) -> list[YearSource]:
        found = []
        if year in self.county_years:
            found.append(YearSource.county)
        if statutory_year_known(year):
            found.append(YearSource.statutory)
        return found or [YearSource.fallback]

    def coverage(self, year: int) -> CalendarCoverage:
        return CalendarCoverage(year, self.sources(year))

    def uses_fallback(self, year: int) -> bool:
        return year not in self.county_years and not statutory_year_known(year)

    def uncovered_years(self, years: Iterable[int]) -> list[int]:
        """The years among ``years`` whose working days can only be guessed (Monday–Friday)."""
        return sorted({year for year in years if self.uses_fallback(year)})

    def is_working_day(self, day: dt.date) -> bool:
        known = self._working.get(day)
        if known is None:
            known = self._working[day] = self._is_working_day(day)
        return known

    def _is_working_day(self, day: dt.date) -> bool:
        override = self.overrides.get(day)
        if override is not None:
            return override
        if statutory_year_known(day.year):
            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < 5

    def due(self, start: dt.date, n: int) -> DueDate:
        """The ``n``-th working day after ``start``; ``start`` itself is never counted.

        So a 1-working-day deadline for something received on Friday falls on the
        next Monday (if that is a working day), and ``n == 0`` gives ``start``
        unchanged — the caller decides whether a deadline of "today" makes sense.
        """
        if n < 0:
            raise ValueError("n must be 0 or more working days")
        if n > MAX_WORKING_DAYS:
            raise ValueError(f"n must be at most {MAX_WORKING_DAYS} working days")
        day = start
        fallback: set[int] = set()
        remaining = n
        while remaining:
            day += dt.timedelta(days=1)
            if self.uses_fallback(day.year):
                fallback.add(day.year)
            if self.is_working_day(day):
                remaining -= 1
        return DueDate(day, tuple(sorted(fallback)))

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """See :meth:`due`; this returns the day only."""
        return self.due(start, n).day


_cached: tuple[Engine[Any], WorkingCalendar] | None = None


async def _current_revision() -> int:
    # A plain statement: the tip box asks this inside its transaction for every tip.
    rows = await db.fetch(CalendarRevision, "SELECT revision FROM calendar_revision WHERE id = 1")
    return int(rows[0]["revision"]) if rows else 0


async def load_calendar() -> WorkingCalendar:
    """The calendar of the bound database, re-read only when an admin changed it.

    The revision is read before the rows: a change that commits in between makes
    the next call reload again, never keeps stale rows under a new revision.
    """
    global _cached
    engine = db.engine()
    revision = await _current_revision()
    if _cached is not None and _cached[0] is engine and _cached[1].revision == revision:
        return _cached[1]
    rows = await HolidayOverride.select(HolidayOverride.day, HolidayOverride.is_working_day)
    calendar = WorkingCalendar(
        {_as_date(row["day"]): bool(row["is_working_day"]) for row in rows}, revision
    )
    _cached = (engine, calendar)
    return calendar


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


async def add_working_days(start: dt.date, n: int) -> dt.date:
    """The ``n``-th working day after ``start`` (``start`` not counted; ``n == 0`` → ``start``).

    Use :func:`due_date` when the caller must know (and show) that a year was
    counted Monday to Friday.
    """
    return (await load_calendar()).add_working_days(start, n)


async def due_date(start: dt.date, n: int) -> DueDate:
    """Like :func:`add_working_days`, with the years that used the Monday–Friday fallback."""
    return (await load_calendar()).due(start, n)


async def is_working_day(day: dt.date) -> bool:
    return (await load_calendar()).is_working_day(day)


async def uncovered_years(years: Iterable[int]) -> list[int]:
    """The years among ``years`` counted Monday to Friday for lack of a holiday arrangement."""
    return (await load_calendar()).uncovered_years(years)


# --- The county's holiday notices -------------------------------------------------

MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_RANGE_DAYS = 31
MAX_NAME_LENGTH = 100
WORKING_DAY_MARKERS = frozenset({"上班", "班", "work"})
RANGE_SEPARATORS = ("..", "至", "~")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


class LineError(msgspec.Struct, frozen=True):
    """What is wrong with one line of a holiday notice (line 0: the form as a whole)."""

    line: int
    text: str
    key: str
    values: dict[str, Any] = {}


class NoticeInvalid(Invalid):
    """The holiday notice has lines that cannot be read; nothing was written."""

    message_key = "workdays.notice.invalid"

    def __init__(self, errors: list[LineError]) -> None:
        first = errors[0]
        super().__init__(count=len(errors), line=first.line)
        self.errors = errors


class NoticeConflict(Conflict):
    message_key = "workdays.notice.error.conflict"


class HolidayOverrideNotFound(NotFound):
    message_key = "workdays.holiday.not_found"


class NoticeDay(msgspec.Struct, frozen=True):
    day: dt.date
    is_working_day: bool
    name: str
    line: int


class HolidayOverrideOut(msgspec.Struct, frozen=True):
    id: int
    day: dt.date
    is_working_day: bool
    name: str


class YearNotice(msgspec.Struct, frozen=True):
    year: int
    days: list[HolidayOverrideOut]


class HolidaysOverview(msgspec.Struct, frozen=True):
    """What the admin holidays page shows: the entered notices and each checked year's coverage."""

    notices: list[YearNotice]
    coverage: list[CalendarCoverage]
    uncovered_years: list[int]


def _parse_day(token: str) -> dt.date | None:
    match = _DATE.match(token)
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _split_range(token: str) -> tuple[str, str] | None:
    for separator in RANGE_SEPARATORS:
        if separator in token:
            first, _, last = token.partition(separator)
            return first, last
    return None


def _parse_line(number: int, text: str, year: int) -> list[NoticeDay] | LineError:
    """One line: ``DATE[..DATE] [上班] NAME``; see :func:`parse_notice`."""
    tokens = text.split()
    # "2027-02-06 .. 2027-02-12 春节": allow spaces around the range separator.
    if len(tokens) >= 3 and tokens[1] in RANGE_SEPARATORS:
        tokens = [tokens[0] + tokens[1] + tokens[2], *tokens[3:]]
    when, rest = tokens[0], tokens[1:]
    is_working_day = bool(rest) and rest[0].lower() in WORKING_DAY_MARKERS
    if is_working_day:
        rest = rest[1:]
    name = " ".join(rest)
    bounds = _split_range(when)
    first_text, last_text = bounds if bounds else (when, when)
    first, last = _parse_day(first_text), _parse_day(last_text)
    for token, value in ((first_text, first), (last_text, last)):
        if value is None:
            key = (
                "workdays.notice.error.date"
                if _DATE.match(token)
                else "workdays.notice.error.format"
            )
            return LineError(number, text, key, {"value": token})
    assert first is not None and last is not None
    if last < first:
        return LineError(number, text, "workdays.notice.error.range_order", {"value": when})
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        return LineError(number, text, "workdays.notice.error.range_long", {"max": MAX_RANGE_DAYS})
    if first.year != year or last.year != year:
        return LineError(number, text, "workdays.notice.error.year", {"year": year})
    if not name:
        return LineError(number, text, "workdays.notice.error.name", {})
    if len(name) > MAX_NAME_LENGTH:
        return LineError(number, text, "workdays.notice.error.name_long", {"max": MAX_NAME_LENGTH})
    return [
        NoticeDay(first + dt.timedelta(days=offset), is_working_day, name, number)
        for offset in range((last - first).days + 1)
    ]


def parse_notice(year_text: str, text: str) -> tuple[int, list[NoticeDay]]:
    """Read a year's holiday notice as typed on the admin page; every bad line is reported.

    One line per date or date range, blank lines and lines starting with ``#`` ignored::

        2027-01-01 元旦                      a holiday
        2027-02-06..2027-02-12 春节          holidays from the first to the last day
        2027-02-14 上班 春节调休              a make-up working day (上班, 班 or work)

    A range may also be written ``至`` or ``~``. Every date must fall in the year
    given; a date may appear only once.
    """
    errors: list[LineError] = []
    try:
        year = int(year_text.strip())
    except ValueError:
        year = 0
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise NoticeInvalid(
            [
                LineError(
                    0,
                    year_text,
                    "workdays.notice.error.bad_year",
                    {"min": MIN_YEAR, "max": MAX_YEAR},
                )
            ]
        )
    days: list[NoticeDay] = []
    seen: dict[dt.date, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parsed = _parse_line(number, line, year)
        if isinstance(parsed, LineError):
            errors.append(parsed)
            continue
        duplicate = next((item for item in parsed if item.day in seen), None)
        if duplicate is not None:
            errors.append(
                LineError(
                    number,
                    line,
                    "workdays.notice.error.duplicate",
                    {"day": duplicate.day.isoformat(), "other": seen[duplicate.day]},
                )
            )
            continue
        for item in parsed:
            seen[item.day] = number
        days.extend(parsed)
    if not errors and not days:
        errors.append(LineError(0, "", "workdays.notice.error.empty", {}))
    if errors:
        raise NoticeInvalid(errors)
    return year, days


async def _bump_revision() -> None:
    await CalendarRevision.insert(CalendarRevision(id=1, revision=0)).on_conflict(
        action="DO NOTHING"
    )
    await CalendarRevision.update({CalendarRevision.revision: CalendarRevision.revision + 1}).where(
        CalendarRevision.id == 1
    )


async def add_notice(actor: Actor, year_text: str, text: str) -> YearNotice:
    """Enter a year's official holiday notice: all its lines, or nothing.

    A date already entered is refused (delete it first), so a notice can be
    completed in several submissions but never silently overwritten.
    """
    year, days = parse_notice(year_text, text)
    added: list[HolidayOverrideOut] = []
    try:
        async with db.write_transaction():
            existing = await HolidayOverride.select(HolidayOverride.day).where(
                HolidayOverride.day.is_in([item.day for item in days])
            )
            taken = {_as_date(row["day"]) for row in existing}
            if taken:
                raise NoticeInvalid(
                    [
                        LineError(
                            item.line,
                            item.day.isoformat(),
                            "workdays.notice.error.exists",
                            {"day": item.day.isoformat()},
                        )
                        for item in days
                        if item.day in taken
                    ]
                )
            for item in days:
                row = await HolidayOverride.insert(
                    HolidayOverride(
                        day=item.day, is_working_day=item.is_working_day, name=item.name
                    )
                ).returning(HolidayOverride.id)
                override_id = int(row[0]["id"])
                await append_event(
                    actor,
                    "holiday.added",
                    "holiday_override",
                    override_id,
                    _payload(item.day, item.is_working_day, item.name),
                )
                added.append(
                    HolidayOverrideOut(override_id, item.day, item.is_working_day, item.name)
                )
            await _bump_revision()
    except (sqlite3.IntegrityError, asyncpg.UniqueViolationError) as error:
        # Another admin entered the same day at the same moment.
        raise NoticeConflict() from error
    return YearNotice(year, added)


def _payload(day: dt.date, is_working_day: bool, name: str) -> dict[str, Any]:
    return {"day": day.isoformat(), "is_working_day": is_working_day, "name": name}


async def remove_override(actor: Actor, override_id: int) -> None:
    """Delete one entered day (a typo, a revised notice); the custody chain keeps what it was."""
    async with db.write_transaction():
        row = await HolidayOverride.select().where(HolidayOverride.id == override_id).first()
        if row is None:
            raise HolidayOverrideNotFound(id=override_id)
        await HolidayOverride.delete().where(HolidayOverride.id == override_id)
        await append_event(
            actor,
            "holiday.removed",
            "holiday_override",
            override_id,
            _payload(_as_date(row["day"]), bool(row["is_working_day"]), row["name"]),
        )
        await _bump_revision()


async def holidays_overview(check_year: int | None = None) -> HolidaysOverview:
    """The entered notices by year, and the coverage of this year, next year and ``check_year``.

    This year and next are always checked, so the warning appears in time for an
    admin to enter the county's notice (published each December) before it is needed.
    """
    calendar = await load_calendar()
    rows = await HolidayOverride.select().order_by(HolidayOverride.day)
    by_year: dict[int, list[HolidayOverrideOut]] = {}
    for row in rows:
        day = _as_date(row["day"])
        by_year.setdefault(day.year, []).append(
            HolidayOverrideOut(row["id"], day, bool(row["is_working_day"]), row["name"])
        )
    this_year = today_local().year
    years = {this_year, this_year + 1, *by_year}
    if check_year is not None:
        years.add(check_year)
    return HolidaysOverview(
        notices=[YearNotice(year, days) for year, days in sorted(by_year.items())],
        coverage=[calendar.coverage(year) for year in sorted(years)],
        uncovered_years=calendar.uncovered_years(years),
    )
