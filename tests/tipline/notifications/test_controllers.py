"""The inbox page, the unread count in the navigation, and the JSON inbox."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import csrf_form, log_in, sign_in
from tipline.notifications import services


async def _notify(account_id: int, ledger_no: str) -> None:
    await services.notify(
        [account_id],
        "deadline",
        "notifications.test.due",
        {"ledger_no": ledger_no, "due_on": "2026-12-04"},
        f"/cases/{ledger_no}",
    )


async def test_inbox_page_shows_messages_and_the_unread_count_and_marks_them_read(
    client: AsyncTestClient[Litestar],
) -> None:
    client.cookies.set("lang", "en")
    account = await sign_in(client, "county_staff")
    await _notify(account["id"], "2026-000001")
    await _notify(account["id"], "2026-000002")
    page = await client.get("/inbox")
    assert page.status_code == 200
    assert "Ledger no. 2026-000001 is due on 2026-12-04." in page.text
    assert '<span class="badge">2</span>' in page.text
    home = await client.get("/")
    assert '<span class="badge">2</span>' in home.text
    box = await services.inbox(account["id"], "en")
    form = await csrf_form(client, "/inbox")
    answer = await client.post(f"/inbox/{box.items[0].id}/read", data=form, follow_redirects=False)
    assert answer.status_code == 303
    assert '<span class="badge">1</span>' in (await client.get("/inbox")).text
    answer = await client.post("/inbox/read-all", data=form, follow_redirects=False)
    assert answer.status_code == 303
    page = await client.get("/inbox")
    assert 'class="badge"' not in page.text
    assert "Mark read" not in page.text


async def test_the_json_inbox_and_no_access_to_another_accounts_messages(
    client: AsyncTestClient[Litestar],
) -> None:
    owner = await sign_in(client, "officer")
    await _notify(owner["id"], "2026-000003")
    body = (await client.get("/api/v1/inbox")).json()
    assert body["unread"] == 1
    [item] = body["items"]
    assert item["params"] == {"ledger_no": "2026-000003", "due_on": "2026-12-04"}
    assert "2026-000003" in item["text"]
    await sign_in(client, "inspector")
    assert (await client.get("/api/v1/inbox")).json()["items"] == []
    refused = await client.post(f"/api/v1/inbox/{item['id']}/read")
    assert refused.status_code == 404
    assert (await services.inbox(owner["id"], "en")).unread == 1
    await log_in(client, owner)
    done = await client.post(f"/api/v1/inbox/{item['id']}/read")
    assert done.status_code == 200
    assert done.json()["unread"] == 0


async def test_the_inbox_needs_a_signed_in_account(client: AsyncTestClient[Litestar]) -> None:
    assert (await client.get("/api/v1/inbox")).status_code == 401
    page = await client.get("/inbox", follow_redirects=False)
    assert page.status_code == 302 and page.headers["location"] == "/login?next=/inbox"
