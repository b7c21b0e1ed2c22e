"""The officer's tip ledger through HTTP: list, open, attachments, reply; on both databases."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import csrf_form, extra_client, make_account, sign_in
from tests.tipline.intake.support import jpeg_with_gps
from tipline.accounts.sessions import KEY_COOKIE_NAME
from tipline.crypto import services as crypto
from tipline.ledger.services import events_for, verify_chain
from tipline.ledger.tables import CustodyEvent
from tipline.settings import Settings

Client = AsyncTestClient[Litestar]

TIP_TEXT = "MARKER-7731 村主任纠集人员强占耕地"
IDENTITY_NAME = "MARKER-NAME-赵六"


async def _open_box(settings: Settings) -> None:
    await crypto.init_escrow_key(settings.data_dir / "escrow-test.pem")


async def _submit(app: Litestar, *, photo: bool = False, identity: bool = False) -> dict[str, Any]:
    """A tip sent by an anonymous tipster through the tip API; returns receipt and number."""
    tipster = await extra_client(app)
    fields: dict[str, Any] = {"category": "village_bully", "content": TIP_TEXT, "who": "某村主任"}
    if photo:
        form = {**fields}
        if identity:
            form |= {"real_name": "1", "name": IDENTITY_NAME, "contact": "13900000000"}
        response = await tipster.post(
            "/api/v1/tips",
            data=form,
            files=[("attachments", ("IMG_0001.jpg", jpeg_with_gps(), "image/jpeg"))],
        )
    else:
        if identity:
            fields["identity"] = {"name": IDENTITY_NAME, "contact": "13900000000"}
        response = await tipster.post("/api/v1/tips", json=fields)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _events(action: str) -> list[dict[str, Any]]:
    return list(
        await CustodyEvent.select().where(CustodyEvent.action == action).order_by(CustodyEvent.seq)
    )


async def test_an_officer_lists_and_reads_a_tip_and_the_opening_is_recorded(
    client: Client, app: Litestar, settings: Settings
) -> None:
    officer = await sign_in(client, "officer")
    await _open_box(settings)
    tip = await _submit(app, identity=True)

    listing = await client.get("/cases")
    assert listing.status_code == 200
    assert tip["ledger_no"] in listing.text and "网上举报信箱" in listing.text
    assert "MARKER-7731" not in listing.text  # metadata only
    assert await _events("tip.viewed") == []
    assert 'href="/cases"' in listing.text  # in the officer's navigation

    page = await client.get(f"/cases/{tip['ledger_no']}")
    assert page.status_code == 200, page.text
    assert "MARKER-7731" in page.text and "某村主任" in page.text
    assert "实名举报：另行密封" in page.text
    assert IDENTITY_NAME not in page.text and "13900000000" not in page.text
    assert page.headers["cache-control"] == "no-store"

    (viewed,) = await _events("tip.viewed")
    assert viewed["actor_type"] == "account" and viewed["actor_id"] == str(officer["id"])
    assert json.loads(viewed["payload"]) == {"ledger_no": tip["ledger_no"]}
    assert "MARKER" not in viewed["payload"]

    api = await client.get(f"/api/v1/cases/{tip['ledger_no']}")
    assert api.status_code == 200
    body = api.json()
    assert body["fields"]["content"] == TIP_TEXT and body["has_identity"] is True
    assert IDENTITY_NAME not in api.text
    assert len(await _events("tip.viewed")) == 2
    rows = (await client.get("/api/v1/cases")).json()
    assert rows == [
        {
            "ledger_no": tip["ledger_no"],
            "received_at": rows[0]["received_at"],
            "channel": "web",
            "status": "received",
            "attachments": 0,
            "category": None,
            "township_id": None,
            "township": None,
            "summary": "",
            "assigned_officer_id": None,
            "assigned_officer": None,
            "merged_into": None,
            "next_deadline": rows[0]["next_deadline"],
        }
    ]
    assert rows[0]["next_deadline"]["state"] == "ok"  # assess within 1 working day
    assert (await verify_chain()).ok


async def test_english_page_and_unknown_numbers(
    client: Client, app: Litestar, settings: Settings
) -> None:
    await sign_in(client, "officer")
    await _open_box(settings)
    tip = await _submit(app, identity=True)
    client.cookies.set("lang", "en")
    page = await client.get(f"/cases/{tip['ledger_no']}")
    assert page.status_code == 200
    assert "实名举报: sealed separately" in page.text
    for missing in ("/cases/2020-000009", "/cases/not-a-number", "/api/v1/cases/2020-000009"):
        response = await client.get(missing)
        assert response.status_code == 404, missing
    assert (await client.get("/api/v1/cases/2020-000009")).json()["error"] == (
        "cases.error.not_found"
    )


async def test_attachment_download_and_inline_photo(
    client: Client, app: Litestar, settings: Settings
) -> None:
    await sign_in(client, "officer")
    await _open_box(settings)
    tip = await _submit(app, photo=True)
    ledger_no = tip["ledger_no"]
    listing = (await client.get("/api/v1/cases")).json()
    assert listing[0]["attachments"] == 1

    case = (await client.get(f"/api/v1/cases/{ledger_no}")).json()
    (attachment,) = case["attachments"]
    assert attachment["filename"] == f"{ledger_no}-1.jpg" and "GPS" in attachment["removed"]
    page = await client.get(f"/cases/{ledger_no}")
    url = f"/cases/{ledger_no}/attachments/{attachment['uid']}"
    assert f'src="{url}?inline=true"' in page.text

    download = await client.get(url)
    assert download.status_code == 200
    assert download.headers["content-type"] == "image/jpeg"
    assert download.headers["content-disposition"] == (f'attachment; filename="{ledger_no}-1.jpg"')
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["cache-control"] == "no-store"
    assert download.content.startswith(b"\xff\xd8") and b"MarkerCamMake" not in download.content

    inline = await client.get(url, params={"inline": "true"})
    assert inline.status_code == 200
    assert inline.headers["content-disposition"] == f'inline; filename="{ledger_no}-1.jpg"'
    assert inline.content == download.content

    events = await _events("tip.attachment_downloaded")
    assert [json.loads(e["payload"])["inline"] for e in events] == [False, True]
    assert all(json.loads(e["payload"])["attachment"] == 1 for e in events)

    assert (await client.get(f"/cases/{ledger_no}/attachments/ffff")).status_code == 404
    api = await client.get(f"/api/v1/cases/{ledger_no}/attachments/{attachment['uid']}")
    assert api.status_code == 200 and api.content == download.content


async def test_a_reply_reaches_the_tipster_mailbox(
    client: Client, app: Litestar, settings: Settings
) -> None:
    officer = await sign_in(client, "officer")
    await _open_box(settings)
    tip = await _submit(app)
    ledger_no = tip["ledger_no"]

    form = await csrf_form(client, f"/cases/{ledger_no}", text="请问是哪个村？MARKER-REPLY")
    response = await client.post(f"/cases/{ledger_no}/messages", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/cases/{ledger_no}?done=sent#messages"
    page = await client.get(f"/cases/{ledger_no}?done=sent")
    assert "MARKER-REPLY" in page.text and "回复已发送" in page.text

    empty = await client.post(f"/cases/{ledger_no}/messages", data={**form, "text": "  "})
    assert empty.status_code == 400
    no_csrf = await client.post(f"/cases/{ledger_no}/messages", data={"text": "x"})
    assert no_csrf.status_code == 403

    api = await client.post(f"/api/v1/cases/{ledger_no}/messages", json={"text": "第二个问题"})
    assert api.status_code == 201 and api.json()["message_id"] > 0

    sent = await _events("tip.message_sent")
    assert len(sent) == 2 and all(e["actor_id"] == str(officer["id"]) for e in sent)
    assert all("MARKER" not in e["payload"] and "问题" not in e["payload"] for e in sent)

    tipster = await extra_client(app)
    login = await tipster.post("/api/v1/tipster/session", json={"receipt": tip["receipt"]})
    assert login.status_code == 204, login.text
    mailbox = (await tipster.get("/api/v1/tipster/tip")).json()
    assert [(m["author"], m["text"]) for m in mailbox["messages"]] == [
        ("officer", "请问是哪个村？MARKER-REPLY"),
        ("officer", "第二个问题"),
    ]
    # And the tipster's answer shows on the officer's page.
    assert (
        await tipster.post("/api/v1/tipster/messages", json={"text": "东村"})
    ).status_code == 201
    messages = (await client.get(f"/api/v1/cases/{ledger_no}")).json()["messages"]
    assert [m["author"] for m in messages] == ["officer", "officer", "tipster"]


@pytest.mark.parametrize("role", ["township_staff", "inspector", "county_staff", "admin"])
async def test_other_roles_are_refused_on_every_cases_route(
    client: Client, app: Litestar, settings: Settings, role: str
) -> None:
    await make_account("officer")
    await _open_box(settings)
    tip = await _submit(app, photo=True)
    await sign_in(client, role)
    ledger_no = tip["ledger_no"]
    gets = [
        "/cases",
        f"/cases/{ledger_no}",
        f"/cases/{ledger_no}/attachments/0123abcd",
        "/api/v1/cases",
        f"/api/v1/cases/{ledger_no}",
        f"/api/v1/cases/{ledger_no}/attachments/0123abcd",
    ]
    for path in gets:
        assert (await client.get(path)).status_code == 403, path
    form = await csrf_form(client, "/account", text="x")
    assert (await client.post(f"/cases/{ledger_no}/messages", data=form)).status_code == 403
    api = await client.post(f"/api/v1/cases/{ledger_no}/messages", json={"text": "x"})
    assert api.status_code == 403
    assert await _events("tip.viewed") == [] and await _events("tip.message_sent") == []
    nav = await client.get("/account")
    assert 'href="/cases"' not in nav.text


async def test_anonymous_visitors_are_sent_to_sign_in(client: Client) -> None:
    assert (await client.get("/api/v1/cases")).status_code == 401
    page = await client.get("/cases", follow_redirects=False)
    assert page.status_code == 302 and page.headers["location"] == "/login?next=/cases"


async def test_without_the_key_cookie_the_officer_is_asked_to_sign_in_again(
    client: Client, app: Litestar, settings: Settings
) -> None:
    await sign_in(client, "officer")
    await _open_box(settings)
    tip = await _submit(app, photo=True)
    ledger_no = tip["ledger_no"]
    uid = (await client.get(f"/api/v1/cases/{ledger_no}")).json()["attachments"][0]["uid"]
    viewed = len(await _events("tip.viewed"))

    for value in (None, "A" * 43, "not base64!"):
        client.cookies.delete(KEY_COOKIE_NAME)
        if value is not None:
            client.cookies.set(KEY_COOKIE_NAME, value)
        page = await client.get(f"/cases/{ledger_no}")
        assert page.status_code == 403
        assert "请重新登录以解锁密钥" in page.text and 'action="/logout"' in page.text
        assert "MARKER-7731" not in page.text
        download = await client.get(f"/cases/{ledger_no}/attachments/{uid}")
        assert download.status_code == 403 and "请重新登录以解锁密钥" in download.text
        api = await client.get(f"/api/v1/cases/{ledger_no}")
        assert api.status_code == 403 and api.json()["error"] == "cases.error.key_locked"
        reply = await client.post(f"/api/v1/cases/{ledger_no}/messages", json={"text": "x"})
        assert reply.status_code == 403
    # The list needs no key: it shows metadata only.
    assert (await client.get("/cases")).status_code == 200
    assert len(await _events("tip.viewed")) == viewed


async def test_an_officer_whose_key_is_newer_than_the_tip_is_told_to_ask_for_access(
    client: Client, app: Litestar, settings: Settings
) -> None:
    await make_account("officer")
    await _open_box(settings)
    tip = await _submit(app)
    late = await sign_in(client, "officer")
    response = await client.get(f"/api/v1/cases/{tip['ledger_no']}")
    assert response.status_code == 403
    assert response.json()["error"] == "cases.error.not_a_recipient"
    page = await client.get(f"/cases/{tip['ledger_no']}")
    assert page.status_code == 403 and "请求另一名指定专人为您授权" in page.text
    assert await events_for("tip", 1) and not await _events("tip.viewed")
    assert late["id"] > 0


async def test_the_ledger_is_listed_a_page_at_a_time_keeping_the_filters(
    client: Client, app: Litestar, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tipline.cases import services

    monkeypatch.setattr(services, "PAGE_SIZE", 2)
    await sign_in(client, "officer")
    await _open_box(settings)
    first, second, third = [(await _submit(app))["ledger_no"] for _ in range(3)]

    page_one = await client.get("/cases")
    assert page_one.status_code == 200
    assert third in page_one.text and second in page_one.text and first not in page_one.text
    assert 'href="/cases?page=2" rel="next"' in page_one.text and 'rel="prev"' not in page_one.text

    page_two = await client.get("/cases?page=2")
    assert page_two.status_code == 200
    assert first in page_two.text and second not in page_two.text and third not in page_two.text
    assert 'href="/cases?page=1" rel="prev"' in page_two.text and 'rel="next"' not in page_two.text

    # The filters stay on the links; a page past the end, or nonsense, is no error.
    filtered = await client.get("/cases?channel=web&status=received&q=-")
    assert "/cases?status=received&amp;channel=web&amp;q=-&amp;page=2" in filtered.text
    assert first in (await client.get("/cases?channel=web&page=2")).text
    assert first not in (await client.get("/cases?channel=phone&page=2")).text
    assert (await client.get("/cases?page=9")).status_code == 200
    assert third in (await client.get("/cases?page=x")).text

    # The search is decided row by row: a page still holds the next matches.
    searched = await client.get(f"/cases?q={first[:5]}&page=2")
    assert first in searched.text and second not in searched.text

    api = await client.get("/api/v1/cases", params={"page": 2})
    assert [row["ledger_no"] for row in api.json()] == [first]
    everything = await client.get("/api/v1/cases")
    assert [row["ledger_no"] for row in everything.json()] == [third, second, first]
    assert (await client.get("/api/v1/cases", params={"page": 0})).status_code == 400
    assert await _events("tip.viewed") == []  # listing opens nothing
