"""Receiving and sealing tips, receipts and the tipster's mailbox, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tests.tipline.intake.support import forms_of, open_tip_box
from tipline import db
from tipline.crypto import primitives
from tipline.crypto.primitives import content_context, decrypt_content
from tipline.intake import receipts, services
from tipline.intake.exceptions import (
    InvalidTip,
    NotARecipient,
    TipBoxClosed,
    TipsterSessionEnded,
    WrongReceipt,
)
from tipline.intake.schemas import IdentityBody, TipInput
from tipline.intake.tables import Tip, TipCounter, TipKey, TipMessage
from tipline.ledger.services import verify_chain
from tipline.ledger.tables import CustodyEvent
from tipline.orgunits.tables import OrgUnit, OrgUnitKind
from tipline.settings import Settings


def _marker(label: str) -> str:
    return f"{label}-{secrets.token_hex(6)}"


async def dump_database() -> bytes:
    """Every value of every table, as bytes (text as UTF-8, binary as is)."""
    parts: list[bytes] = []
    for table in db.all_tables():
        for row in await table.raw(f"SELECT * FROM {table._meta.tablename}"):
            for value in row.values():
                if isinstance(value, (bytes, bytearray, memoryview)):
                    parts.append(bytes(value))
                else:
                    parts.append(str(value).encode("utf-8"))
    return b"\n".join(parts)


async def _places() -> dict[str, int]:
    county = await OrgUnit.insert(
        OrgUnit(code="990000", name="测试县", kind=OrgUnitKind.county)
    ).returning(OrgUnit.id)
    ids: dict[str, int] = {"county": county[0]["id"]}
    for key, code, name in (("east", "990001", "东镇"), ("west", "990002", "西镇")):
        rows = await OrgUnit.insert(
            OrgUnit(code=code, name=name, kind=OrgUnitKind.township, parent=ids["county"])
        ).returning(OrgUnit.id)
        ids[key] = rows[0]["id"]
    rows = await OrgUnit.insert(
        OrgUnit(code="990001201", name="柳树村", kind=OrgUnitKind.village, parent=ids["east"])
    ).returning(OrgUnit.id)
    ids["willow"] = rows[0]["id"]
    return ids


async def test_a_tip_is_sealed_to_officers_and_escrow_and_registered(
    tipline_db: Settings, settings: Settings
) -> None:
    box = await open_tip_box(settings, officers=2)
    places = await _places()
    text, name = _marker("村霸强占耕地"), _marker("张三")
    submitted = await services.submit_tip(
        settings,
        TipInput(
            category="village_bully",
            content=text,
            village=places["willow"],
            occurred="去年秋天",
            identity=IdentityBody(name=name, contact="13800000000"),
        ),
    )
    assert len(submitted.receipt) == 24 and submitted.receipt.isdigit()
    year = dt.datetime.now(services.CHINA).year
    assert submitted.ledger_no == f"{year}-000001"

    for officer in box["officers"]:
        opened = await services.open_tip_content(
            submitted.tip_id, officer["private_key"], "officer", officer["id"]
        )
        assert opened.fields.content == text
        assert opened.fields.village == "柳树村" and opened.fields.township == "东镇"
        assert opened.has_identity and name not in repr(opened)
        identity = await services.open_tip_identity(
            submitted.tip_id, officer["private_key"], "officer", officer["id"]
        )
        assert identity == IdentityBody(name=name, contact="13800000000")
    escrow = await services.open_tip_content(submitted.tip_id, box["escrow_key"], "escrow", None)
    assert escrow.fields.content == text
    escrow_identity = await services.open_tip_identity(
        submitted.tip_id, box["escrow_key"], "escrow", None
    )
    assert escrow_identity is not None and escrow_identity.name == name

    # The receipt's key reads the content (for replies) but never the real name.
    tipster_key = receipts.tipster_private_key(submitted.receipt)
    await services.tip_data_key(submitted.tip_id, tipster_key, "tipster")
    with pytest.raises(NotARecipient):
        await services.tip_data_key(submitted.tip_id, tipster_key, "tipster", purpose="identity")
    # A stranger's key opens nothing.
    with pytest.raises(NotARecipient):
        await services.open_tip_content(
            submitted.tip_id, primitives.new_key_pair(), "officer", box["officer"]["id"]
        )

    kinds = sorted(
        (row["purpose"], row["recipient_kind"])
        for row in await TipKey.select(TipKey.purpose, TipKey.recipient_kind)
    )
    assert kinds == sorted(
        [("content", "officer")] * 2
        + [("content", "escrow"), ("content", "tipster")]
        + [("identity", "officer")] * 2
        + [("identity", "escrow")]
    )

    events = await CustodyEvent.select().where(CustodyEvent.action == "tip.received")
    assert len(events) == 1
    payload = msgspec.json.decode(events[0]["payload"])
    assert payload["ledger_no"] == submitted.ledger_no and payload["channel"] == "web"
    assert len(payload["sealed_sha256"]) == 64
    assert events[0]["actor_type"] == "tipster"
    moment = events[0]["occurred_at"]
    assert (moment.minute, moment.second, moment.microsecond) == (0, 0, 0)
    assert (await verify_chain()).ok


async def test_the_database_holds_neither_the_text_nor_the_receipt(
    tipline_db: Settings, settings: Settings
) -> None:
    box = await open_tip_box(settings)
    text, name, contact = _marker("保护伞线索"), _marker("李四"), _marker("wechat")
    submitted = await services.submit_tip(
        settings,
        TipInput(
            category="protective_umbrella",
            content=text,
            who=_marker("王五"),
            identity=IdentityBody(name=name, contact=contact),
        ),
    )
    token = await services.open_tipster_session(settings, submitted.receipt)
    reply = _marker("请补充时间")
    officer = box["officer"]
    await services.add_officer_message(
        submitted.tip_id, officer["id"], reply, officer["private_key"]
    )
    added = _marker("补充材料")
    await services.add_tipster_message(settings, token, added)

    dump = await dump_database()
    secrets_in_clear = [text, name, contact, added, reply, submitted.receipt]
    secrets_in_clear.append(receipts.format_receipt(submitted.receipt))
    tipster_key = primitives.private_bytes(receipts.tipster_private_key(submitted.receipt))
    for secret in secrets_in_clear:
        for form in forms_of(secret):
            assert form not in dump, f"{secret!r} found in the database"
    assert tipster_key not in dump and tipster_key.hex().encode() not in dump
    assert token.encode() not in dump

    key_file = settings.data_dir / receipts.RECEIPT_KEY_FILE
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert bytes.fromhex(key_file.read_text().strip()) not in dump


async def test_ledger_numbers_are_per_year_and_without_gaps(
    tipline_db: Settings, settings: Settings
) -> None:
    await open_tip_box(settings)
    year = dt.datetime.now(services.CHINA).year
    await TipCounter.insert(TipCounter(year=year - 1, last_seq=57))
    numbers = []
    for index in range(3):
        submitted = await services.submit_tip(
            settings, TipInput(category="gang_crime", content=f"tip {index}")
        )
        numbers.append(submitted.ledger_no)
    assert numbers == [f"{year}-000001", f"{year}-000002", f"{year}-000003"]
    # A refused submission takes no number.
    with pytest.raises(InvalidTip):
        await services.submit_tip(settings, TipInput(category="gang_crime", content="  "))
    after = await services.submit_tip(settings, TipInput(category="other", content="next"))
    assert after.ledger_no == f"{year}-000004"
    last_year = await TipCounter.select().where(TipCounter.year == year - 1).first()
    assert last_year is not None and last_year["last_seq"] == 57
    rows = await Tip.select(Tip.ledger_seq, Tip.received_at).order_by(Tip.ledger_seq)
    assert [row["ledger_seq"] for row in rows] == [1, 2, 3, 4]
    for row in rows:
        moment = row["received_at"]
        assert (moment.minute, moment.second, moment.microsecond) == (0, 0, 0)


async def test_the_tip_box_is_closed_without_escrow_or_officer_key(
    tipline_db: Settings, settings: Settings
) -> None:
    tip = TipInput(category="gang_crime", content="x")
    with pytest.raises(TipBoxClosed):
        await services.submit_tip(settings, tip)
    await open_tip_box(settings, escrow=False)
    assert not await services.tip_box_is_open()
    with pytest.raises(TipBoxClosed):
        await services.submit_tip(settings, tip)
    assert await Tip.count() == 0 and await TipCounter.count() == 0
    assert await CustodyEvent.count().where(CustodyEvent.action == "tip.received") == 0


async def test_a_village_must_lie_in_the_chosen_township(
    tipline_db: Settings, settings: Settings
) -> None:
    await open_tip_box(settings)
    places = await _places()
    with pytest.raises(InvalidTip) as refused:
        await services.submit_tip(
            settings,
            TipInput(
                category="gang_crime",
                content="x",
                township=places["west"],
                village=places["willow"],
            ),
        )
    assert refused.value.key == "intake.error.village_outside_township"
    with pytest.raises(InvalidTip):
        await services.submit_tip(
            settings, TipInput(category="gang_crime", content="x", village=places["east"])
        )
    with pytest.raises(InvalidTip):
        await services.submit_tip(settings, TipInput(category="nonsense", content="x"))
    assert await Tip.count() == 0


async def test_wrong_and_unknown_receipts_are_refused_alike(
    tipline_db: Settings, settings: Settings
) -> None:
    await open_tip_box(settings)
    submitted = await services.submit_tip(settings, TipInput(category="other", content="x"))
    last = submitted.receipt[-1]
    wrong = submitted.receipt[:-1] + str((int(last) + 1) % 10)
    for attempt in (wrong, receipts.new_receipt(), "1234", "not a receipt at all", ""):
        with pytest.raises(WrongReceipt) as refused:
            await services.open_tipster_session(settings, attempt)
        assert refused.value.key == "intake.error.wrong_receipt"
    # Spaces, dashes and full-width digits are what a tipster may type.
    typed = receipts.format_receipt(submitted.receipt).replace(" ", "-")
    assert await services.open_tipster_session(settings, typed)
    full_width = "".join(chr(ord(c) - ord("0") + ord("０")) for c in submitted.receipt)
    assert await services.open_tipster_session(settings, full_width)


async def test_every_receipt_attempt_does_the_same_work_before_its_answer(
    tipline_db: Settings, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No timing oracle, checked by the work done rather than by a clock (the timing itself
    is printed by ``python -m bench.receipt_timing``): a near miss (right but for its
    last digits), a receipt never issued, a malformed one and the right one all run the
    same steps up to the answer (normalise to 24 characters, one HMAC under the server's
    receipt key, one HKDF derivation, one lookup, two ``hmac.compare_digest`` over
    equal-length values whatever the row). The lookup is by that keyed hash, so a near
    miss is as far from the stored value in the index as any other guess."""
    await open_tip_box(settings)
    submitted = await services.submit_tip(settings, TipInput(category="other", content="x"))
    right = submitted.receipt
    near = right[:-4] + f"{(int(right[-4:]) + 1) % 10000:04d}"
    attempts = {
        "right": right,
        "near miss": near,
        "never issued": receipts.new_receipt(),
        "malformed": "12ab",
        "empty": "",
    }
    # The index holds HMAC-SHA256(receipt key file, digits), computed here with hmac alone.
    file_key = bytes.fromhex(
        (Path(settings.data_dir) / receipts.RECEIPT_KEY_FILE).read_text().strip()
    )
    stored = await Tip.select(Tip.receipt_mac).where(Tip.id == submitted.tip_id).first()
    assert stored is not None
    assert stored["receipt_mac"] == hmac.new(file_key, right.encode(), hashlib.sha256).hexdigest()
    assert right not in stored["receipt_mac"]

    work: list[tuple[Any, ...]] = []

    def spy(name: str, function: Any, describe: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            result = function(*args, **kwargs)
            work.append((name, describe(*args, result=result)))
            return result

        return wrapper

    monkeypatch.setattr(
        receipts,
        "normalize_receipt",
        spy("normalise", receipts.normalize_receipt, lambda text, result: len(result)),
    )
    monkeypatch.setattr(
        receipts,
        "receipt_mac",
        spy(
            "hmac", receipts.receipt_mac, lambda key, digits, result: (key == file_key, len(digits))
        ),
    )
    monkeypatch.setattr(
        receipts,
        "tipster_private_key",
        spy("hkdf", receipts.tipster_private_key, lambda digits, result: len(digits)),
    )
    monkeypatch.setattr(
        hmac,
        "compare_digest",
        spy("compare_digest", hmac.compare_digest, lambda a, b, result: (len(a), len(b))),
    )
    monkeypatch.setattr(
        Tip, "select", spy("lookup", Tip.select, lambda *columns, result: len(columns))
    )

    traces: dict[str, list[tuple[Any, ...]]] = {}
    for label, attempt in attempts.items():
        work.clear()
        if label == "right":
            assert await services.open_tipster_session(settings, attempt)
        else:
            with pytest.raises(WrongReceipt):
                await services.open_tipster_session(settings, attempt)
        traces[label] = list(work)

    expected = [
        ("normalise", 24),
        ("hmac", (True, 24)),
        ("hkdf", 24),
        ("lookup", 3),
        ("compare_digest", (64, 64)),
        ("compare_digest", (64, 64)),
    ]
    for label in attempts:
        if label == "right":
            # After the answer is decided the right receipt goes on to open a session:
            # that difference tells the tipster nothing they do not already know.
            assert traces[label][: len(expected)] == expected, traces[label]
        else:
            assert traces[label] == expected, (label, traces[label])


async def test_the_tipster_reads_officer_replies_and_adds_information(
    tipline_db: Settings, settings: Settings
) -> None:
    box = await open_tip_box(settings)
    officer = box["officer"]
    submitted = await services.submit_tip(settings, TipInput(category="usury", content="x"))
    token = await services.open_tipster_session(settings, submitted.receipt)
    async with db.write_transaction():
        await services.add_officer_message(
            submitted.tip_id, officer["id"], "请问具体是哪一天？", officer["private_key"]
        )
    await services.add_tipster_message(settings, token, "三月五日晚上")
    view = await services.tipster_view(token)
    assert view.ledger_no == submitted.ledger_no and view.status == "received"
    assert [(m.author, m.text) for m in view.messages] == [
        ("officer", "请问具体是哪一天？"),
        ("tipster", "三月五日晚上"),
    ]
    tipster_row = await TipMessage.select().where(TipMessage.author == "tipster").first()
    assert tipster_row is not None
    moment = tipster_row["created_at"]
    assert (moment.minute, moment.second, moment.microsecond) == (0, 0, 0)
    # The officer (and escrow) read the tipster's message too.
    opened = await services.open_tip_content(
        submitted.tip_id, officer["private_key"], "officer", officer["id"]
    )
    assert [m.text for m in opened.messages] == ["请问具体是哪一天？", "三月五日晚上"]
    # Each message is bound to its own context: moving one body to another row fails.
    rows = await TipMessage.select().order_by(TipMessage.id)
    data_key = await services.tip_data_key(
        submitted.tip_id, officer["private_key"], "officer", officer["id"]
    )
    with pytest.raises(Exception):
        decrypt_content(
            data_key,
            bytes(rows[0]["body"]),
            context=content_context(submitted.tip_id, f"message:{rows[1]['uid']}"),
        )

    await services.close_tipster_session(token)
    with pytest.raises(TipsterSessionEnded):
        await services.tipster_view(token)


async def test_a_tipster_session_expires_and_its_key_needs_the_cookie(
    tipline_db: Settings, settings: Settings
) -> None:
    from tipline.intake.tables import TipsterSession

    await open_tip_box(settings)
    submitted = await services.submit_tip(settings, TipInput(category="other", content="x"))
    token = await services.open_tipster_session(settings, submitted.receipt)
    with pytest.raises(TipsterSessionEnded):
        await services.tipster_view(token[:-2] + "AA")
    row = await TipsterSession.select().first()
    assert row is not None
    expires: Any = row["expires_at"]
    assert (expires.minute, expires.second) == (0, 0)
    await TipsterSession.update(
        {TipsterSession.expires_at: dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)}
    ).where(TipsterSession.id == row["id"])
    with pytest.raises(TipsterSessionEnded):
        await services.tipster_view(token)


async def test_no_argon2_on_the_tipster_paths(
    tipline_db: Settings, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Receipts carry 80 random bits: HKDF suffices, and argon2id (~0.1 s, 64 MiB) would
    make the tip box easy to exhaust."""
    import argon2.low_level

    await open_tip_box(settings)

    def refuse(*args: Any, **kwargs: Any) -> bytes:
        raise AssertionError("argon2 on a tipster path")

    monkeypatch.setattr(primitives, "hash_secret_raw", refuse)
    monkeypatch.setattr(argon2.low_level, "hash_secret_raw", refuse)
    monkeypatch.setattr(argon2.low_level, "hash_secret", refuse)
    submitted = await services.submit_tip(settings, TipInput(category="other", content="x"))
    token = await services.open_tipster_session(settings, submitted.receipt)
    with pytest.raises(WrongReceipt):
        await services.open_tipster_session(settings, receipts.new_receipt())
    await services.add_tipster_message(settings, token, "more")
    assert (await services.tipster_view(token)).messages[0].text == "more"
