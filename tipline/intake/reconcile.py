"""Reconciliation of the tip register with the custody ledger (issue 5, item 4).

Why: a tip can be hidden or lost (隐藏、扣压、遗失) without touching the ledger — by
deleting its row, or by receiving tips while the ledger no longer records them. The
job compares three counts that are written in one transaction on submission and so
must always agree: the ``Tip`` rows by ledger number, the ``tip.received`` events
(their ``ledger_no``) and the per-year ``TipCounter`` (numbers 1..last_seq, no gaps).
Any mismatch, or a ledger that stopped growing while the intake counter grew since
the last run, appends a ``ledger.alarm`` event, which the inspector's /ledger page
lists, and tells every discipline inspector in their inbox (and by e-mail when SMTP is
configured). The same alarm is not appended twice in a row.

It lives in intake (not ledger) because the ledger imports no domain package.
"""

from __future__ import annotations

from typing import Any

import msgspec

from tipline import db
from tipline.auth import Role
from tipline.intake.tables import Tip, TipCounter
from tipline.ledger.services import SYSTEM, append_event, recent_events
from tipline.ledger.tables import CustodyEvent, LedgerHead
from tipline.notifications import services as notifications

ALARM = "ledger.alarm"
SHOWN = 20

_last_seen: dict[str, int] = {}


async def _received_numbers() -> set[str]:
    numbers: set[str] = set()
    last = 0
    while True:
        rows = (
            await CustodyEvent.select(CustodyEvent.seq, CustodyEvent.payload)
            .where((CustodyEvent.action == "tip.received") & (CustodyEvent.seq > last))
            .order_by(CustodyEvent.seq)
            .limit(5000)
        )
        if not rows:
            return numbers
        for row in rows:
            number = msgspec.json.decode(row["payload"]).get("ledger_no")
            if isinstance(number, str):
                numbers.add(number)
        last = rows[-1]["seq"]


async def findings() -> dict[str, Any]:
    """What disagrees now (an empty dict when everything matches)."""
    tips = await Tip.select(Tip.ledger_no, Tip.ledger_year, Tip.ledger_seq)
    numbers = {row["ledger_no"] for row in tips}
    events = await _received_numbers()
    counters = {row["year"]: row["last_seq"] for row in await TipCounter.select()}
    expected = {
        f"{year}-{seq:06d}" for year, last in counters.items() for seq in range(1, last + 1)
    }
    found: dict[str, Any] = {}
    if numbers - events:
        found["tips_without_event"] = sorted(numbers - events)[:SHOWN]
    if events - numbers:
        found["events_without_tip"] = sorted(events - numbers)[:SHOWN]
    if expected - numbers:
        found["numbers_missing"] = sorted(expected - numbers)[:SHOWN]
    if numbers - expected:
        found["numbers_beyond_counter"] = sorted(numbers - expected)[:SHOWN]
    head = await LedgerHead.select(LedgerHead.seq).where(LedgerHead.id == 1).first()
    ledger_size = head["seq"] if head else 0
    counted = sum(counters.values())
    before = dict(_last_seen)
    _last_seen.update({"ledger": ledger_size, "counter": counted})
    if before and counted > before["counter"] and ledger_size <= before["ledger"]:
        found["ledger_stalled"] = {"ledger": ledger_size, "counter": counted}
    if found:
        found.update({"tips": len(numbers), "events": len(events), "counter": counted})
    return found


async def reconcile() -> dict[str, Any]:
    """Run the comparison; append a ``ledger.alarm`` event when something disagrees."""
    found = await findings()
    if not found:
        return found
    latest = await recent_events(limit=1, action_prefix=ALARM)
    if latest and msgspec.json.decode(latest[0]["payload"]) == found:
        return found
    async with db.write_transaction():
        event = await append_event(SYSTEM, ALARM, "ledger", "reconcile", found)
        await notifications.notify_role(
            Role.inspector,
            "alarm",
            "notifications.alarm.reconcile",
            {"seq": str(event["seq"])},
            "/ledger",
            dedupe_key=f"ledger.alarm:{event['seq']}",
        )
    return found


async def reconcile_job() -> None:
    await reconcile()
