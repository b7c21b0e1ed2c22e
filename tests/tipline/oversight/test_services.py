"""Oversight's pure rules: working days between two dates, statistics of a known ledger,
note and ledger-number checks, and SVG that parses and escapes what it is given."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from tipline.oversight import charts
from tipline.oversight.exceptions import ExportRequestInvalid, NoteInvalid
from tipline.oversight.schemas import DeadlineFacts, LedgerRow, TransferFacts
from tipline.oversight.services import (
    clean_note,
    compute_statistics,
    deadline_state,
    parse_ledger_nos,
    working_days_between,
)
from tipline.workdays.services import WorkingCalendar

CALENDAR = WorkingCalendar({})
SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        ("2020-04-27", "2020-04-27", 0),
        ("2020-04-27", "2020-04-26", 0),
        ("2020-04-30", "2020-05-06", 1),  # 05-01..05 Labour Day
        ("2020-05-08", "2020-05-09", 1),  # Saturday 05-09 is a make-up working day
        ("2020-09-30", "2020-10-09", 1),  # 10-01..08 National Day and Mid-Autumn
        ("2020-10-09", "2020-10-12", 2),  # Saturday 10-10 is a make-up working day
        ("2020-04-24", "2020-04-27", 2),  # Sunday 04-26 is a make-up working day
    ],
)
def test_working_days_between_across_the_2020_holidays(start: str, end: str, days: int) -> None:
    assert (
        working_days_between(CALENDAR, dt.date.fromisoformat(start), dt.date.fromisoformat(end))
        == days
    )


def _row(
    received: str,
    *,
    category: str | None = None,
    township: str | None = None,
    transfers: list[TransferFacts] | None = None,
    deadlines: list[DeadlineFacts] | None = None,
) -> LedgerRow:
    return LedgerRow(
        ledger_no="2020-000001",
        received_on=dt.date.fromisoformat(received),
        received_at=received + " 10:00",
        channel="web",
        status="received",
        category=category,
        township=township,
        assigned_officer=None,
        transfers=transfers or [],
        deadlines=deadlines or [],
    )


def _transfer(on: str, feedback: str | None = None) -> TransferFacts:
    return TransferFacts(
        authority="县公安局",
        document_no="1",
        transferred_on=dt.date.fromisoformat(on),
        acknowledged_on=None,
        feedback_on=dt.date.fromisoformat(feedback) if feedback else None,
    )


def test_statistics_of_a_known_ledger() -> None:
    due = dt.date(2020, 5, 6)
    rows = [
        _row(
            "2020-04-27",
            category="usury",
            township="东镇",
            transfers=[_transfer("2020-05-06", "2020-05-12"), _transfer("2020-06-01")],
            deadlines=[DeadlineFacts("transfer", due, due, "met")],
        ),
        _row(
            "2020-04-29",
            category="usury",
            transfers=[_transfer("2020-05-07")],
            deadlines=[DeadlineFacts("transfer", due, dt.date(2020, 5, 7), "late")],
        ),
        _row("2020-06-01", deadlines=[DeadlineFacts("transfer", due, None, "open")]),
    ]
    numbers = compute_statistics(rows, CALENDAR, "en")
    assert [(i.label, i.count) for i in numbers.per_month] == [
        ("2020-04", 2),
        ("2020-05", 0),
        ("2020-06", 1),
    ]
    assert [(i.label, i.count) for i in numbers.per_category] == [
        ("Illegal lending, violent debt collection, loan traps", 2),
        ("not registered", 1),
    ]
    assert {i.label: i.count for i in numbers.per_township} == {"东镇": 1, "not given": 2}
    # 04-27 → 05-06: 4; 04-29 → 05-07: 30, 05-06, 05-07 = 3; the first transfer counts.
    assert numbers.median_days_to_transfer == 3.5 and numbers.transfers_counted == 2
    assert numbers.median_days_to_feedback == 5 and numbers.feedbacks_counted == 1
    (rate,) = numbers.on_time
    assert (rate.kind, rate.on_time, rate.late, rate.rate) == ("transfer", 1, 1, 0.5)

    across = compute_statistics([_row("2020-11-30"), _row("2021-02-01")], CALENDAR, "en")
    assert [i.label for i in across.per_month] == ["2020-11", "2020-12", "2021-01", "2021-02"]
    empty = compute_statistics([], CALENDAR, "zh-CN")
    assert empty.total == 0 and empty.median_days_to_transfer is None and empty.on_time == []


def test_deadline_states() -> None:
    due = dt.date(2026, 3, 10)
    assert deadline_state(due, due, due + dt.timedelta(days=9)) == "met"
    assert deadline_state(due, due + dt.timedelta(days=1), due) == "late"
    assert deadline_state(due, None, due) == "open"
    assert deadline_state(due, None, due + dt.timedelta(days=1)) == "overdue"


def test_notes_and_ledger_numbers_are_checked() -> None:
    assert clean_note("  催办 \r\n 反馈  ") == "催办\n 反馈"
    assert len(clean_note("字" * 500)) == 500
    for bad in ("", " \n ", "字" * 501):
        with pytest.raises(NoteInvalid):
            clean_note(bad)
    assert parse_ledger_nos("2026-000002, 2026-000001，2026-000002\n") == [
        "2026-000001",
        "2026-000002",
    ]
    for bad in ("", "2026-1", "2026-000001 DROP", " ".join(["2026-000001"] * 501)):
        with pytest.raises(ExportRequestInvalid):
            parse_ledger_nos(bad)


def test_charts_parse_name_themselves_and_escape_labels() -> None:
    for svg in (
        charts.bar_chart("按<类别>", [("A&B", 3), ("</svg><script>", 1.5)]),
        charts.bar_chart("空", [], empty="暂无数据"),
        charts.line_chart("每月", [("2026-01", 2), ("2026-02", 0), ("2026-03", 5)]),
        charts.line_chart("每月", [("2026-01", 2)]),
        charts.line_chart("每月", []),
    ):
        root = ET.fromstring(str(svg))
        assert root.tag == f"{SVG}svg" and root.get("role") == "img"
        title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
        assert title is not None and desc is not None
        assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
        assert root.find(f".//{SVG}script") is None
        assert "style=" not in str(svg)
    bars = ET.fromstring(str(charts.bar_chart("t", [("a", 4), ("b", 2)])))
    widths = [float(rect.get("width", "0")) for rect in bars.iter(f"{SVG}rect")]
    assert widths[0] == 2 * widths[1] > 0
