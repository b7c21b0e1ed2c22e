"""Who may read a tip: granting and revoking access, opening a real-name identity under a
second officer's approval, and the roles that see nothing; through HTTP, on both databases."""

from __future__ import annotations

import json
import re

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import csrf_form, extra_client, sign_in
from tests.tipline.cases.test_controllers import IDENTITY_NAME, _events, _open_box, _submit
from tipline.cases.tables import CaseApproval
from tipline.intake.tables import TipKey
from tipline.ledger.services import verify_chain
from tipline.settings import Settings

Client = AsyncTestClient[Litestar]


async def test_grant_lets_a_new_officer_read_and_revoke_takes_it_back(
    client: Client, app: Litestar, settings: Settings
) -> None:
    first = await sign_in(client, "officer")
    await _open_box(settings)
    ledger_no = (await _submit(app, identity=True))["ledger_no"]
    late_client = await extra_client(app)
    late = await sign_in(late_client, "officer")  # their key is newer than the tip

    refused = await late_client.get(f"/api/v1/cases/{ledger_no}")
    assert refused.status_code == 403 and refused.json()["error"] == "cases.error.not_a_recipient"
    holders = (await client.get(f"/api/v1/cases/{ledger_no}/access")).json()
    assert [(h["kind"], h["officer_id"]) for h in holders] == [
        ("officer", first["id"]),
        ("escrow", None),
    ]
    assert not any(h["revocable"] for h in holders)  # the only officer, and the escrow

    no_reason = await client.post(
        f"/api/v1/cases/{ledger_no}/access", json={"officer_id": late["id"], "reason": " "}
    )
    assert no_reason.status_code == 400
    # An officer who cannot open the tip cannot hand it on either.
    self_grant = await late_client.post(
        f"/api/v1/cases/{ledger_no}/access", json={"officer_id": late["id"], "reason": "我要看"}
    )
    assert self_grant.status_code == 403

    page = await client.get(f"/cases/{ledger_no}")
    assert f'<option value="{late["id"]}">' in page.text  # offered in the grant form
    form = await csrf_form(
        client, f"/cases/{ledger_no}", officer=str(late["id"]), reason="新指定的专人"
    )
    granted = await client.post(f"/cases/{ledger_no}/access", data=form, follow_redirects=False)
    assert granted.status_code == 303, granted.text
    opened = await late_client.get(f"/api/v1/cases/{ledger_no}")
    assert opened.status_code == 200 and "MARKER-7731" in opened.json()["fields"]["content"]
    again = await client.post(
        f"/api/v1/cases/{ledger_no}/access", json={"officer_id": late["id"], "reason": "再次"}
    )
    assert again.status_code == 409
    (event,) = await _events("tip.access_granted")
    payload = json.loads(event["payload"])
    assert payload["officer_id"] == late["id"] and payload["purposes"] == ["content", "identity"]
    assert event["actor_id"] == str(first["id"]) and payload["reason"] == "新指定的专人"

    page = await client.get(f"/cases/{ledger_no}")
    assert f'action="/cases/{ledger_no}/access/{late["id"]}/revoke"' in page.text
    form = await csrf_form(client, f"/cases/{ledger_no}", reason="调离专人岗位")
    revoked = await client.post(
        f"/cases/{ledger_no}/access/{late['id']}/revoke", data=form, follow_redirects=False
    )
    assert revoked.status_code == 303, revoked.text
    after = await late_client.get(f"/api/v1/cases/{ledger_no}")
    assert after.status_code == 403 and after.json()["error"] == "cases.error.not_a_recipient"
    assert not await TipKey.select().where(TipKey.recipient_id == str(late["id"]))
    (event,) = await _events("tip.access_revoked")
    assert json.loads(event["payload"])["purposes"] == ["content", "identity"]

    # Never the last officer; the escrow has no officer id to revoke.
    last = await client.post(
        f"/api/v1/cases/{ledger_no}/access/{first['id']}/revoke", json={"reason": "离职"}
    )
    assert last.status_code == 409 and last.json()["error"] == "cases.error.last_officer"
    none = await client.post(
        f"/api/v1/cases/{ledger_no}/access/{late['id']}/revoke", json={"reason": "再次"}
    )
    assert none.status_code == 409
    assert (await client.get(f"/api/v1/cases/{ledger_no}")).status_code == 200
    kinds = {row["recipient_kind"] for row in await TipKey.select(TipKey.recipient_kind)}
    assert "escrow" in kinds
    timeline = (await client.get(f"/api/v1/cases/{ledger_no}/timeline")).json()
    assert [e["reason"] for e in timeline if e["action"].startswith("tip.access_")] == [
        "新指定的专人",
        "调离专人岗位",
    ]
    assert (await verify_chain()).ok


async def test_opening_a_real_name_identity_needs_a_second_officer_once(
    client: Client, app: Litestar, settings: Settings
) -> None:
    first = await sign_in(client, "officer")
    second_client = await extra_client(app)
    second = await sign_in(second_client, "officer")
    await _open_box(settings)
    ledger_no = (await _submit(app, identity=True))["ledger_no"]
    anonymous = (await _submit(app))["ledger_no"]

    none = await client.post(
        f"/api/v1/cases/{anonymous}/approvals", json={"action": "open_identity", "reason": "核实"}
    )
    assert none.status_code == 409 and none.json()["error"] == "cases.error.no_identity"

    # A first request, refused.
    asked = await client.post(
        f"/api/v1/cases/{ledger_no}/approvals",
        json={"action": "open_identity", "reason": "需要当面核实"},
    )
    assert asked.status_code == 201
    refused = await second_client.post(
        f"/api/v1/cases/approvals/{asked.json()['id']}",
        json={"approve": False, "reason": "可先通过信箱联系"},
    )
    assert refused.status_code == 200
    cannot = await client.post(f"/api/v1/cases/{ledger_no}/identity/{asked.json()['id']}")
    assert cannot.status_code == 403 and cannot.json()["error"] == "cases.error.not_approved"

    # A second request, through the pages, approved.
    page = await client.get(f"/cases/{ledger_no}")
    assert "可先通过信箱联系" in page.text  # the refusal is in the history
    form = await csrf_form(
        client, f"/cases/{ledger_no}", action="open_identity", reason="举报人同意见面核实"
    )
    done = await client.post(f"/cases/{ledger_no}/approvals", data=form, follow_redirects=False)
    assert done.status_code == 303
    row = await CaseApproval.select().where(CaseApproval.status == "pending").first()
    assert row is not None
    approval_id = row["id"]
    early = await client.post(f"/api/v1/cases/{ledger_no}/identity/{approval_id}")
    assert early.status_code == 403
    form = await csrf_form(second_client, "/cases/approvals", decision="approve", reason="同意")
    decided = await second_client.post(
        f"/cases/approvals/{approval_id}", data=form, follow_redirects=False
    )
    assert decided.status_code == 303

    # The approver cannot use the requester's approval.
    theirs = await second_client.post(f"/api/v1/cases/{ledger_no}/identity/{approval_id}")
    assert theirs.status_code == 403
    page = await client.get(f"/cases/{ledger_no}")
    assert f'action="/cases/{ledger_no}/identity/{approval_id}"' in page.text
    assert IDENTITY_NAME not in page.text
    form = await csrf_form(client, f"/cases/{ledger_no}")
    identity = await client.post(f"/cases/{ledger_no}/identity/{approval_id}", data=form)
    assert identity.status_code == 200, identity.text
    assert IDENTITY_NAME in identity.text and "13900000000" in identity.text
    twice = await client.post(f"/cases/{ledger_no}/identity/{approval_id}", data=form)
    assert twice.status_code == 403 and IDENTITY_NAME not in twice.text
    row = await CaseApproval.select().where(CaseApproval.id == approval_id).first()
    assert row is not None and row["status"] == "used"

    (opened,) = await _events("tip.identity_opened")
    assert opened["actor_id"] == str(first["id"])
    assert json.loads(opened["payload"])["approved_by"] == second["id"]
    assert IDENTITY_NAME not in opened["payload"]
    page = await client.get(f"/cases/{ledger_no}")
    assert IDENTITY_NAME not in page.text
    history = page.text[page.text.index('id="identity"') :]
    for step in ("申请", "拒绝", "批准", "已打开", "需要当面核实", "举报人同意见面核实"):
        assert step in history, step
    all_events = "".join(e["payload"] for e in await _events("tip.approval_requested"))
    assert IDENTITY_NAME not in all_events
    assert (await verify_chain()).ok


@pytest.mark.parametrize("role", ["inspector", "leader", "township_staff", "county_staff", "admin"])
async def test_other_roles_get_403_on_every_handling_route(
    client: Client, app: Litestar, settings: Settings, role: str
) -> None:
    officer_client = await extra_client(app)
    officer = await sign_in(officer_client, "officer")
    await _open_box(settings)
    ledger_no = (await _submit(app, identity=True))["ledger_no"]
    asked = await officer_client.post(
        f"/api/v1/cases/{ledger_no}/approvals", json={"action": "void", "reason": "测试"}
    )
    assert asked.status_code == 201
    approval_id = asked.json()["id"]
    await sign_in(client, role)
    gets = [
        "/cases/approvals",
        "/api/v1/cases/approvals",
        f"/api/v1/cases/{ledger_no}/timeline",
        f"/api/v1/cases/{ledger_no}/access",
        f"/cases/{ledger_no}",
    ]
    for path in gets:
        response = await client.get(path)
        assert response.status_code == 403, path
        assert "MARKER-7731" not in response.text and IDENTITY_NAME not in response.text
    posts = {
        f"/api/v1/cases/{ledger_no}/register": {
            "category": "other",
            "summary": "x",
            "reason": "x",
        },
        f"/api/v1/cases/{ledger_no}/transitions": {"action": "assess", "reason": "x"},
        f"/api/v1/cases/{ledger_no}/approvals": {"action": "void", "reason": "x"},
        f"/api/v1/cases/approvals/{approval_id}": {"approve": True, "reason": "x"},
        f"/api/v1/cases/approvals/{approval_id}/withdraw": {"reason": "x"},
        f"/api/v1/cases/{ledger_no}/assign": {"officer_id": officer["id"], "reason": "x"},
        f"/api/v1/cases/{ledger_no}/access": {"officer_id": officer["id"], "reason": "x"},
        f"/api/v1/cases/{ledger_no}/access/{officer['id']}/revoke": {"reason": "x"},
        f"/api/v1/cases/{ledger_no}/identity/{approval_id}": {},
    }
    for path, body in posts.items():
        assert (await client.post(path, json=body)).status_code == 403, path
    form = await csrf_form(client, "/account", reason="x", action="assess", decision="approve")
    for path in (
        f"/cases/{ledger_no}/register",
        f"/cases/{ledger_no}/transitions",
        f"/cases/{ledger_no}/approvals",
        f"/cases/approvals/{approval_id}",
        f"/cases/approvals/{approval_id}/withdraw",
        f"/cases/{ledger_no}/assign",
        f"/cases/{ledger_no}/access",
        f"/cases/{ledger_no}/access/{officer['id']}/revoke",
        f"/cases/{ledger_no}/identity/{approval_id}",
    ):
        assert (await client.post(path, data=form)).status_code == 403, path
    row = await CaseApproval.select().where(CaseApproval.id == approval_id).first()
    assert row is not None and row["status"] == "pending"
    assert await _events("tip.viewed") == [] and await _events("tip.registered") == []


async def test_the_json_mirror_is_described_in_the_openapi_document(client: Client) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    paths = document["paths"]
    for path, method in (
        ("/api/v1/cases", "get"),
        ("/api/v1/cases/approvals", "get"),
        ("/api/v1/cases/approvals/{approval_id}", "post"),
        ("/api/v1/cases/{ledger_no}/register", "post"),
        ("/api/v1/cases/{ledger_no}/transitions", "post"),
        ("/api/v1/cases/{ledger_no}/approvals", "post"),
        ("/api/v1/cases/{ledger_no}/access", "post"),
        ("/api/v1/cases/{ledger_no}/identity/{approval_id}", "post"),
    ):
        assert method in paths[path], path
    schemas = document["components"]["schemas"]
    for name in ("RegisterBody", "TransitionBody", "DecisionBody", "ApprovalOut", "CaseRow"):
        assert any(key.endswith(name) for key in schemas), name
    register = paths["/api/v1/cases/{ledger_no}/register"]["post"]
    assert "201" in register["responses"]


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_every_label_of_the_case_pages_is_translated(
    client: Client, app: Litestar, settings: Settings, language: str
) -> None:
    await sign_in(client, "officer")
    second_client = await extra_client(app)
    await sign_in(second_client, "officer")
    await _open_box(settings)
    ledger_no = (await _submit(app, identity=True))["ledger_no"]
    registered = await client.post(
        f"/api/v1/cases/{ledger_no}/register",
        json={"category": "usury", "summary": "摘要", "reason": "登记"},
    )
    assert registered.status_code == 201
    for action in ("void", "open_identity"):
        asked = await client.post(
            f"/api/v1/cases/{ledger_no}/approvals", json={"action": action, "reason": "理由"}
        )
        assert asked.status_code == 201
    decided = await second_client.post(
        f"/api/v1/cases/approvals/{asked.json()['id']}", json={"approve": True, "reason": "同意"}
    )
    assert decided.status_code == 200
    client.cookies.set("lang", language)
    for path in ("/cases", f"/cases/{ledger_no}", "/cases/approvals"):
        page = await client.get(path)
        assert page.status_code == 200, path
        leftovers = re.findall(r"\b(?:cases|duedates|intake)\.[a-z_]+[a-z_.]*", page.text)
        assert not leftovers, (path, leftovers)
