"""Tips with a receipt time in the past, for deadline tests with frozen time."""

from __future__ import annotations

import datetime as dt
import secrets

from tipline.cases import lifecycle
from tipline.cases.tables import CaseFile
from tipline.intake.tables import Tip
from tipline.ledger.services import TIPSTER, append_event

CHINA = dt.timezone(dt.timedelta(hours=8))


def china(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=CHINA)


async def received_tip(
    at: dt.datetime, *, real_name: bool = False, officer_id: int | None = None
) -> tuple[int, str]:
    """A tip row as the tip box stores it, received at ``at``, with its ``tip.received``
    event and the receipt announcement the tip box makes (so its due dates are stored)."""
    seq = secrets.randbelow(900_000) + 1
    ledger_no = f"{at.year}-{seq:06d}"
    rows = await Tip.insert(
        Tip(
            ledger_no=ledger_no,
            ledger_year=at.year,
            ledger_seq=seq,
            channel="web",
            status="received",
            received_at=at,
            receipt_mac=secrets.token_hex(32),
            tipster_public_key="00" * 32,
            content=b"sealed",
            has_identity=real_name,
        )
    ).returning(Tip.id)
    tip_id = int(rows[0]["id"])
    await append_event(TIPSTER, "tip.received", "tip", tip_id, {"ledger_no": ledger_no})
    await lifecycle.announce_received(tip_id, ledger_no, at, TIPSTER)
    if officer_id is not None:
        await CaseFile.insert(
            CaseFile(tip=tip_id, category="village_bully", assigned_officer_id=officer_id)
        )
    return tip_id, ledger_no
