"""The web tip box, the tipster's mailbox and the tip API through HTTP, on both databases."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar, post
from litestar.datastructures import UploadFile
from litestar.params import MultipartBody
from litestar.testing import AsyncTestClient

from tests.conftest import extra_client
from tests.tipline.intake.support import (
    jpeg_with_gps,
    ledger_no_on_page,
    noisy_jpeg,
    open_tip_box,
    receipt_on_page,
)
from tipline import db
from tipline.crypto import services as crypto_services
from tipline.intake import receipts, services
from tipline.intake.ratelimit import limits_for
from tipline.intake.tables import Tip, TipAttachment
from tipline.ledger.tables import CustodyEvent
from tipline.orgunits.tables import OrgUnit, OrgUnitKind
from tipline.settings import Settings

Client = AsyncTestClient[Litestar]
RECEIPT = re.compile(r"^\d{4}( \d{4}){5}$")


async def _submit_json(client: Client, content: str = "村霸强占耕地", **extra: Any) -> Any:
    return await client.post(
        "/api/v1/tips", json={"category": "village_bully", "content": content, **extra}
    )


# --- landing, form, closed box ------------------------------------------------------------


async def test_a_closed_tip_box_says_so_and_accepts_nothing(
    client: Client, settings: Settings
) -> None:
    landing = await client.get("/tip")
    assert landing.status_code == 200
    assert "举报信箱尚未开通" in landing.text
    assert 'href="/tip/new"' not in landing.text
    form = await client.get("/tip/new")
    assert form.status_code == 503 and "举报信箱尚未开通" in form.text
    api = await _submit_json(client)
    assert api.status_code == 503
    assert api.json()["error"] == "intake.error.tip_box_closed"
    page = await client.post("/tip/new", data={"category": "gang_crime", "content": "x"})
    assert page.status_code == 503 and "举报信箱尚未开通" in page.text
    # An officer key alone does not open it: tips must also be sealed to the escrow key.
    await open_tip_box(settings, escrow=False)
    assert (await _submit_json(client)).status_code == 503
    assert await Tip.count() == 0


async def test_tip_pages_set_no_cookie_and_explain_what_stays_secret(
    client: Client, settings: Settings
) -> None:
    await open_tip_box(settings)
    for path in ("/tip", "/tip/new", "/tip/mailbox"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert "set-cookie" not in response.headers, path
        assert response.headers["cache-control"] == "no-store"
        assert 'name="viewport"' in response.text
    stylesheet = await client.get("/static/tipline.css")
    assert stylesheet.status_code == 200 and "set-cookie" not in stylesheet.headers
    assert not client.cookies
    landing = (await client.get("/tip")).text
    for text in ("村霸", "保护伞", "干扰破坏基层换届选举", "网络运营商", "不记录您的IP地址"):
        assert text in landing
    form = (await client.get("/tip/new")).text
    assert 'enctype="multipart/form-data"' in form
    for field in ("category", "content", "township", "village", "occurred", "who", "name"):
        assert f'id="{field}"' in form and f'for="{field}"' in form
    assert "实名举报" in form and "<script" not in form
    english = await extra_client(client.app)
    async with english:
        await english.get("/lang/en")
        page = await english.get("/tip")
        assert "What stays secret" in page.text


# --- submitting ---------------------------------------------------------------------------


async def test_submit_through_the_api(client: Client, settings: Settings) -> None:
    box = await open_tip_box(settings)
    response = await _submit_json(client, occurred="上个月", who="某村主任")
    assert response.status_code == 201, response.text
    body = response.json()
    assert RECEIPT.match(body["receipt"])
    assert re.fullmatch(r"\d{4}-000001", body["ledger_no"])
    assert "set-cookie" not in response.headers
    tip = await Tip.select().first()
    assert tip is not None
    opened = await services.open_tip_content(
        tip["id"], box["officer"]["private_key"], "officer", box["officer"]["id"]
    )
    assert opened.fields.content == "村霸强占耕地" and opened.fields.who == "某村主任"
    event = await CustodyEvent.select().where(CustodyEvent.action == "tip.received").first()
    assert event is not None and body["ledger_no"] in event["payload"]
    assert "村霸" not in event["payload"]


@pytest.mark.parametrize(
    "body",
    [
        {"category": "gang_crime"},
        {"category": "gang_crime", "content": ""},
        {"category": "gang_crime", "content": "x", "extra": 1},
        {"category": "gang_crime", "content": "x" * 10_001},
        {"category": "gang_crime", "content": "x", "who": "y" * 201},
    ],
)
async def test_bad_api_tips_get_a_400(client: Client, settings: Settings, body: Any) -> None:
    await open_tip_box(settings)
    response = await client.post("/api/v1/tips", json=body)
    assert response.status_code == 400, response.text
    assert await Tip.count() == 0


async def test_submit_the_form_with_a_photo_gets_the_receipt_page(
    client: Client, settings: Settings
) -> None:
    box = await open_tip_box(settings)
    county = await OrgUnit.insert(
        OrgUnit(code="990000", name="测试县", kind=OrgUnitKind.county)
    ).returning(OrgUnit.id)
    township = await OrgUnit.insert(
        OrgUnit(code="990001", name="东镇", kind=OrgUnitKind.township, parent=county[0]["id"])
    ).returning(OrgUnit.id)
    village = await OrgUnit.insert(
        OrgUnit(code="990001201", name="柳树村", kind=OrgUnitKind.village, parent=township[0]["id"])
    ).returning(OrgUnit.id)
    form = await client.get("/tip/new")
    assert "柳树村" in form.text and "东镇" in form.text

    response = await client.post(
        "/tip/new",
        data={
            "category": "protective_umbrella",
            "content": "派出所副所长包庇赌场",
            "township": str(township[0]["id"]),
            "village": str(village[0]["id"]),
            "occurred": "2026年3月",
            "who": "",
            "real_name": "1",
            "name": "赵六",
            "contact": "13900000000",
        },
        files=[("attachments", ("IMG_0001.jpg", jpeg_with_gps(), "image/jpeg"))],
    )
    assert response.status_code == 201, response.text
    assert "set-cookie" not in response.headers
    assert response.headers["cache-control"] == "no-store"
    receipt = receipt_on_page(response.text)
    assert "回执只显示这一次" in response.text and "GPS" in response.text
    assert receipt not in str(response.url)

    tip = await Tip.select().first()
    assert tip is not None and tip["has_identity"]
    officer = box["officer"]
    opened = await services.open_tip_content(
        tip["id"], officer["private_key"], "officer", officer["id"]
    )
    assert opened.fields.village == "柳树村" and "赵六" not in repr(opened)
    identity = await services.open_tip_identity(
        tip["id"], officer["private_key"], "officer", officer["id"]
    )
    assert identity is not None and identity.name == "赵六"
    assert len(opened.attachments) == 1 and "GPS" in opened.attachments[0].removed
    photo = await services.open_attachment(
        tip["id"], opened.attachments[0].uid, officer["private_key"], "officer", officer["id"]
    )
    assert photo.media_type == "image/jpeg" and b"MarkerCamMake" not in photo.data
    assert b"IMG_0001" not in (await TipAttachment.select().first() or {}).get("body", b"")


async def test_a_refused_form_is_shown_again_with_its_text(
    client: Client, settings: Settings
) -> None:
    await open_tip_box(settings)
    response = await client.post(
        "/tip/new", data={"category": "gang_crime", "content": "   ", "who": "某人"}
    )
    assert response.status_code == 400
    assert "请填写“发生了什么”" in response.text and 'value="某人"' in response.text
    wrong_type = await client.post(
        "/tip/new",
        data={"category": "gang_crime", "content": "看附件"},
        files=[("attachments", ("evil.jpg", b"MZ\x90\x00not a photo", "image/jpeg"))],
    )
    assert wrong_type.status_code == 400, wrong_type.text
    assert "看附件" in wrong_type.text and "无法接收此类文件" in wrong_type.text
    assert await Tip.count() == 0


async def test_oversized_uploads_get_a_413_and_leave_nothing(
    app: Litestar, client: Client, settings: Settings
) -> None:
    await open_tip_box(settings)
    app.state.settings = dataclasses.replace(
        settings, max_attachment_bytes=100_000, max_tip_attachments_bytes=150_000
    )
    one = await client.post(
        "/tip/new",
        data={"category": "gang_crime", "content": "x"},
        files=[("attachments", ("a.jpg", b"\xff\xd8" + b"0" * 120_000, "image/jpeg"))],
    )
    assert one.status_code == 413 and "单个文件不能超过0.0954MB" in one.text
    many = await client.post(
        "/api/v1/tips",
        data={"category": "gang_crime", "content": "x"},
        files=[
            ("attachments", ("a.jpg", b"\xff\xd8" + b"0" * 90_000, "image/jpeg")),
            ("attachments", ("b.jpg", b"\xff\xd8" + b"0" * 90_000, "image/jpeg")),
        ],
    )
    assert many.status_code == 413
    assert many.json()["error"] == "intake.error.files_too_large"
    assert await Tip.count() == 0 and await TipAttachment.count() == 0


@pytest.fixture
def file_opens() -> Iterator[list[tuple[str, int]]]:
    """Every ``os.open`` for writing (``tempfile`` makes its files with it) while active."""
    opened: list[tuple[str, int]] = []
    real_open = os.open
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT | getattr(os, "O_TMPFILE", 0)

    def recording_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & writing:
            opened.append((str(path), flags))
        return real_open(path, flags, *args, **kwargs)

    os.open = recording_open  # type: ignore[assignment]
    try:
        yield opened
    finally:
        os.open = real_open


async def test_a_3_mb_upload_writes_no_file(
    client: Client, settings: Settings, file_opens: list[tuple[str, int]]
) -> None:
    await open_tip_box(settings)
    receipts.receipt_key(settings)  # made on first use: not part of this check
    photo = noisy_jpeg((1800, 1400))
    assert len(photo) > 3_000_000

    # The check itself works: Litestar's own form parsing spools this upload to a file.
    @post("/spool", signature_namespace={"UploadFile": UploadFile})
    async def spool(data: MultipartBody[dict[str, UploadFile]]) -> None:
        await data["photo"].read()

    control = Litestar([spool])
    async with AsyncTestClient(control) as control_client:
        file_opens.clear()
        await control_client.post("/spool", files={"photo": ("p.jpg", photo, "image/jpeg")})
        assert file_opens, "the control upload should have spooled to a temporary file"

    file_opens.clear()
    response = await client.post(
        "/tip/new",
        data={"category": "gang_crime", "content": "照片见附件"},
        files=[("attachments", ("photo.jpg", photo, "image/jpeg"))],
    )
    assert response.status_code == 201, response.text[:500]
    assert file_opens == []


# --- the receipt --------------------------------------------------------------------------


async def test_the_receipt_confirmation_form(client: Client, settings: Settings) -> None:
    await open_tip_box(settings)
    page = await client.post("/tip/new", data={"category": "usury", "content": "高利贷"})
    receipt, ledger_no = receipt_on_page(page.text), ledger_no_on_page(page.text)
    fields = {"receipt": receipt, "ledger_no": ledger_no}
    wrong = str((int(receipt[-4:]) + 1) % 10000).zfill(4)
    mismatch = await client.post("/tip/receipt", data={**fields, "last_group": wrong})
    assert mismatch.status_code == 400
    assert "不一致" in mismatch.text and receipt_on_page(mismatch.text) == receipt
    saved = await client.post("/tip/receipt", data={**fields, "last_group": receipt[-4:]})
    assert saved.status_code == 200 and "回执已保存" in saved.text
    assert receipt not in saved.text
    assert "set-cookie" not in saved.headers


# --- the mailbox --------------------------------------------------------------------------


async def test_the_mailbox_shows_status_and_officer_messages(
    client: Client, settings: Settings
) -> None:
    box = await open_tip_box(settings)
    submitted = (await _submit_json(client, content="有人威胁选民")).json()
    tip = await Tip.select().first()
    assert tip is not None
    officer = box["officer"]
    await services.add_officer_message(
        tip["id"], officer["id"], "请问是哪个村？", officer["private_key"]
    )
    await Tip.update({Tip.status: "transferred"}).where(Tip.id == tip["id"])

    login = await client.post(
        "/tip/mailbox", data={"receipt": submitted["receipt"]}, follow_redirects=False
    )
    assert login.status_code == 303 and login.headers["location"] == "/tip/mailbox"
    cookie = login.headers["set-cookie"]
    assert cookie.startswith("tipster=") and "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower() and "csrftoken" not in cookie
    mailbox = await client.get("/tip/mailbox")
    assert mailbox.status_code == 200
    assert submitted["ledger_no"] in mailbox.text
    assert "已移送有管辖权的部门" in mailbox.text and "请问是哪个村？" in mailbox.text

    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', mailbox.text)
    assert csrf
    refused = await client.post("/tip/mailbox/messages", data={"text": "是东村", "csrf": "0" * 64})
    assert refused.status_code == 403
    sent = await client.post(
        "/tip/mailbox/messages",
        data={"text": "是东村", "csrf": csrf.group(1)},
        files=[("attachments", ("x.jpg", jpeg_with_gps(), "image/jpeg"))],
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    after = await client.get("/tip/mailbox?done=sent")
    assert "是东村" in after.text and "已收到您补充的内容" in after.text
    assert await TipAttachment.count() == 1

    api = await client.get("/api/v1/tipster/tip")
    assert api.status_code == 200
    assert api.json()["status"] == "transferred"
    assert [m["author"] for m in api.json()["messages"]] == ["officer", "tipster"]
    added = await client.post("/api/v1/tipster/messages", json={"text": "还有一个证人"})
    assert added.status_code == 201

    logout = await client.post(
        "/tip/mailbox/logout", data={"csrf": csrf.group(1)}, follow_redirects=False
    )
    assert logout.status_code == 303 and "tipster=" in logout.headers["set-cookie"]
    assert (await client.get("/api/v1/tipster/tip")).status_code == 403
    assert "请输入提交举报时得到的24位回执" in (await client.get("/tip/mailbox")).text


async def test_wrong_and_unknown_receipts_get_the_same_answer(
    client: Client, settings: Settings
) -> None:
    await open_tip_box(settings)
    receipt = (await _submit_json(client)).json()["receipt"].replace(" ", "")
    wrong = receipt[:-1] + str((int(receipt[-1]) + 1) % 10)
    never = receipts.new_receipt()
    answers = [
        await client.post("/api/v1/tipster/session", json={"receipt": attempt})
        for attempt in (wrong, never)
    ]
    assert [a.status_code for a in answers] == [403, 403]
    assert answers[0].content == answers[1].content
    assert "set-cookie" not in answers[0].headers
    pages = [
        await client.post("/tip/mailbox", data={"receipt": attempt}) for attempt in (wrong, never)
    ]
    assert [p.status_code for p in pages] == [403, 403]
    assert pages[0].content == pages[1].content
    # That both do the same work (so take the same time) is checked in test_services
    # (test_every_receipt_attempt_does_the_same_work_before_its_answer); the time itself
    # is measured by bench/receipt_timing.py, not asserted.


async def test_wrong_receipts_are_throttled(client: Client, settings: Settings) -> None:
    await open_tip_box(settings)
    receipt = (await _submit_json(client)).json()["receipt"]
    for _ in range(5):
        answer = await client.post("/api/v1/tipster/session", json={"receipt": "0" * 24})
        assert answer.status_code == 403
    throttled = await client.post("/api/v1/tipster/session", json={"receipt": receipt})
    assert throttled.status_code == 429
    assert throttled.json()["error"] == "intake.error.too_many_tries"
    page = await client.post("/tip/mailbox", data={"receipt": receipt})
    assert page.status_code == 429 and "15分钟" in page.text
    # Another address is not affected; the address itself is nowhere in the database.
    limits = limits_for(client.app)
    assert not limits.wrong_receipts.blocked(limits.client_key("192.0.2.7"))


async def test_submissions_are_throttled(client: Client, settings: Settings) -> None:
    await open_tip_box(settings)
    for _ in range(10):
        assert (await _submit_json(client)).status_code == 201
    refused = await _submit_json(client)
    assert refused.status_code == 429
    assert refused.json()["error"] == "intake.error.too_many_submissions"


async def test_nothing_stores_the_client_address_or_user_agent(
    client: Client, settings: Settings
) -> None:
    from tests.tipline.intake.test_services import dump_database

    await open_tip_box(settings)
    agent = "MarkerBrowser/9.9"
    response = await client.post(
        "/api/v1/tips",
        json={"category": "other", "content": "x"},
        headers={"user-agent": agent, "referer": "https://marker-referrer.example/"},
    )
    assert response.status_code == 201
    dump = await dump_database()
    for trace in (b"testclient", agent.encode(), b"marker-referrer"):
        assert trace not in dump


# --- concurrency --------------------------------------------------------------------------


async def test_64_concurrent_submissions_get_gap_free_numbers(
    client: Client, settings: Settings
) -> None:
    await open_tip_box(settings)
    limits_for(client.app).submissions.limit = 1_000
    start = time.perf_counter()
    answers = await asyncio.gather(
        *(_submit_json(client, content=f"并发举报 {index}") for index in range(64))
    )
    elapsed = time.perf_counter() - start
    assert [a.status_code for a in answers] == [201] * 64, [a.text for a in answers][:3]
    numbers = sorted(int(a.json()["ledger_no"].split("-")[1]) for a in answers)
    assert numbers == list(range(1, 65))
    assert len({a.json()["receipt"] for a in answers}) == 64
    assert await Tip.count() == 64
    assert await CustodyEvent.count().where(CustodyEvent.action == "tip.received") == 64
    print(
        f"64 concurrent submissions ({'postgres' if db.is_postgres() else 'sqlite'}): "
        f"{elapsed:.2f} s, {elapsed / 64 * 1000:.1f} ms per tip"
    )


async def test_officer_keys_made_after_a_tip_do_not_open_it(
    client: Client, settings: Settings
) -> None:
    await open_tip_box(settings)
    await _submit_json(client)
    tip = await Tip.select().first()
    assert tip is not None
    late = await open_tip_box(settings, escrow=False)
    assert await crypto_services.has_officer_key(late["officer"]["id"])
    with pytest.raises(Exception) as refused:
        await services.open_tip_content(
            tip["id"], late["officer"]["private_key"], "officer", late["officer"]["id"]
        )
    assert getattr(refused.value, "key", "") == "intake.error.not_a_recipient"
