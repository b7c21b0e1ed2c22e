"""Escalations and deadline rules through HTTP: the officer cannot dismiss an escalation,
the inspector resolves it with a reason, the leader is told, e-mails carry no tip content."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import csrf_form, log_in, make_account, make_settings, sign_in
from tests.tipline.cases.test_controllers import IDENTITY_NAME, TIP_TEXT, _open_box, _submit
from tests.tipline.duedates.support import china, received_tip
from tests.tipline.notifications.smtp_server import (
    SmtpServer,
    smtp_server,  # noqa: F401 - a fixture
)
from tipline.accounts.tables import Account
from tipline.auth import Role
from tipline.duedates import services
from tipline.intake.tables import Tip
from tipline.ledger.services import events_for
from tipline.notifications import services as notifications
from tipline.settings import Settings

Client = AsyncTestClient[Litestar]


@pytest.fixture
def settings(database: str, tmp_path: Path, smtp_server: SmtpServer) -> Settings:  # noqa: F811
    return dataclasses.replace(
        make_settings(database, tmp_path / "data"),
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_from="tipline@county.example",
        smtp_starttls=False,
    )


async def _escalated_tip() -> tuple[int, str, int]:
    """A tip received before National Day 2020 whose transfer deadline was breached."""
    tip_id, ledger_no = await received_tip(china(2020, 9, 25))
    await services.sweep(today=dt.date(2020, 10, 10), now=china(2020, 10, 10))
    [escalation] = [e for e in await services.open_escalations() if e.kind == "transfer"]
    return tip_id, ledger_no, escalation.id


async def test_an_escalation_reaches_the_inspector_and_the_officer_cannot_dismiss_it(
    client: Client,
) -> None:
    client.cookies.set("lang", "en")
    inspector = await make_account(Role.inspector)
    leader = await make_account(Role.leader)
    officer = await sign_in(client, Role.officer)
    tip_id, ledger_no, escalation_id = await _escalated_tip()

    # The officer sees it, read only, and is refused when trying to dismiss it.
    page = await client.get("/escalations")
    assert page.status_code == 200
    assert ledger_no in page.text
    assert f"/escalations/{escalation_id}/resolve" not in page.text
    form = await csrf_form(client, "/escalations", reason="handled")
    refused = await client.post(f"/escalations/{escalation_id}/resolve", data=form)
    assert refused.status_code == 403
    api = await client.post(f"/api/v1/escalations/{escalation_id}/resolve", json={"reason": "x"})
    assert api.status_code == 403
    assert escalation_id in [e.id for e in await services.open_escalations()]

    # The leader was told and sees it, read only.
    await log_in(client, leader)
    inbox = (await client.get("/api/v1/inbox")).json()
    assert any(ledger_no in item["text"] for item in inbox["items"])
    page = await client.get("/escalations")
    assert ledger_no in page.text
    assert f"/escalations/{escalation_id}/resolve" not in page.text
    refused = await client.post(
        f"/api/v1/escalations/{escalation_id}/resolve", json={"reason": "x"}
    )
    assert refused.status_code == 403

    # The inspector was told, and resolves it with a reason.
    await log_in(client, inspector)
    inbox = (await client.get("/api/v1/inbox")).json()
    # Assessment, transfer and first reply were all breached by then.
    assert [item["link"] for item in inbox["items"] if ledger_no in item["text"]] == [
        "/escalations"
    ] * 3
    page = await client.get("/escalations")
    assert f"/escalations/{escalation_id}/resolve" in page.text
    form = await csrf_form(client, "/escalations", reason="  ")
    empty = await client.post(f"/escalations/{escalation_id}/resolve", data=form)
    assert empty.status_code == 400
    form["reason"] = "主管部门已电话催办，承办人病假"
    done = await client.post(
        f"/escalations/{escalation_id}/resolve", data=form, follow_redirects=False
    )
    assert done.status_code == 303
    assert escalation_id not in [e.id for e in await services.open_escalations()]
    [event] = [
        e for e in await events_for("tip", tip_id) if e["action"] == "tip.escalation_resolved"
    ]
    assert event["actor_id"] == str(inspector["id"])
    assert "主管部门已电话催办" in event["payload"]
    assert officer["id"] != inspector["id"]
    # Resolving twice is not possible.
    again = await client.post(f"/api/v1/escalations/{escalation_id}/resolve", json={"reason": "x"})
    assert again.status_code == 404


async def test_other_roles_see_no_escalations(client: Client) -> None:
    await sign_in(client, Role.township_staff)
    assert (await client.get("/escalations")).status_code == 403
    assert (await client.get("/api/v1/escalations")).status_code == 403
    await sign_in(client, Role.county_staff)
    assert (await client.get("/api/v1/escalations")).status_code == 403


async def test_the_admin_edits_a_rule_on_the_rules_page(client: Client) -> None:
    await sign_in(client, Role.admin)
    page = await client.get("/admin/duedates")
    assert page.status_code == 200
    rules = {rule.kind: rule for rule in await services.list_rules()}
    transfer = rules["transfer"]
    form = await csrf_form(
        client,
        "/admin/duedates",
        working_days="3",
        trigger="received",
        satisfied_by=["tip.transferred", "tip.closed"],
        active="1",
    )
    done = await client.post(f"/admin/duedates/{transfer.id}", data=form, follow_redirects=False)
    assert done.status_code == 303
    changed = {rule.kind: rule for rule in await services.list_rules()}["transfer"]
    assert (changed.working_days, changed.satisfied_by) == (3, ["tip.transferred", "tip.closed"])
    form["working_days"] = "many"
    assert (await client.post(f"/admin/duedates/{transfer.id}", data=form)).status_code == 400
    form["working_days"] = "3"
    form["satisfied_by"] = ["tip.content_read"]
    assert (await client.post(f"/admin/duedates/{transfer.id}", data=form)).status_code == 400
    api = (await client.get("/api/v1/admin/duedates")).json()
    assert {rule["kind"] for rule in api} == set(services.KINDS)
    await sign_in(client, Role.officer)
    assert (await client.get("/admin/duedates")).status_code == 403


async def test_the_admin_creates_a_bureau_leader_with_an_e_mail_address(client: Client) -> None:
    await sign_in(client, Role.admin)
    county = (await Account.select(Account.org_unit).first() or {})["org_unit"]
    form = await csrf_form(
        client,
        "/admin/accounts",
        username="leader-wang",
        display_name="王局长",
        role="leader",
        org_unit_id=str(county),
        password="Seven Bridges Over Quiet Water 7",
        confirm_password="Seven Bridges Over Quiet Water 7",
        email="wang@county.example",
    )
    done = await client.post("/admin/accounts", data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    row = await Account.select().where(Account.username == "leader-wang").first()
    assert row is not None
    assert (row["role"], row["email"]) == ("leader", "wang@county.example")
    form["email"] = "not an address"
    form["username"] = "leader-li"
    assert (await client.post("/admin/accounts", data=form)).status_code == 400
    assert await Account.count().where(Account.username == "leader-li") == 0


async def test_deadline_e_mails_name_the_ledger_number_and_nothing_of_the_tip(
    client: Client,
    app: Litestar,
    settings: Settings,
    smtp_server: SmtpServer,  # noqa: F811
) -> None:
    await sign_in(client, Role.officer)
    await _open_box(settings)
    inspector = await make_account(Role.inspector)
    await Account.update({Account.email: "inspector@county.example"}).where(
        Account.id == inspector["id"]
    )
    tip = await _submit(app, identity=True)
    row = await Tip.select(Tip.id).where(Tip.ledger_no == tip["ledger_no"]).first()
    assert row is not None
    received = {item.kind: item for item in await services.deadlines_of(row["id"])}
    assert set(received) == {"assess", "transfer", "first_reply", "acceptance_notice"}
    later = received["acceptance_notice"].due_on + dt.timedelta(days=3)
    result = await services.sweep(today=later)
    assert result.escalations == 4
    await notifications.send_pending(settings)
    assert len(smtp_server.mailbox.messages) == 4
    for message in smtp_server.mailbox.messages:
        assert message["To"] == "inspector@county.example"
        text = message["Subject"] + message.get_payload(decode=True).decode()
        assert tip["ledger_no"] in text
        for secret in (
            TIP_TEXT,
            "MARKER",
            IDENTITY_NAME,
            "13900000000",
            "某村主任",
            tip["receipt"],
        ):
            assert secret not in text


async def test_officer_steps_through_http_meet_their_deadlines(
    client: Client, app: Litestar, settings: Settings
) -> None:
    from tests.tipline.cases.test_lifecycle import _register

    await sign_in(client, Role.officer)
    await _open_box(settings)
    tip = await _submit(app)
    ledger_no = tip["ledger_no"]
    row = await Tip.select(Tip.id).where(Tip.ledger_no == ledger_no).first()
    assert row is not None
    tip_id = int(row["id"])
    outcomes = {item.kind: item.outcome for item in await services.deadlines_of(tip_id)}
    assert outcomes == {"assess": "open", "transfer": "open", "first_reply": "open"}
    assert (await services.next_deadlines([tip_id]))[tip_id].kind == "assess"

    assert (await _register(client, ledger_no)).status_code == 201
    assessed = await client.post(
        f"/api/v1/cases/{ledger_no}/transitions",
        json={"action": "assess", "reason": "开始研判"},
    )
    assert assessed.status_code == 200, assessed.text
    replied = await client.post(
        f"/api/v1/cases/{ledger_no}/messages", json={"text": "已收到，正在核实。"}
    )
    assert replied.status_code == 201, replied.text
    assert (await services.sweep()).met == 1
    outcomes = {item.kind: item.outcome for item in await services.deadlines_of(tip_id)}
    assert outcomes == {"assess": "met", "transfer": "open", "first_reply": "met"}
    nxt = (await services.next_deadlines([tip_id]))[tip_id]
    assert (nxt.kind, nxt.state) == ("transfer", "ok")
