"""Competent authorities and transfers through HTTP and the CLI, on both databases."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pikepdf
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import csrf_form, extra_client, run_cli, sign_in
from tests.tipline.authorities.support import (
    TIP_TEXT,
    authority,
    pdf_pages_text,
    registered_tip,
    transfer_json,
)
from tipline.authorities import services
from tipline.authorities.package import make_key_pair
from tipline.authorities.tables import ReplyLink, Transfer
from tipline.cases.lifecycle import Action, apply_transition
from tipline.crypto.primitives import fingerprint, format_fingerprint
from tipline.intake.tables import Tip
from tipline.ledger import checkpoints
from tipline.ledger.services import Actor, verify_chain
from tipline.ledger.tables import CustodyEvent
from tipline.settings import Settings

Client = AsyncTestClient[Litestar]


async def _events(action: str) -> list[dict[str, Any]]:
    rows = (
        await CustodyEvent.select().where(CustodyEvent.action == action).order_by(CustodyEvent.seq)
    )
    return [dict(row, payload=json.loads(row["payload"])) for row in rows]


async def _status(ledger_no: str) -> str:
    row = await Tip.select(Tip.status).where(Tip.ledger_no == ledger_no).first()
    assert row is not None
    return str(row["status"])


# --- the registry -------------------------------------------------------------------------


async def test_the_admin_registers_authorities_and_officers_read_them(
    client: Client, app: Litestar
) -> None:
    await sign_in(client, "admin")
    _, public_hex = make_key_pair()
    made = await client.post(
        "/api/v1/authorities",
        json={"name": "示范县公安局", "kind": "public_security", "public_key": public_hex},
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["public_key"] == public_hex
    assert body["key_fingerprint"] == format_fingerprint(fingerprint(bytes.fromhex(public_hex)))

    for bad in (
        "not a key",
        "00" * 31,
        "zz" * 32,
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
    ):
        refused = await client.post(
            "/api/v1/authorities",
            json={"name": "示范县法院", "kind": "court", "public_key": bad},
        )
        assert refused.status_code == 400, bad
        assert refused.json()["error"] == "authorities.error.bad_key"
    bad_kind = await client.post("/api/v1/authorities", json={"name": "X", "kind": "army"})
    assert bad_kind.status_code == 400
    twice = await client.post("/api/v1/authorities", json={"name": "示范县公安局", "kind": "court"})
    assert twice.status_code == 409

    # The form: a PEM key is accepted and stored as hex; a bad one shows the error.
    from cryptography.hazmat.primitives import serialization

    from tipline.authorities.package import public_key_pem
    from tipline.crypto.primitives import private_key_from_pem

    pem, _ = make_key_pair()
    public_pem = public_key_pem(private_key_from_pem(pem).public_key())
    form = await csrf_form(
        client,
        "/admin/authorities",
        name="示范县人民检察院",
        kind="procuratorate",
        contact_person="赵检察官",
        phone="0000-1300001",
        address="检察路8号",
        public_key=public_pem,
        active="1",
    )
    saved = await client.post("/admin/authorities", data=form, follow_redirects=False)
    assert saved.status_code == 303
    page = await client.get(saved.headers["location"])
    assert "示范县人民检察院" in page.text and "已登记" in page.text
    bad_form = dict(form, name="示范县人民法院", public_key="12345")
    refused_page = await client.post("/admin/authorities", data=bad_form)
    assert refused_page.status_code == 400
    assert "公钥无效" in refused_page.text
    assert len((await client.get("/api/v1/authorities")).json()) == 2
    assert serialization  # the PEM came from cryptography's own serializer

    # Deactivating is an update (nothing is deleted) and a custody event.
    police = body["id"]
    updated = await client.put(
        f"/api/v1/authorities/{police}",
        json={"name": "示范县公安局", "kind": "public_security", "active": False},
    )
    assert updated.status_code == 200 and updated.json()["active"] is False
    assert updated.json()["public_key"] is None
    (event,) = await _events("authority.updated")
    assert event["payload"]["changed"] == ["active", "key_fingerprint", "public_key"]
    assert [a["name"] for a in (await client.get("/api/v1/authorities?active=true")).json()] == [
        "示范县人民检察院"
    ]

    officer = await extra_client(app)
    await sign_in(officer, "officer")
    assert (await officer.get("/api/v1/authorities")).status_code == 200
    assert (await officer.get("/admin/authorities")).status_code == 200
    assert "登记部门" not in (await officer.get("/admin/authorities")).text
    assert (
        await officer.post("/api/v1/authorities", json={"name": "Y", "kind": "court"})
    ).status_code == 403
    staff = await extra_client(app)
    await sign_in(staff, "township_staff")
    assert (await staff.get("/api/v1/authorities")).status_code == 403


# --- transfers ----------------------------------------------------------------------------


async def test_an_officer_transfers_a_tip_through_the_form(
    client: Client, app: Litestar, settings: Settings
) -> None:
    officer = await sign_in(client, "officer")
    ledger_no = await registered_tip(app, settings, officer)
    police = await authority()
    page = f"/cases/{ledger_no}/transfers"
    shown = await client.get(page)
    assert shown.status_code == 200 and "示范县公安局" in shown.text
    assert TIP_TEXT not in shown.text  # the transfers page is metadata only
    form = await csrf_form(
        client,
        page,
        authority_id=str(police),
        transferred_on=services.china_today().isoformat(),
        document_no="示公移〔2026〕1号",
        method="hand_delivery",
        note="涉黑线索，按管辖移送",
    )
    done = await client.post(page, data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    assert await _status(ledger_no) == "transferred"
    (row,) = await Transfer.select()
    assert row["document_no"] == "示公移〔2026〕1号" and row["officer_id"] == officer["id"]
    assert row["method"] == "hand_delivery" and row["authority"] == police
    (event,) = await _events("tip.transferred")
    assert event["seq"] == row["event_seq"]
    assert event["actor_id"] == str(officer["id"])
    assert event["payload"] == {
        "ledger_no": ledger_no,
        "from": "registered",
        "to": "transferred",
        "reason": "涉黑线索，按管辖移送",
        "authority": "示范县公安局",
        "authority_id": police,
        "document_no": "示公移〔2026〕1号",
        "method": "hand_delivery",
        "transfer_id": row["id"],
        "transferred_on": services.china_today().isoformat(),
    }
    listing = (await client.get(f"/api/v1/cases/{ledger_no}/transfers")).json()
    assert [(t["authority"], t["document_no"], t["event_seq"]) for t in listing] == [
        ("示范县公安局", "示公移〔2026〕1号", event["seq"])
    ]
    after = await client.get(page)
    assert "示公移〔2026〕1号" in after.text and "已移送" in after.text
    assert (await verify_chain()).ok

    # A date in the future and a missing document number are refused, nothing written.
    future = dict(form, transferred_on=(services.china_today() + dt.timedelta(days=2)).isoformat())
    future["document_no"] = "示公移〔2026〕2号"
    refused = await client.post(page, data=future)
    assert refused.status_code == 400 and "日期不能晚于今天" in refused.text
    blank = await client.post(page, data=dict(form, document_no="   "))
    assert blank.status_code == 400
    assert len(await Transfer.select()) == 1


async def test_a_document_number_is_unique_per_authority(
    client: Client, app: Litestar, settings: Settings
) -> None:
    officer = await sign_in(client, "officer")
    first = await registered_tip(app, settings, officer)
    second = await registered_tip(app, settings, officer)
    police = await authority()
    court = await authority("示范县人民法院", kind="court")
    assert (await transfer_json(client, first, police, "移〔2026〕7号")).status_code == 201
    again = await transfer_json(client, second, police, "移〔2026〕7号")
    assert again.status_code == 409
    assert again.json()["error"] == "authorities.error.duplicate_document_no"
    assert await _status(second) == "registered"
    assert len(await _events("tip.transferred")) == 1
    # The same number at another authority is another document.
    assert (await transfer_json(client, second, court, "移〔2026〕7号")).status_code == 201
    assert len(await Transfer.select()) == 2


async def test_two_officers_racing_for_one_document_number_get_one_transfer(
    client: Client, app: Litestar, settings: Settings
) -> None:
    """The unique index decides when both pass the check at once (PostgreSQL)."""
    import asyncio

    from tipline.auth import CurrentUser, Role
    from tipline.authorities.exceptions import DuplicateDocumentNo
    from tipline.authorities.schemas import TransferIn, TransferMethod

    officer = await sign_in(client, "officer")
    tips = [await registered_tip(app, settings, officer) for _ in range(2)]
    police = await authority()
    user = CurrentUser(officer["id"], officer["username"], "x", Role.officer, 1, "", 0, True)
    data = TransferIn(
        authority_id=police,
        transferred_on=services.china_today(),
        document_no="移〔2026〕99号",
        method=TransferMethod.hand_delivery,
    )
    results = await asyncio.gather(
        *(services.transfer(user, ledger_no, data) for ledger_no in tips),
        return_exceptions=True,
    )
    assert sorted(type(result).__name__ for result in results) == [
        "DuplicateDocumentNo",
        "TransferOut",
    ], results
    refused = next(r for r in results if isinstance(r, DuplicateDocumentNo))
    assert refused.values["authority"] == "示范县公安局"
    assert len(await Transfer.select()) == 1
    assert len(await _events("tip.transferred")) == 1
    assert sorted([await _status(no) for no in tips]) == ["registered", "transferred"]


async def test_a_voided_or_closed_tip_cannot_be_transferred(
    client: Client, app: Litestar, settings: Settings
) -> None:
    officer = await sign_in(client, "officer")
    actor = Actor.account(officer["id"])
    voided = await registered_tip(app, settings, officer)
    closed = await registered_tip(app, settings, officer)
    unregistered_tip = await registered_tip(app, settings, officer)
    police = await authority()
    ids = {row["ledger_no"]: row["id"] for row in await Tip.select(Tip.id, Tip.ledger_no)}
    await apply_transition(ids[voided], Action.void, actor, "测试", approved=True)
    await apply_transition(
        ids[closed], Action.close_without_transfer, actor, "不属于受理范围", approved=True
    )
    for number, ledger_no in enumerate((voided, closed), start=1):
        refused = await transfer_json(client, ledger_no, police, f"移〔2026〕{number}号")
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"] == "cases.error.transition_not_allowed"
    assert await Transfer.select() == []
    assert (await _status(voided), await _status(closed)) == ("voided", "closed")
    # An inactive authority and an unknown one are refused too.
    await services.update_authority(
        actor,
        police,
        services.AuthorityIn(
            name="示范县公安局", kind=services.AuthorityKind.public_security, active=False
        ),
    )
    inactive = await transfer_json(client, unregistered_tip, police, "移〔2026〕3号")
    assert inactive.status_code == 409 and inactive.json()["error"] == "authorities.error.inactive"
    assert (await transfer_json(client, unregistered_tip, 999, "x")).status_code == 404
    assert await Transfer.select() == []


# --- the package --------------------------------------------------------------------------


async def test_the_pdf_package_is_watermarked_and_its_download_recorded(
    client: Client, app: Litestar, settings: Settings
) -> None:
    officer = await sign_in(client, "officer")
    ledger_no = await registered_tip(app, settings, officer)
    police = await authority()
    made = await transfer_json(client, ledger_no, police, "移〔2026〕11号")
    transfer_id = made.json()["id"]
    download = await client.get(f"/cases/{ledger_no}/transfers/{transfer_id}/package")
    assert download.status_code == 200, download.text
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith(
        f'attachment; filename="{ledger_no}-transfer-{transfer_id}-'
    )
    assert download.headers["cache-control"] == "no-store"
    data = download.content
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert len(pdf.pages) >= 1
        fonts = [f for p in pdf.pages for f in p.Resources.Font.values()]
        assert any("/FontFile2" in str(f.DescendantFonts[0].FontDescriptor.keys()) for f in fonts)
    pages = pdf_pages_text(data)
    display = "Test officer"
    for text in pages:
        assert ledger_no in text and display in text  # the watermark on every page
        assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", text)
    whole = "".join(pages)
    assert "MARKER-4471" in whole and "强占耕地" in whole and "移〔2026〕11号" in whole
    (event,) = await _events("tip.transfer_package_downloaded")
    assert event["payload"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert event["payload"]["sealed"] is False and event["actor_id"] == str(officer["id"])
    assert "MARKER" not in json.dumps(event["payload"], ensure_ascii=False)
    # Nothing of the package stays on the server.
    for path in settings.data_dir.rglob("*"):
        if path.is_file():
            assert b"MARKER-4471" not in path.read_bytes(), path
    assert (await verify_chain()).ok

    # A long tip runs over several pages, each watermarked.
    long_text = "LONG-MARKER " + "村霸强占集体土地，殴打村民，垄断砂石运输。" * 400
    long_no = await registered_tip(app, settings, officer, content=long_text)
    long_id = (await transfer_json(client, long_no, police, "移〔2026〕12号")).json()["id"]
    long_pdf = await client.get(f"/cases/{long_no}/transfers/{long_id}/package")
    pages = pdf_pages_text(long_pdf.content)
    assert len(pages) >= 3
    assert all(long_no in text and display in text for text in pages)


async def test_the_package_needs_the_session_key_and_a_font(
    client: Client, app: Litestar, settings: Settings
) -> None:
    officer = await sign_in(client, "officer")
    ledger_no = await registered_tip(app, settings, officer)
    transfer_id = (await transfer_json(client, ledger_no, await authority(), "移1")).json()["id"]
    url = f"/cases/{ledger_no}/transfers/{transfer_id}/package"
    app.state.settings = dataclasses.replace(settings, pdf_font=Path("/nonexistent/font.ttc"))
    missing = await client.get(url)
    assert missing.status_code == 503 and "TIPLINE_PDF_FONT" in missing.text
    app.state.settings = settings
    client.cookies.delete("tipline_key")
    locked = await client.get(url)
    assert locked.status_code == 403
    assert await _events("tip.transfer_package_downloaded") == []


async def test_a_sealed_package_opens_only_with_the_authority_key(
    client: Client, app: Litestar, settings: Settings, tmp_path: Path
) -> None:
    officer = await sign_in(client, "officer")
    ledger_no = await registered_tip(app, settings, officer)
    key_file = tmp_path / "police.key"
    made = run_cli(settings, "authorities", "keygen", "--out", str(key_file))
    assert made.returncode == 0, made.stderr
    public_hex = re.search(r"public key .*: ([0-9a-f]{64})", made.stdout).group(1)  # type: ignore[union-attr]
    assert key_file.stat().st_mode & 0o777 == 0o600
    police = await authority(public_key=public_hex)
    transfer_id = (await transfer_json(client, ledger_no, police, "移〔2026〕21号")).json()["id"]
    download = await client.get(f"/cases/{ledger_no}/transfers/{transfer_id}/package")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/octet-stream"
    sealed = download.content
    assert b"MARKER" not in sealed and b"%PDF" not in sealed
    package = tmp_path / f"{ledger_no}.pdf.sealed"
    package.write_bytes(sealed)
    (event,) = await _events("tip.transfer_package_downloaded")
    assert event["payload"]["sealed"] is True
    assert event["payload"]["sha256"] == hashlib.sha256(sealed).hexdigest()

    opened = run_cli(settings, "authorities", "open-package", "--key", str(key_file), str(package))
    assert opened.returncode == 0, opened.stderr
    pdf_path = tmp_path / f"{ledger_no}.pdf"
    assert "移〔2026〕21号" in opened.stdout and str(pdf_path) in opened.stdout
    text = "".join(pdf_pages_text(pdf_path.read_bytes()))
    assert ledger_no in text and "MARKER-4471" in text

    other_key = tmp_path / "other.key"
    assert run_cli(settings, "authorities", "keygen", "--out", str(other_key)).returncode == 0
    wrong = run_cli(
        settings,
        "authorities",
        "open-package",
        "--key",
        str(other_key),
        str(package),
        "--out",
        str(tmp_path / "x.pdf"),
    )
    assert wrong.returncode == 2 and "not sealed to this key" in wrong.stderr
    tampered = bytearray(sealed)
    tampered[-5] ^= 1
    package.write_bytes(bytes(tampered))
    broken = run_cli(
        settings,
        "authorities",
        "open-package",
        "--key",
        str(key_file),
        str(package),
        "--out",
        str(tmp_path / "y.pdf"),
    )
    assert broken.returncode == 2


# --- acknowledgement and feedback ---------------------------------------------------------


async def test_the_officer_records_acknowledgement_then_feedback(
    client: Client, app: Litestar, settings: Settings
) -> None:
    officer = await sign_in(client, "officer")
    ledger_no = await registered_tip(app, settings, officer)
    transfer_id = (await transfer_json(client, ledger_no, await authority(), "移5")).json()["id"]
    page = f"/cases/{ledger_no}/transfers"
    today = services.china_today().isoformat()
    ack = await csrf_form(client, page, acknowledged_on=today, document_no="公签〔2026〕3号")
    done = await client.post(
        f"{page}/{transfer_id}/acknowledgement", data=ack, follow_redirects=False
    )
    assert done.status_code == 303
    assert await _status(ledger_no) == "transferred"  # acknowledgement is its own step
    (acked,) = await _events("tip.transfer_acknowledged")
    assert acked["payload"]["document_no"] == "公签〔2026〕3号"
    assert acked["payload"]["via"] == "officer"
    twice = await client.post(f"{page}/{transfer_id}/acknowledgement", data=ack)
    assert twice.status_code == 409

    early = (dt.date.today() - dt.timedelta(days=30)).isoformat()
    too_early = await client.post(
        f"{page}/{transfer_id}/feedback",
        data=await csrf_form(client, page, feedback_on=early, outcome="case_opened", summary="x"),
    )
    assert too_early.status_code == 400
    feedback = await csrf_form(
        client,
        page,
        feedback_on=today,
        outcome="case_opened",
        summary="已立案侦查",
        document_no="公反〔2026〕1号",
    )
    done = await client.post(
        f"{page}/{transfer_id}/feedback", data=feedback, follow_redirects=False
    )
    assert done.status_code == 303
    assert await _status(ledger_no) == "feedback_received"
    (event,) = await _events("tip.feedback_recorded")
    assert (
        event["payload"]["outcome"] == "case_opened" and event["payload"]["reason"] == "已立案侦查"
    )
    assert event["payload"]["transfer_id"] == transfer_id
    shown = await client.get(page)
    assert "已立案" in shown.text and "已立案侦查" in shown.text
    row = (await client.get(f"/api/v1/cases/{ledger_no}/transfers/{transfer_id}")).json()
    assert row["acknowledged_on"] == today and row["feedback_on"] == today
    assert row["feedback_summary"] == "已立案侦查" and row["feedback_via"] == "officer"


async def test_the_one_time_link_works_once_and_shows_no_tip(
    client: Client, app: Litestar, settings: Settings
) -> None:
    officer = await sign_in(client, "officer")
    ledger_no = await registered_tip(app, settings, officer)
    transfer_id = (
        await transfer_json(client, ledger_no, await authority(), "移〔2026〕9号")
    ).json()["id"]
    page = f"/cases/{ledger_no}/transfers"
    made = await client.post(
        f"{page}/{transfer_id}/links",
        data=await csrf_form(client, page, purpose="acknowledgement", valid_days="7"),
    )
    assert made.status_code == 200
    url = re.search(r'id="reply-link">([^<]+)<', made.text).group(1)  # type: ignore[union-attr]
    token = url.rsplit("/", 1)[1]
    assert url.startswith("http://testserver.local/authority-reply/")
    (link,) = await ReplyLink.select()
    assert link["token_sha256"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps(await _events("tip.transfer_reply_link_created"), default=str)

    authority_client = await extra_client(app)
    shown = await authority_client.get(f"/authority-reply/{token}")
    assert shown.status_code == 200
    assert ledger_no in shown.text and "移〔2026〕9号" in shown.text
    assert "MARKER" not in shown.text and "村主任" not in shown.text
    today = services.china_today().isoformat()
    form = {
        "acknowledged_on": today,
        "document_no": "公签1号",
        "_csrf_token": authority_client.cookies.get("csrftoken"),
    }
    no_csrf = await authority_client.post(
        f"/authority-reply/{token}", data={"acknowledged_on": today}
    )
    assert no_csrf.status_code == 403
    sent = await authority_client.post(f"/authority-reply/{token}", data=form)
    assert sent.status_code == 200, sent.text
    assert "此链接已失效" in sent.text
    (event,) = await _events("tip.transfer_acknowledged")
    assert event["actor_type"] == "system" and event["actor_id"] is None
    assert event["payload"]["authority"] == "示范县公安局" and event["payload"]["via"] == "link"
    assert (await authority_client.get(f"/authority-reply/{token}")).status_code == 410
    assert (await authority_client.post(f"/authority-reply/{token}", data=form)).status_code == 410
    assert (await authority_client.get("/authority-reply/" + "x" * 43)).status_code == 404
    assert len(await _events("tip.transfer_acknowledged")) == 1

    # Feedback through a second link (API), moving the tip to feedback_received.
    api = await client.post(
        f"/api/v1/cases/{ledger_no}/transfers/{transfer_id}/links", json={"purpose": "feedback"}
    )
    assert api.status_code == 201
    token = api.json()["url"].rsplit("/", 1)[1]
    await authority_client.get(f"/authority-reply/{token}")
    sent = await authority_client.post(
        f"/authority-reply/{token}",
        data={
            "feedback_on": today,
            "outcome": "preliminary_check",
            "summary": "正在初步核实",
            "_csrf_token": authority_client.cookies.get("csrftoken"),
        },
    )
    assert sent.status_code == 200, sent.text
    assert await _status(ledger_no) == "feedback_received"
    (feedback,) = await _events("tip.feedback_recorded")
    assert feedback["actor_type"] == "system" and feedback["payload"]["authority"] == "示范县公安局"
    assert feedback["payload"]["via"] == "link"


async def test_an_expired_link_is_refused(
    client: Client, app: Litestar, settings: Settings
) -> None:
    officer = await sign_in(client, "officer")
    ledger_no = await registered_tip(app, settings, officer)
    transfer_id = (await transfer_json(client, ledger_no, await authority(), "移8")).json()["id"]
    from tipline.auth import CurrentUser, Role
    from tipline.authorities.schemas import ReplyPurpose

    user = CurrentUser(officer["id"], officer["username"], "x", Role.officer, 1, "", 0, True)
    link = await services.create_reply_link(
        user,
        settings,
        ledger_no,
        transfer_id,
        ReplyPurpose.acknowledgement,
        1,
        now=dt.datetime.now(dt.UTC) - dt.timedelta(days=2),
    )
    path = "/authority-reply/" + link.url.rsplit("/", 1)[1]
    anonymous = await extra_client(app)
    assert (await anonymous.get(path)).status_code == 410
    assert await _events("tip.transfer_acknowledged") == []


# --- the receipt --------------------------------------------------------------------------


async def test_the_transfer_receipt_carries_a_proof_the_ledger_verifies(
    client: Client, app: Litestar, settings: Settings, tmp_path: Path
) -> None:
    officer = await sign_in(client, "officer")
    ledger_no = await registered_tip(app, settings, officer)
    transfer_id = (
        await transfer_json(client, ledger_no, await authority(), "移〔2026〕31号")
    ).json()["id"]
    page = f"/cases/{ledger_no}/transfers/{transfer_id}/receipt"
    pending = await client.get(page)
    assert pending.status_code == 200 and 'id="receipt-pending"' in pending.text
    assert (await client.get(f"{page}.json")).status_code == 409

    await checkpoints.sign_checkpoint(settings, force=True)
    shown = await client.get(page)
    assert 'id="receipt-proof"' in shown.text and "receipt-pending" not in shown.text
    receipt = (
        await client.get(f"/api/v1/cases/{ledger_no}/transfers/{transfer_id}/receipt")
    ).json()
    (event,) = await _events("tip.transferred")
    assert receipt["seq"] == event["seq"] and receipt["leaf_hash"] in shown.text
    verifier = checkpoints.log_verifier(settings)
    checked = checkpoints.check_proof(
        receipt["checkpoint"],
        receipt["leaf_index"],
        receipt["proof"],
        leaf=bytes.fromhex(receipt["leaf_hash"]),
        verifier=verifier,
    )
    assert checked.ok, checked.reason
    wrong = checkpoints.check_proof(
        receipt["checkpoint"],
        receipt["leaf_index"],
        receipt["proof"],
        leaf=b"\0" * 32,
        verifier=verifier,
    )
    assert not wrong.ok

    bundle = await client.get(f"{page}.json")
    assert bundle.status_code == 200
    path = tmp_path / "proof.json"
    path.write_bytes(bundle.content)
    checked_cli = run_cli(
        settings, "ledger", "check-proof", str(path), "--pubkey", receipt["log_key"]
    )
    assert checked_cli.returncode == 0, checked_cli.stdout + checked_cli.stderr
    assert f"event {event['seq']}" in checked_cli.stdout


# --- authorization ------------------------------------------------------------------------


async def test_only_designated_officers_handle_transfers(
    client: Client, app: Litestar, settings: Settings
) -> None:
    officer = await sign_in(client, "officer")
    ledger_no = await registered_tip(app, settings, officer)
    transfer_id = (await transfer_json(client, ledger_no, await authority(), "移2")).json()["id"]
    urls = [
        f"/cases/{ledger_no}/transfers",
        f"/cases/{ledger_no}/transfers/{transfer_id}/package",
        f"/cases/{ledger_no}/transfers/{transfer_id}/receipt",
        f"/api/v1/cases/{ledger_no}/transfers",
        f"/api/v1/cases/{ledger_no}/transfers/{transfer_id}/package",
    ]
    for role in ("admin", "inspector", "county_staff", "township_staff"):
        other = await extra_client(app)
        await sign_in(other, role)
        for url in urls:
            assert (await other.get(url)).status_code == 403, (role, url)
        posted = await other.post(
            f"/api/v1/cases/{ledger_no}/transfers",
            json={
                "authority_id": 1,
                "transferred_on": "2026-01-05",
                "document_no": "x",
                "method": "other",
            },
        )
        assert posted.status_code == 403
    anonymous = await extra_client(app)
    for url in urls:
        response = await anonymous.get(url, follow_redirects=False)
        if url.startswith("/api/"):
            assert response.status_code == 401, url
        else:
            assert response.headers["location"].startswith("/login?next="), url
    assert len(await Transfer.select()) == 1
    assert await _events("tip.transfer_package_downloaded") == []
