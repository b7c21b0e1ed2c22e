"""``tipline keys escrow-init`` and ``tipline keys status`` run as an operator would."""

from __future__ import annotations

import stat
from pathlib import Path

from litestar import Litestar

from tests.conftest import run_cli
from tipline.crypto import primitives, services
from tipline.crypto.primitives import KdfParams
from tipline.crypto.tables import EscrowKey
from tipline.ledger.services import verify_chain
from tipline.ledger.tables import CustodyEvent
from tipline.settings import Settings

FAST = KdfParams(time_cost=1, memory_cost=1024, parallelism=1)


async def _dump_text() -> str:
    rows = await EscrowKey.raw("SELECT * FROM escrow_key")
    rows += await CustodyEvent.raw("SELECT * FROM custody_event")
    return "\n".join(str(value) for row in rows for value in row.values())


async def test_escrow_init_writes_the_private_key_once_and_stores_only_the_public_key(
    app: Litestar, settings: Settings, tmp_path: Path
) -> None:
    status = run_cli(settings, "keys", "status", process=True)
    assert status.returncode == 0, status.stderr
    assert "escrow key: none" in status.stdout and "not open" in status.stdout

    out = tmp_path / "escrow.pem"
    result = run_cli(settings, "keys", "escrow-init", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    private = primitives.private_key_from_pem(out.read_bytes())
    fingerprint = primitives.fingerprint(private)
    assert primitives.format_fingerprint(fingerprint) in result.stdout
    assert "print" in result.stdout and "delete the file" in result.stdout

    [row] = await EscrowKey.select()
    assert row["public_key"] == primitives.public_bytes(private).hex()
    assert row["fingerprint"] == fingerprint and row["is_demo"] is False
    dump = await _dump_text()
    raw = primitives.private_bytes(private)
    import base64

    for form in (raw.hex(), base64.b64encode(raw).decode()[:40], "PRIVATE KEY"):
        assert form not in dump
    [event] = await CustodyEvent.select().where(CustodyEvent.action == "escrow_key.created")
    assert fingerprint in event["payload"] and '"via":"cli"' in event["payload"]

    # A second escrow-init is refused and writes nothing.
    again = tmp_path / "again.pem"
    refused = run_cli(settings, "keys", "escrow-init", "--out", str(again))
    assert refused.returncode == 2 and "already exists" in refused.stderr
    assert not again.exists()
    # --replace never overwrites a file (it may be the only copy of a key).
    before = out.read_bytes()
    refused = run_cli(settings, "keys", "escrow-init", "--replace", "--out", str(out))
    assert refused.returncode == 2 and "not overwritten" in refused.stderr
    assert out.read_bytes() == before
    assert await EscrowKey.count() == 1

    # The key from the file opens a data key sealed to the active recipients.
    await services.create_officer_key(101, "Quiet River Under Stone 42", kdf=FAST)
    status = run_cli(settings, "keys", "status")
    assert primitives.format_fingerprint(fingerprint) in status.stdout
    assert "officer keys: 1" in status.stdout and "tip box: open" in status.stdout
    data_key = primitives.new_data_key()
    sealed = services.seal_to_recipients(
        data_key, await services.active_recipients(), tip_id=1, purpose="content"
    )
    [(_, escrow_sealed)] = [(r, s) for r, s in sealed if r.kind == "escrow"]
    opened = primitives.open_data_key(
        escrow_sealed.to_bytes(), private, tip_id=1, purpose="content"
    )
    assert opened == data_key


async def test_escrow_replace_keeps_the_old_row_and_records_it(
    app: Litestar, settings: Settings, tmp_path: Path
) -> None:
    assert (
        run_cli(settings, "keys", "escrow-init", "--out", str(tmp_path / "a.pem")).returncode == 0
    )
    replaced = run_cli(
        settings, "keys", "escrow-init", "--replace", "--out", str(tmp_path / "b.pem")
    )
    assert replaced.returncode == 0, replaced.stderr
    assert "OLD private key" in replaced.stdout
    new = primitives.private_key_from_pem((tmp_path / "b.pem").read_bytes())
    rows = await EscrowKey.select().order_by(EscrowKey.id)
    assert len(rows) == 2 and rows[0]["replaced_at"] is not None and rows[1]["replaced_at"] is None
    [recipient] = await services.active_recipients()
    assert recipient.public_key == primitives.public_bytes(new)
    [event] = await CustodyEvent.select().where(CustodyEvent.action == "escrow_key.replaced")
    assert rows[0]["fingerprint"] in event["payload"] and rows[1]["fingerprint"] in event["payload"]
    assert (await verify_chain()).ok


async def test_demo_escrow_key_lives_in_the_data_dir_and_is_marked(
    app: Litestar, settings: Settings
) -> None:
    result = run_cli(settings, "keys", "escrow-init", "--demo")
    assert result.returncode == 0, result.stderr
    path = Path(settings.data_dir) / "demo-escrow-key.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "DEMO" in result.stdout
    [row] = await EscrowKey.select()
    assert row["is_demo"] is True
    status = run_cli(settings, "keys", "status")
    assert "(DEMO)" in status.stdout


async def test_escrow_init_needs_a_file(app: Litestar, settings: Settings) -> None:
    result = run_cli(settings, "keys", "escrow-init")
    assert result.returncode == 2 and "--out FILE" in result.stderr
    assert await EscrowKey.count() == 0
