"""Building a known ledger for oversight tests: tips through the API, then registered,
transferred and answered through the lifecycle, with transfer dates set on purpose."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Litestar

from tests.conftest import extra_client
from tipline import db
from tipline.authorities.tables import Authority, Transfer
from tipline.cases.lifecycle import Action, apply_transition
from tipline.cases.tables import CaseFile
from tipline.crypto import services as crypto
from tipline.intake.tables import Tip
from tipline.ledger.services import Actor
from tipline.orgunits.tables import OrgUnit, OrgUnitKind
from tipline.settings import Settings

TIP_TEXT = "MARKER-4471 村主任强占集体鱼塘"
CHINA = dt.timezone(dt.timedelta(hours=8))


async def open_box(settings: Settings) -> None:
    await crypto.init_escrow_key(settings.data_dir / "escrow-test.pem")


async def submit(app: Litestar, text: str = TIP_TEXT, category: str = "village_bully") -> str:
    """A tip sent anonymously through the tip API; returns its ledger number."""
    tipster = await extra_client(app)
    response = await tipster.post(
        "/api/v1/tips", json={"category": category, "content": text, "who": "某村主任"}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["ledger_no"])


async def tip_id(ledger_no: str) -> int:
    row = await Tip.select(Tip.id).where(Tip.ledger_no == ledger_no).first()
    assert row is not None
    return int(row["id"])


async def township(name: str, code: str) -> int:
    county = await OrgUnit.select(OrgUnit.id).where(OrgUnit.kind == OrgUnitKind.county).first()
    assert county is not None
    rows = await OrgUnit.insert(
        OrgUnit(code=code, name=name, kind=OrgUnitKind.township, parent=county["id"])
    ).returning(OrgUnit.id)
    return int(rows[0]["id"])


async def register(
    ledger_no: str,
    officer_id: int,
    *,
    category: str,
    township_id: int | None,
    received: dt.datetime | None = None,
) -> int:
    """Register a tip (its CaseFile and the lifecycle step); ``received`` backdates it."""
    tip = await tip_id(ledger_no)
    actor = Actor.account(officer_id)
    async with db.write_transaction():
        if received is not None:
            await Tip.update({Tip.received_at: received}).where(Tip.id == tip)
        await CaseFile.insert(
            CaseFile(
                tip=tip,
                category=category,
                township=township_id,
                summary="",
                assigned_officer_id=officer_id,
            )
        )
        await apply_transition(tip, Action.register, actor, "登记")
    return tip


async def authority(name: str = "县公安局") -> int:
    rows = await Authority.insert(Authority(name=name, kind="public_security")).returning(
        Authority.id
    )
    return int(rows[0]["id"])


async def transfer(
    ledger_no: str,
    officer_id: int,
    authority_id: int,
    document_no: str,
    on: dt.date,
    feedback_on: dt.date | None = None,
) -> None:
    """Transfer a tip (and record feedback) through the lifecycle, with the dates of the
    paper documents."""
    tip = await tip_id(ledger_no)
    actor = Actor.account(officer_id)
    async with db.write_transaction():
        await apply_transition(tip, Action.transfer, actor, "移送", {"document_no": document_no})
        await Transfer.insert(
            Transfer(
                tip=tip,
                authority=authority_id,
                transferred_on=on,
                document_no=document_no,
                document_key=f"{authority_id}:{document_no}",
                method="in_person",
                officer_id=officer_id,
                feedback_on=feedback_on,
            )
        )
        if feedback_on is not None:
            await apply_transition(tip, Action.record_feedback, actor, "反馈")


def local(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=CHINA).astimezone(dt.UTC)


async def known_ledger(app: Litestar, officer_id: int) -> dict[str, Any]:
    """Four tips across the 2020 Labour Day and National Day holidays.

    - A: received Mon 2020-04-27, transferred Wed 05-06 (4 working days: 04-28..30,
      05-06; 05-01..05 are holidays), feedback Tue 05-12 (5: 05-07, 08, Sat 09 make-up
      day, 11, 12);
    - B: received Mon 2020-09-28, transferred Mon 10-12 (5: 09-29, 30, 10-09, Sat 10
      make-up day, 12), no feedback;
    - C: received Fri 2020-05-08, transferred the same day (0), feedback Mon 05-11
      (2: Sat 05-09 make-up day, 05-11);
    - D: received 2020-05-20, never registered.
    """
    east = await township("东镇", "999911")
    west = await township("西镇", "999912")
    police = await authority()
    a = await submit(app)
    b = await submit(app, category="usury")
    c = await submit(app)
    d = await submit(app)
    await register(
        a, officer_id, category="village_bully", township_id=east, received=local("2020-04-27")
    )
    await register(b, officer_id, category="usury", township_id=east, received=local("2020-09-28"))
    await register(
        c, officer_id, category="village_bully", township_id=west, received=local("2020-05-08")
    )
    await Tip.update({Tip.received_at: local("2020-05-20")}).where(Tip.ledger_no == d)
    await transfer(
        a, officer_id, police, "公移〔2020〕1号", dt.date(2020, 5, 6), dt.date(2020, 5, 12)
    )
    await transfer(b, officer_id, police, "公移〔2020〕2号", dt.date(2020, 10, 12))
    await transfer(
        c, officer_id, police, "公移〔2020〕3号", dt.date(2020, 5, 8), dt.date(2020, 5, 11)
    )
    return {"a": a, "b": b, "c": c, "d": d, "east": east, "west": west}
