"""The recovery drill: back up a running installation, destroy it, restore it, and every
tip still opens for its officers and the tipsters' receipts, and the ledger verifies.
Then escrow recovery: with every officer's password lost, the escrow key re-seals
every tip to a newly designated officer, one custody event per tip."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import make_account, reset_postgres, run_cli
from tests.tipline.intake.support import open_tip_box
from tipline import db
from tipline.crypto import primitives
from tipline.crypto.services import unwrap_officer_key
from tipline.intake import services as intake
from tipline.intake.tables import Tip
from tipline.ledger.services import verify_chain
from tipline.ledger.tables import CustodyEvent
from tipline.settings import Settings

Client = AsyncTestClient[Litestar]
TEXTS = ["村主任强占鱼塘，备份演练一", "砂石场夜间偷采，备份演练二", "低保名额给了亲戚，备份演练三"]


async def submit_tips(client: Client) -> list[dict[str, Any]]:
    sent = []
    for index, text in enumerate(TEXTS):
        body: dict[str, Any] = {"category": "other", "content": text}
        if index == 1:
            body["identity"] = {"name": "张三", "contact": "13800000000"}
        answer = await client.post("/api/v1/tips", json=body)
        assert answer.status_code == 201, answer.text
        sent.append({"text": text, "receipt": answer.json()["receipt"]})
    return sent


def move_escrow_out(settings: Settings, tmp_path: Path) -> Path:
    """The escrow private key belongs in a safe, not in the data dir being backed up."""
    inside = Path(settings.data_dir) / "escrow-test.pem"
    outside = tmp_path / "escrow-private.pem"
    shutil.move(inside, outside)
    return outside


async def destroy(settings: Settings) -> None:
    await db.close_pool()
    shutil.rmtree(settings.data_dir)
    if not settings.is_sqlite:
        assert settings.database_url is not None
        await reset_postgres(settings.database_url)


async def rebind(settings: Settings) -> None:
    db.bind(db.make_engine(settings))
    await db.open_pool()


async def test_back_up_destroy_restore_and_everything_still_opens(
    client: Client, settings: Settings, tmp_path: Path
) -> None:
    box = await open_tip_box(settings, officers=2)
    escrow_file = move_escrow_out(settings, tmp_path)
    sent = await submit_tips(client)
    backup_file = tmp_path / "tipline.backup"

    made = run_cli(settings, "backup", "--out", str(backup_file), process=True)
    assert made.returncode == 0, made.stderr
    assert "encrypted to the escrow key" in made.stdout
    data = backup_file.read_bytes()
    for item in sent:  # encrypted: neither the texts nor the receipts are readable in it
        assert item["text"].encode() not in data and item["receipt"].encode() not in data
    assert b"CREATE TABLE" not in data and b"SQLite format 3" not in data
    again = run_cli(settings, "backup", "--out", str(backup_file))
    assert again.returncode == 2 and "never written over" in again.stderr

    await destroy(settings)
    assert not settings.data_dir.exists()

    tampered = tmp_path / "tampered.backup"
    tampered.write_bytes(data[:200] + bytes([data[200] ^ 1]) + data[201:])
    refused = run_cli(
        settings, "restore", str(tampered), "--escrow-key", str(escrow_file), process=True
    )
    assert refused.returncode == 2 and "altered" in refused.stderr
    wrong_key = tmp_path / "other.pem"
    wrong_key.write_bytes(primitives.private_key_pem(primitives.new_key_pair()))
    refused = run_cli(settings, "restore", str(backup_file), "--escrow-key", str(wrong_key))
    assert refused.returncode == 2 and "does not open it" in refused.stderr

    restored = run_cli(settings, "restore", str(backup_file), "--escrow-key", str(escrow_file))
    assert restored.returncode == 0, restored.stderr
    assert "receipt.key" in restored.stdout
    # Into a data dir and database that are no longer empty: refused.
    twice = run_cli(settings, "restore", str(backup_file), "--escrow-key", str(escrow_file))
    assert twice.returncode == 2 and "empty" in twice.stderr
    verified = run_cli(settings, "ledger", "verify")
    assert verified.returncode == 0 and verified.stdout.startswith("ledger ok"), verified.stdout

    await rebind(settings)
    tips = await Tip.select(Tip.id).order_by(Tip.id)
    assert len(tips) == len(TEXTS)
    for row, item in zip(tips, sent, strict=True):
        for officer in box["officers"]:
            opened = await intake.open_tip_content(
                row["id"], officer["private_key"], "officer", officer["id"]
            )
            assert opened.fields.content == item["text"]
        # The receipt key came back too: the tipster still signs in to the mailbox.
        token = await intake.open_tipster_session(settings, item["receipt"])
        assert token
    identity = await intake.open_tip_identity(
        tips[1]["id"], box["officers"][0]["private_key"], "officer", box["officers"][0]["id"]
    )
    assert identity is not None and identity.name == "张三"
    assert (await verify_chain()).ok
    # This test's own pool, opened in this loop, closes before the client's shutdown.
    await db.close_pool()


async def test_escrow_recovery_reseals_every_tip_for_a_new_officer(
    client: Client, settings: Settings, tmp_path: Path
) -> None:
    await open_tip_box(settings, officers=1)
    escrow_file = move_escrow_out(settings, tmp_path)
    sent = await submit_tips(client)
    # Every officer has forgotten their password: a new one is designated (its key is
    # made when the account is), and no tip is sealed to that key yet.
    newcomer = await make_account("officer")
    newcomer_key = await unwrap_officer_key(newcomer["id"], newcomer["password"])
    tips = await Tip.select(Tip.id).order_by(Tip.id)
    with pytest.raises(intake.NotARecipient):
        await intake.open_tip_content(tips[0]["id"], newcomer_key, "officer", newcomer["id"])

    wrong_key = tmp_path / "other.pem"
    wrong_key.write_bytes(primitives.private_key_pem(primitives.new_key_pair()))
    refused = run_cli(
        settings,
        "keys",
        "recover",
        "--escrow-key",
        str(wrong_key),
        "--officer",
        newcomer["username"],
    )
    assert refused.returncode == 2 and "not the escrow key" in refused.stderr

    recovered = run_cli(
        settings,
        "keys",
        "recover",
        "--escrow-key",
        str(escrow_file),
        "--officer",
        newcomer["username"],
    )
    assert recovered.returncode == 0, recovered.stderr
    assert f"re-sealed {len(TEXTS)} tips" in recovered.stdout

    for row, item in zip(tips, sent, strict=True):
        opened = await intake.open_tip_content(row["id"], newcomer_key, "officer", newcomer["id"])
        assert opened.fields.content == item["text"]
    identity = await intake.open_tip_identity(
        tips[1]["id"], newcomer_key, "officer", newcomer["id"]
    )
    assert identity is not None and identity.name == "张三"

    events = await CustodyEvent.select(CustodyEvent.object_id, CustodyEvent.payload).where(
        CustodyEvent.action == "tip.access_granted"
    )
    assert sorted(int(e["object_id"]) for e in events) == [row["id"] for row in tips]
    for event in events:
        payload = json.loads(event["payload"])
        assert payload["reason"] == "escrow recovery"
        assert payload["officer_id"] == newcomer["id"]
    assert (await verify_chain()).ok

    # Run again (an interrupted recovery is simply repeated): nothing new, no new events.
    rerun = run_cli(
        settings,
        "keys",
        "recover",
        "--escrow-key",
        str(escrow_file),
        "--officer",
        newcomer["username"],
    )
    assert rerun.returncode == 0 and "re-sealed 0 tips" in rerun.stdout
    assert await CustodyEvent.count().where(CustodyEvent.action == "tip.access_granted") == len(
        TEXTS
    )
