"""``tipline ledger``: pubkey, checkpoint, prove, check-proof offline, witnesses, verify
against a checkpoint kept elsewhere."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.conftest import run_cli
from tipline.ledger.services import SYSTEM, append_event
from tipline.ledger.tables import CustodyEvent
from tipline.settings import Settings


def _with_events(settings: Settings, count: int) -> None:
    async def work() -> None:
        from tipline import db

        db.bind(db.make_engine(settings))
        for i in range(count):
            await append_event(SYSTEM, "test.cli", "thing", i, {"i": i})

    asyncio.run(work())


def test_prove_and_check_proof_offline(settings: Settings, tmp_path: Path) -> None:
    assert run_cli(settings, "migrate").returncode == 0
    _with_events(settings, 9)
    pubkey = run_cli(settings, "ledger", "pubkey").stdout.strip()
    assert pubkey.startswith("127.0.0.1:8000/tipline/custody+")
    signed = run_cli(settings, "ledger", "checkpoint", process=True)
    assert signed.returncode == 0 and "signed checkpoint 9" in signed.stdout
    bundle_file = tmp_path / "proof.json"
    proved = run_cli(settings, "ledger", "prove", "4", "--out", str(bundle_file))
    assert proved.returncode == 0, proved.stderr
    bundle = json.loads(bundle_file.read_text())
    assert bundle["leaf_index"] == 3 and bundle["tree_size"] == 9 and len(bundle["proof"]) == 4
    # Offline: no database at all behind these settings.
    offline = Settings(data_dir=tmp_path / "nothing")
    ok = run_cli(offline, "ledger", "check-proof", str(bundle_file), "--pubkey", pubkey)
    assert ok.returncode == 0, ok.stderr
    assert "proof ok: event 4" in ok.stdout
    assert not (tmp_path / "nothing" / "tipline.sqlite").exists()
    other_key = pubkey.split("+")[0] + "+00000000+" + "A" * 44
    wrong = run_cli(offline, "ledger", "check-proof", str(bundle_file), "--pubkey", other_key)
    assert wrong.returncode != 0
    bundle["proof"][1] = "00" * 32
    bundle_file.write_text(json.dumps(bundle))
    broken = run_cli(offline, "ledger", "check-proof", str(bundle_file), "--pubkey", pubkey)
    assert broken.returncode == 1 and "does NOT verify" in broken.stdout
    too_new = run_cli(settings, "ledger", "prove", "99")
    assert too_new.returncode == 2


def test_witness_key_add_and_sign(settings: Settings, tmp_path: Path) -> None:
    assert run_cli(settings, "migrate").returncode == 0
    _with_events(settings, 2)
    assert run_cli(settings, "ledger", "checkpoint").returncode == 0
    key = tmp_path / "wang.key"
    made = run_cli(settings, "ledger", "witness-key", "inspector-wang", "--out", str(key))
    assert made.returncode == 0 and key.stat().st_mode & 0o777 == 0o600
    vkey = made.stdout.split()[-1]
    added = run_cli(settings, "ledger", "witness-add", "inspector-wang", vkey)
    assert added.returncode == 0, added.stderr
    checkpoint = settings.data_dir / "checkpoints" / "2.txt"
    line = run_cli(
        settings,
        "ledger",
        "witness-sign",
        str(checkpoint),
        "--key",
        str(key),
        "--name",
        "inspector-wang",
    )
    assert line.returncode == 0 and line.stdout.startswith("\u2014 inspector-wang ")


def test_verify_against_an_outside_checkpoint_names_the_divergence(
    settings: Settings, tmp_path: Path
) -> None:
    assert run_cli(settings, "migrate").returncode == 0
    _with_events(settings, 5)
    assert run_cli(settings, "ledger", "checkpoint").returncode == 0
    outside = tmp_path / "kept-by-inspector.txt"
    outside.write_text((settings.data_dir / "checkpoints" / "5.txt").read_text())
    ok = run_cli(settings, "ledger", "verify", "--checkpoint", str(outside))
    assert ok.returncode == 0 and "5 events verified" in ok.stdout

    async def delete_last() -> None:
        from tipline import db

        db.bind(db.make_engine(settings))
        await CustodyEvent.delete().where(CustodyEvent.seq == 5)

    asyncio.run(delete_last())
    broken = run_cli(settings, "ledger", "verify", "--checkpoint", str(outside))
    assert broken.returncode == 1
    assert "event 5" in broken.stdout
