"""The public proof page, the inspector's checkpoint section, and reconciliation alarms."""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tipline.intake.reconcile import reconcile
from tipline.intake.tables import TipCounter
from tipline.ledger import checkpoints
from tipline.ledger.services import SYSTEM, TIPSTER, append_event, recent_events, verify_chain
from tipline.settings import Settings


async def _signed_proof(settings: Settings, seq: int) -> checkpoints.ProofBundle:
    for i in range(7):
        await append_event(SYSTEM, "test.page", "thing", i, {"i": i})
    await checkpoints.sign_checkpoint(settings, force=True)
    return await checkpoints.proof_bundle(seq)


async def test_public_proof_page_verifies_a_pasted_proof_and_refuses_a_changed_one(
    client: AsyncTestClient[Litestar], settings: Settings
) -> None:
    bundle = await _signed_proof(settings, 3)
    params = {
        "checkpoint": bundle.checkpoint,
        "leaf_index": str(bundle.leaf_index),
        "event": bundle.event,
        "proof": "\n".join(bundle.proof),
    }
    page = await client.get("/ledger/proof", params=params)
    assert page.status_code == 200
    assert "Verified" in page.text or "核验通过" in page.text
    assert checkpoints.log_verifier(settings).vkey in page.text
    flipped = bundle.proof[0][:-1] + ("0" if bundle.proof[0][-1] != "0" else "1")
    bad = await client.get(
        "/ledger/proof", params={**params, "proof": "\n".join([flipped, *bundle.proof[1:]])}
    )
    assert bad.status_code == 200
    assert "does not lead" in bad.text
    empty = await client.get("/ledger/proof")
    assert empty.status_code == 200


async def test_reconciliation_alarms_once_on_a_missing_tip(app: Litestar) -> None:
    assert await reconcile() == {}
    await TipCounter.insert(TipCounter(year=2026, last_seq=1))
    await append_event(TIPSTER, "tip.received", "tip", 1, {"ledger_no": "2026-000001"})
    found = await reconcile()
    assert found["events_without_tip"] == ["2026-000001"]
    assert found["numbers_missing"] == ["2026-000001"]
    await reconcile()
    alarms = await recent_events(action_prefix="ledger.alarm")
    assert len(alarms) == 1
    assert (await verify_chain()).ok


async def test_inspector_sees_the_key_and_cosigns_the_latest_checkpoint(
    client: AsyncTestClient[Litestar], settings: Settings, tmp_path: Path
) -> None:
    from tests.conftest import csrf_form, sign_in
    from tipline.auth import Role
    from tipline.ledger import notes

    await sign_in(client, Role.inspector)
    for i in range(3):
        await append_event(SYSTEM, "test.page", "thing", i, {"i": i})
    latest = await checkpoints.sign_checkpoint(settings, force=True)
    assert latest is not None
    witness = notes.Signer.from_seed("inspector-li", b"\x07" * 32)
    await checkpoints.add_witness("inspector-li", witness.verifier.vkey)
    page = await client.get("/ledger")
    assert checkpoints.log_verifier(settings).vkey in page.text
    assert latest.text.splitlines()[2] in page.text
    key_file = tmp_path / "witness.key"
    key_file.write_text(("07" * 32) + "\n")
    line = checkpoints.witness_sign(key_file, "inspector-li", latest.text)
    wrong = notes.Signer.from_seed("inspector-li", b"\x08" * 32).signature_line(
        notes.parse_checkpoint(latest.text).body
    )
    refused = await client.post(
        "/ledger/cosign", data=await csrf_form(client, "/ledger", line=wrong)
    )
    assert refused.status_code == 400
    accepted = await client.post(
        "/ledger/cosign", data=await csrf_form(client, "/ledger", line=line), follow_redirects=True
    )
    assert accepted.status_code == 200
    assert line.strip() in accepted.text
    assert await checkpoints.cosignatures(latest.size)
