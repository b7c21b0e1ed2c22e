"""Phone, letter and visit tips through HTTP: the officer's entry, the receipt in the
mailbox, the caller's confirmation or correction of the transcript; on both databases."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import csrf_form, extra_client, sign_in
from tests.tipline.intake.support import (
    jpeg_with_gps,
    ledger_no_on_page,
    open_tip_box,
    receipt_on_page,
)
from tipline.crypto import services as crypto
from tipline.intake import services as intake
from tipline.intake.tables import Tip, TipAttachment, TipKey, TipMessage
from tipline.ledger.services import verify_chain
from tipline.ledger.tables import CustodyEvent
from tipline.orgunits.tables import OrgUnit
from tipline.settings import Settings

Client = AsyncTestClient[Litestar]

TRANSCRIPT = "MARKER-CALL-4417 来电人称：某村主任带人强占集体耕地，殴打村民"
CORRECTION = "MARKER-FIX-88 不是殴打，是威胁"


async def _events(action: str) -> list[dict[str, Any]]:
    return list(
        await CustodyEvent.select().where(CustodyEvent.action == action).order_by(CustodyEvent.seq)
    )


async def _enter(client: Client, **fields: Any) -> Any:
    form = await csrf_form(
        client,
        "/cases/new",
        **{"channel": "phone", "category": "village_bully", "content": TRANSCRIPT} | fields,
    )
    return await client.post("/cases/new", data=form)


async def _officer_with_box(client: Client, settings: Settings) -> dict[str, Any]:
    """Another officer and the escrow key (from the support module), then this client
    signed in as the officer who takes the call."""
    box = await open_tip_box(settings)
    officer = await sign_in(client, "officer")
    return {**box, "entering": officer}


async def _caller(app: Litestar, receipt: str) -> Client:
    caller = await extra_client(app)
    login = await caller.post("/tip/mailbox", data={"receipt": receipt}, follow_redirects=False)
    assert login.status_code == 303, login.text
    return caller


async def _caller_csrf(caller: Client) -> str:
    page = await caller.get("/tip/mailbox/transcript")
    assert page.status_code == 200, page.text
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert match
    return match.group(1)


async def test_an_officer_enters_a_phone_tip_sealed_and_numbered_like_a_web_tip(
    client: Client, settings: Settings
) -> None:
    setup = await _officer_with_box(client, settings)
    officer = setup["entering"]
    page = await client.get("/cases/new")
    assert page.status_code == 200 and "录入举报电话、来信、来访线索" in page.text
    assert 'name="_csrf_token"' in page.text

    response = await _enter(client, who="某村主任")
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    receipt, ledger_no = receipt_on_page(response.text), ledger_no_on_page(response.text)
    assert "请逐组（每组四位）读给来电人" in response.text

    (tip,) = await Tip.select()
    assert tip["ledger_no"] == ledger_no and tip["channel"] == "phone"
    assert tip["status"] == "received" and tip["ledger_seq"] == 1
    (received,) = await _events("tip.received")
    assert received["actor_type"] == "account" and received["actor_id"] == str(officer["id"])
    payload = json.loads(received["payload"])
    assert payload["channel"] == "phone" and payload["ledger_no"] == ledger_no
    assert "MARKER" not in received["payload"] and receipt not in received["payload"]

    # Every officer with a key, the entering one included, and the escrow key open it.
    entering_key = await crypto.unwrap_officer_key(officer["id"], officer["password"])
    readers = [
        ("officer", setup["officer"]["id"], setup["officer"]["private_key"]),
        ("officer", officer["id"], entering_key),
        ("escrow", None, setup["escrow_key"]),
    ]
    for kind, account_id, key in readers:
        opened = await intake.open_tip_content(int(tip["id"]), key, kind, account_id)
        assert opened.fields.content == TRANSCRIPT and opened.fields.who == "某村主任"
        assert opened.channel == "phone"
    kinds = sorted(row["recipient_kind"] for row in await TipKey.select(TipKey.recipient_kind))
    assert kinds == ["escrow", "officer", "officer", "tipster"]

    # The officer's ledger lists it as a phone tip, and the case page opens it.
    case = (await client.get(f"/api/v1/cases/{ledger_no}")).json()
    assert case["channel"] == "phone" and case["fields"]["content"] == TRANSCRIPT
    state = (await client.get(f"/api/v1/cases/{ledger_no}/transcript")).json()
    assert state["status"] == "awaiting" and state["entered_by"] == "Test officer"
    assert (await verify_chain()).ok


async def test_the_caller_reads_the_transcript_and_confirms_it(
    client: Client, app: Litestar, settings: Settings
) -> None:
    await _officer_with_box(client, settings)
    response = await _enter(client)
    receipt, ledger_no = receipt_on_page(response.text), ledger_no_on_page(response.text)

    caller = await _caller(app, receipt)
    mailbox = await caller.get("/tip/mailbox")
    assert ledger_no in mailbox.text and 'href="/tip/mailbox/transcript"' in mailbox.text
    assert "由工作人员记录" in mailbox.text
    page = await caller.get("/tip/mailbox/transcript")
    assert page.status_code == 200
    assert "工作人员记录（不是您本人书写）" in page.text and TRANSCRIPT in page.text
    assert "尚未核对" in page.text

    csrf = await _caller_csrf(caller)
    forged = await caller.post("/tip/mailbox/transcript/confirm", data={"csrf": "0" * 64})
    assert forged.status_code == 403
    assert await _events("tip.transcript_confirmed") == []

    done = await caller.post(
        "/tip/mailbox/transcript/confirm", data={"csrf": csrf}, follow_redirects=False
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/tip/mailbox/transcript?done=confirmed"
    after = await caller.get("/tip/mailbox/transcript?done=confirmed")
    assert "已确认。感谢您的核对。" in after.text and "举报人已确认记录准确" in after.text

    (confirmed,) = await _events("tip.transcript_confirmed")
    assert confirmed["actor_type"] == "tipster" and confirmed["actor_id"] is None
    occurred = confirmed["occurred_at"]
    assert (occurred.minute, occurred.second, occurred.microsecond) == (0, 0, 0)
    (tip,) = await Tip.select(Tip.id, Tip.content)
    import hashlib

    payload = json.loads(confirmed["payload"])
    assert payload == {
        "ledger_no": ledger_no,
        "content_sha256": hashlib.sha256(bytes(tip["content"])).hexdigest(),
        "corrections": 0,
    }
    assert confirmed["object_id"] == str(tip["id"])

    # Confirming again changes nothing; the officer's page shows it confirmed.
    await caller.post("/tip/mailbox/transcript/confirm", data={"csrf": csrf})
    assert len(await _events("tip.transcript_confirmed")) == 1
    state = (await client.get(f"/api/v1/cases/{ledger_no}/transcript")).json()
    assert state["status"] == "confirmed" and state["confirmed_at"]
    case_page = await client.get(f"/cases/{ledger_no}")
    assert case_page.status_code == 200
    assert '<strong id="transcript-state">举报人已确认记录准确</strong>' in case_page.text
    assert "Test officer" in case_page.text


async def test_the_caller_corrects_the_transcript(
    client: Client, app: Litestar, settings: Settings
) -> None:
    await _officer_with_box(client, settings)
    response = await _enter(client, channel="visit")
    receipt, ledger_no = receipt_on_page(response.text), ledger_no_on_page(response.text)
    assert "请把回执当面抄给来访人带走" in response.text
    caller = await _caller(app, receipt)
    csrf = await _caller_csrf(caller)

    empty = await caller.post(
        "/tip/mailbox/transcript/corrections", data={"csrf": csrf, "text": " "}
    )
    assert empty.status_code == 400 and "尚未核对" in empty.text
    assert await _events("tip.transcript_corrected") == [] and await TipMessage.count() == 0

    sent = await caller.post(
        "/tip/mailbox/transcript/corrections",
        data={"csrf": csrf, "text": CORRECTION},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    page = await caller.get("/tip/mailbox/transcript?done=corrected")
    assert "更正已提交" in page.text and CORRECTION in page.text
    assert "举报人已提出更正" in page.text

    (corrected,) = await _events("tip.transcript_corrected")
    assert corrected["actor_type"] == "tipster"
    assert corrected["occurred_at"].minute == 0
    assert "MARKER" not in corrected["payload"]
    (message,) = await TipMessage.select()
    assert message["author"] == "tipster"
    assert json.loads(corrected["payload"])["message"] == message["uid"]
    assert await _events("tip.tipster_message_added") == []

    # The officer sees the correction as a message of the conversation and as a correction.
    case = (await client.get(f"/api/v1/cases/{ledger_no}")).json()
    assert [(m["author"], m["text"]) for m in case["messages"]] == [("tipster", CORRECTION)]
    state = (await client.get(f"/api/v1/cases/{ledger_no}/transcript")).json()
    assert state["status"] == "corrected"
    assert [c["message_id"] for c in state["corrections"]] == [message["id"]]
    case_page = (await client.get(f"/cases/{ledger_no}")).text
    assert "举报人已提出更正" in case_page
    assert "举报人的更正" in case_page and case_page.count(CORRECTION) == 2

    # Confirming after a correction agrees the transcript with its correction.
    await caller.post("/tip/mailbox/transcript/confirm", data={"csrf": csrf})
    (confirmed,) = await _events("tip.transcript_confirmed")
    assert json.loads(confirmed["payload"])["corrections"] == 1
    state = (await client.get(f"/api/v1/cases/{ledger_no}/transcript")).json()
    assert state["status"] == "confirmed"


async def test_the_json_mirror_and_the_tipster_api(
    client: Client, app: Litestar, settings: Settings
) -> None:
    officer = (await _officer_with_box(client, settings))["entering"]
    created = await client.post(
        "/api/v1/cases/intake",
        json={"channel": "letter", "category": "usury", "content": TRANSCRIPT, "who": "放贷人"},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert re.fullmatch(r"\d{4}( \d{4}){5}", body["receipt"])
    assert body["channel"] == "letter" and re.fullmatch(r"\d{4}-\d{6}", body["ledger_no"])
    (received,) = await _events("tip.received")
    assert received["actor_id"] == str(officer["id"])

    caller = await extra_client(app)
    login = await caller.post("/api/v1/tipster/session", json={"receipt": body["receipt"]})
    assert login.status_code == 204
    view = (await caller.get("/api/v1/tipster/transcript")).json()
    assert view["fields"]["content"] == TRANSCRIPT and view["channel"] == "letter"
    assert view["state"]["status"] == "awaiting" and view["state"]["entered_by"] is None
    fixed = await caller.post("/api/v1/tipster/transcript/corrections", json={"text": CORRECTION})
    assert fixed.status_code == 201 and fixed.json()["status"] == "corrected"
    agreed = await caller.post("/api/v1/tipster/transcript/confirm")
    assert agreed.status_code == 200 and agreed.json()["status"] == "confirmed"
    assert (await caller.get("/api/v1/tipster/tip")).json()["channel"] == "letter"

    # Schema: the body and answers are described.
    schema = (await client.get("/schema/openapi.json")).json()
    assert "HotlineTipBody" in json.dumps(schema["paths"]["/api/v1/cases/intake"])


async def test_a_scanned_letter_is_cleaned_like_a_web_upload(
    client: Client, settings: Settings
) -> None:
    await _officer_with_box(client, settings)
    form = await csrf_form(
        client, "/cases/new", channel="letter", category="gang_crime", content=TRANSCRIPT
    )
    response = await client.post(
        "/cases/new",
        data=form,
        files=[("attachments", ("scan.jpg", jpeg_with_gps(), "image/jpeg"))],
    )
    assert response.status_code == 201, response.text
    assert "GPS" in response.text and "回信地址" in response.text
    (attachment,) = await TipAttachment.select()
    assert b"MarkerCamMake" not in bytes(attachment["body"])
    ledger_no = ledger_no_on_page(response.text)
    case = (await client.get(f"/api/v1/cases/{ledger_no}")).json()
    download = await client.get(
        f"/api/v1/cases/{ledger_no}/attachments/{case['attachments'][0]['uid']}"
    )
    assert download.content.startswith(b"\xff\xd8") and b"MarkerCamMake" not in download.content


@pytest.mark.parametrize("role", ["inspector", "township_staff", "county_staff", "admin"])
async def test_only_officers_enter_tips(client: Client, settings: Settings, role: str) -> None:
    await open_tip_box(settings)
    await sign_in(client, role)
    assert (await client.get("/cases/new")).status_code == 403
    form = {"channel": "phone", "category": "gang_crime", "content": TRANSCRIPT}
    page = await client.post(
        "/cases/new", data=form | {"_csrf_token": client.cookies.get("csrftoken") or ""}
    )
    assert page.status_code == 403
    api = await client.post("/api/v1/cases/intake", json=form)
    assert api.status_code == 403
    assert (await client.get("/api/v1/cases/2026-000001/transcript")).status_code == 403
    assert await Tip.count() == 0 and await _events("tip.received") == []


async def test_the_anonymous_enter_nothing(client: Client, settings: Settings) -> None:
    await open_tip_box(settings)
    page = await client.get("/cases/new", follow_redirects=False)
    assert page.status_code == 302 and page.headers["location"] == "/login?next=/cases/new"
    api = await client.post(
        "/api/v1/cases/intake",
        json={"channel": "phone", "category": "gang_crime", "content": TRANSCRIPT},
    )
    assert api.status_code == 401
    assert await Tip.count() == 0


async def test_bad_input_is_refused_and_nothing_is_stored(
    client: Client, settings: Settings
) -> None:
    await _officer_with_box(client, settings)
    other_township = await OrgUnit.insert(
        OrgUnit(code="999902", name="别镇", kind="township", parent=None)
    ).returning(OrgUnit.id)
    cases = [
        ({"channel": "web"}, 400, "请选择来源渠道"),
        ({"channel": "fax"}, 400, "请选择来源渠道"),
        ({"content": "   "}, 400, None),
        ({"category": "nonsense"}, 400, None),
        ({"township": "987654"}, 400, None),
        ({"township": "x1"}, 400, None),
        ({"real_name": "1", "name": "", "contact": ""}, 400, None),
        ({"who": "x" * 201}, 400, None),
        ({"village": str(other_township[0]["id"])}, 400, None),
    ]
    for fields, status, text in cases:
        response = await _enter(client, **fields)
        assert response.status_code == status, (fields, response.text)
        if text:
            assert text in response.text
        if fields.get("content") is None and status == 400 and "channel" in fields:
            assert TRANSCRIPT in response.text  # the form keeps what was typed

    no_csrf = await client.post(
        "/cases/new", data={"channel": "phone", "category": "gang_crime", "content": "x"}
    )
    assert no_csrf.status_code == 403
    wrong_csrf = await client.post(
        "/cases/new",
        data={
            "channel": "phone",
            "category": "gang_crime",
            "content": "x",
            "_csrf_token": "a" * 80,
        },
    )
    assert wrong_csrf.status_code == 403

    api_cases = [
        {"channel": "web", "category": "gang_crime", "content": "x"},
        {"channel": "phone", "category": "gang_crime"},
        {"channel": "phone", "category": "gang_crime", "content": "x", "extra": 1},
        {"channel": "phone", "category": "nope", "content": "x"},
    ]
    for body in api_cases:
        response = await client.post("/api/v1/cases/intake", json=body)
        assert response.status_code == 400, (body, response.text)
    executable = await client.post(
        "/cases/new",
        files=[("attachments", ("x.exe", b"MZ\x90\x00" * 10, "application/octet-stream"))],
        data=await csrf_form(client, "/cases/new", channel="letter", category="other", content="x"),
    )
    assert executable.status_code == 400
    assert "无法接收此类文件" in executable.text

    assert await Tip.count() == 0 and await TipKey.count() == 0
    assert await _events("tip.received") == []


async def test_a_web_tip_has_no_transcript(
    client: Client, app: Litestar, settings: Settings
) -> None:
    await _officer_with_box(client, settings)
    tipster = await extra_client(app)
    tip = (
        await tipster.post("/api/v1/tips", json={"category": "other", "content": "网上举报"})
    ).json()
    await tipster.post("/tip/mailbox", data={"receipt": tip["receipt"]})
    mailbox = await tipster.get("/tip/mailbox")
    assert "/tip/mailbox/transcript" not in mailbox.text
    assert (await tipster.get("/tip/mailbox/transcript")).status_code == 404
    assert (await tipster.post("/api/v1/tipster/transcript/confirm")).status_code == 404
    fix = await tipster.post("/api/v1/tipster/transcript/corrections", json={"text": "x"})
    assert fix.status_code == 404
    assert await _events("tip.transcript_confirmed") == []
    assert await TipMessage.count() == 0
    assert (await client.get(f"/api/v1/cases/{tip['ledger_no']}/transcript")).status_code == 404
    assert 'id="transcript"' not in (await client.get(f"/cases/{tip['ledger_no']}")).text

    # Without a session the transcript page sends the caller to the receipt login.
    anonymous = await extra_client(app)
    away = await anonymous.get("/tip/mailbox/transcript", follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"] == "/tip/mailbox"
    assert (await anonymous.post("/api/v1/tipster/transcript/confirm")).status_code == 403


async def test_english_pages(client: Client, app: Litestar, settings: Settings) -> None:
    await _officer_with_box(client, settings)
    client.cookies.set("lang", "en")
    page = await client.get("/cases/new")
    assert "Enter a tip taken by phone, letter or visit" in page.text
    response = await _enter(client)
    assert "Read it out to the caller group by group" in response.text
    caller = await _caller(app, receipt_on_page(response.text))
    caller.cookies.set("lang", "en")
    transcript = await caller.get("/tip/mailbox/transcript")
    assert "Officer&#39;s transcript (not written by you)" in transcript.text


async def test_without_an_escrow_key_the_form_says_so_and_nothing_is_stored(
    client: Client, settings: Settings
) -> None:
    await sign_in(client, "officer")
    page = await client.get("/cases/new")
    assert page.status_code == 200 and "托管密钥尚未生成" in page.text
    assert 'action="/cases/new"' not in page.text
    refused = await _enter(client)
    assert refused.status_code == 503
    api = await client.post(
        "/api/v1/cases/intake",
        json={"channel": "phone", "category": "gang_crime", "content": TRANSCRIPT},
    )
    assert api.status_code == 503 and api.json()["error"] == "intake.error.tip_box_closed"
    assert await Tip.count() == 0
