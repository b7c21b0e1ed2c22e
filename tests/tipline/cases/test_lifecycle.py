"""Handling a tip through HTTP: register, assess, close, merge, two-person void and close
without transfer, refusals, concurrent double actions; on both databases."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import csrf_form, extra_client, make_account, sign_in
from tests.tipline.cases.test_controllers import _events, _open_box, _submit
from tipline.cases.lifecycle import Action, apply_transition
from tipline.cases.tables import CaseApproval, CaseFile
from tipline.intake.tables import Tip
from tipline.ledger.services import Actor, verify_chain
from tipline.settings import Settings

Client = AsyncTestClient[Litestar]


async def _township() -> int:
    from tipline.orgunits.tables import OrgUnit

    row = await OrgUnit.select(OrgUnit.id).where(OrgUnit.kind == "township").first()
    assert row is not None
    return int(row["id"])


async def _register(client: Client, ledger_no: str, **overrides: Any) -> Any:
    body = {
        "category": "village_bully",
        "summary": "某村村霸强占耕地",
        "reason": "核对来源后登记",
        "township_id": await _township(),
    } | overrides
    return await client.post(f"/api/v1/cases/{ledger_no}/register", json=body)


async def _status(ledger_no: str) -> str:
    row = await Tip.select(Tip.status).where(Tip.ledger_no == ledger_no).first()
    assert row is not None
    return str(row["status"])


async def _tip_id(ledger_no: str) -> int:
    row = await Tip.select(Tip.id).where(Tip.ledger_no == ledger_no).first()
    assert row is not None
    return int(row["id"])


async def _two_officers(client: Client, app: Litestar, settings: Settings) -> tuple[Any, ...]:
    first = await sign_in(client, "officer")
    second_client = await extra_client(app)
    second = await sign_in(second_client, "officer")
    await _open_box(settings)
    return first, second_client, second


async def test_register_assess_and_the_ledger_shows_the_registration(
    client: Client, app: Litestar, settings: Settings
) -> None:
    officer = await sign_in(client, "officer")
    await _open_box(settings)
    tip = await _submit(app)
    ledger_no = tip["ledger_no"]

    page = await client.get(f"/cases/{ledger_no}")
    assert "不得包含任何可以识别举报人的信息" in page.text  # the summary warning
    assert f'action="/cases/{ledger_no}/register"' in page.text
    form = await csrf_form(
        client,
        f"/cases/{ledger_no}",
        category="gang_crime",
        township=str(await _township()),
        summary="SUMMARY-北村 强迫交易",
        officer=str(officer["id"]),
        reason="来源可靠，予以登记",
    )
    done = await client.post(f"/cases/{ledger_no}/register", data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/cases/{ledger_no}?done=registered"
    assert await _status(ledger_no) == "registered"

    rows = (await client.get("/api/v1/cases")).json()
    assert rows[0]["ledger_no"] == ledger_no
    assert rows[0]["category"] == "gang_crime" and rows[0]["township"] == "测试镇"
    assert rows[0]["summary"] == "SUMMARY-北村 强迫交易"
    assert rows[0]["assigned_officer"] == "Test officer"
    listing = await client.get("/cases")
    assert "SUMMARY-北村" in listing.text and "测试镇" in listing.text
    assert "MARKER-7731" not in listing.text

    assess = await client.post(
        f"/api/v1/cases/{ledger_no}/transitions", json={"action": "assess", "reason": "开始研判"}
    )
    assert assess.status_code == 200, assess.text
    assert assess.json()["source"] == "registered" and assess.json()["target"] == (
        "under_assessment"
    )

    page = await client.get(f"/cases/{ledger_no}")
    assert "来源可靠，予以登记" in page.text and "开始研判" in page.text  # the timeline
    timeline = (await client.get(f"/api/v1/cases/{ledger_no}/timeline")).json()
    actions = [entry["action"] for entry in timeline]
    assert actions[:1] == ["tip.received"] and "tip.registered" in actions
    registered = next(e for e in timeline if e["action"] == "tip.registered")
    assert registered["actor"] == "Test officer" and registered["reason"] == "来源可靠，予以登记"
    assert (await verify_chain()).ok


async def test_every_step_needs_a_reason_and_a_status_that_allows_it(
    client: Client, app: Litestar, settings: Settings
) -> None:
    await sign_in(client, "officer")
    await _open_box(settings)
    ledger_no = (await _submit(app))["ledger_no"]

    blank = await _register(client, ledger_no, reason="   ")
    assert blank.status_code == 400 and blank.json()["error"] == "cases.error.reason_required"
    missing = await client.post(
        f"/api/v1/cases/{ledger_no}/register", json={"category": "gang_crime", "summary": "x"}
    )
    assert missing.status_code == 400
    form = await csrf_form(
        client, f"/cases/{ledger_no}", category="gang_crime", summary="摘要", reason=""
    )
    page = await client.post(f"/cases/{ledger_no}/register", data=form)
    assert page.status_code == 400 and "请填写理由" in page.text
    bad_category = await _register(client, ledger_no, category="nonsense")
    assert bad_category.status_code == 400
    assert await _status(ledger_no) == "received" and not await CaseFile.select()

    early_close = await client.post(
        f"/api/v1/cases/{ledger_no}/transitions", json={"action": "close", "reason": "办结"}
    )
    assert early_close.status_code == 409
    assert early_close.json()["error"] == "cases.error.transition_not_allowed"
    assert (await _register(client, ledger_no)).status_code == 201
    again = await _register(client, ledger_no)
    assert again.status_code == 409 and len(await CaseFile.select()) == 1

    for action, status, error in (
        ("void", 409, "cases.error.needs_approval"),
        ("close_without_transfer", 409, "cases.error.needs_approval"),
        ("transfer", 400, "cases.error.action_not_here"),
        ("teleport", 400, "cases.error.action_not_here"),
    ):
        response = await client.post(
            f"/api/v1/cases/{ledger_no}/transitions", json={"action": action, "reason": "理由"}
        )
        assert response.status_code == status, (action, response.text)
        assert response.json()["error"] == error
    empty = await client.post(
        f"/api/v1/cases/{ledger_no}/transitions", json={"action": "assess", "reason": " "}
    )
    assert empty.status_code == 400
    assert await _status(ledger_no) == "registered"
    assert await _events("tip.assessment_started") == []


async def test_close_after_feedback(client: Client, app: Litestar, settings: Settings) -> None:
    officer = await sign_in(client, "officer")
    await _open_box(settings)
    tip = await _submit(app)
    ledger_no = tip["ledger_no"]
    assert (await _register(client, ledger_no)).status_code == 201
    # Transfer and feedback are recorded by the authorities pages (another package).
    actor = Actor.account(officer["id"])
    tip_id = await _tip_id(ledger_no)
    await apply_transition(tip_id, Action.transfer, actor, "移送公安", {})
    page = await client.get(f"/cases/{ledger_no}")
    assert f'href="/cases/{ledger_no}/transfers"' in page.text
    await apply_transition(tip_id, Action.record_feedback, actor, "公安反馈", {})
    close = await client.post(
        f"/api/v1/cases/{ledger_no}/transitions", json={"action": "close", "reason": "已查实并处理"}
    )
    assert close.status_code == 200, close.text
    assert await _status(ledger_no) == "closed"
    page = await client.get(f"/cases/{ledger_no}")
    assert "此线索已终结" in page.text
    (closed,) = await _events("tip.closed")
    assert json.loads(closed["payload"])["reason"] == "已查实并处理"


async def test_void_needs_a_second_officer_and_never_the_requester(
    client: Client, app: Litestar, settings: Settings
) -> None:
    first, second_client, second = await _two_officers(client, app, settings)
    ledger_no = (await _submit(app))["ledger_no"]

    empty = await client.post(
        f"/api/v1/cases/{ledger_no}/approvals", json={"action": "void", "reason": "  "}
    )
    assert empty.status_code == 400
    form = await csrf_form(client, f"/cases/{ledger_no}", action="void", reason="测试数据")
    asked = await client.post(f"/cases/{ledger_no}/approvals", data=form, follow_redirects=False)
    assert asked.status_code == 303, asked.text
    (approval,) = (await client.get("/api/v1/cases/approvals")).json()
    assert approval["status"] == "pending" and approval["may_decide"] is False
    assert approval["requested_by_id"] == first["id"]
    twice = await client.post(
        f"/api/v1/cases/{ledger_no}/approvals", json={"action": "void", "reason": "再次"}
    )
    assert twice.status_code == 409 and twice.json()["error"] == "cases.error.approval_pending"

    own = await client.post(
        f"/api/v1/cases/approvals/{approval['id']}", json={"approve": True, "reason": "同意"}
    )
    assert own.status_code == 403 and own.json()["error"] == "cases.error.self_approval"
    own_page = await client.get("/cases/approvals")
    assert "这是您本人的申请" in own_page.text
    form = await csrf_form(client, "/cases/approvals", decision="approve", reason="同意")
    own_form = await client.post(f"/cases/approvals/{approval['id']}", data=form)
    assert own_form.status_code == 403 and "不能审批自己的申请" in own_form.text
    assert await _status(ledger_no) == "received"

    no_reason = await second_client.post(
        f"/api/v1/cases/approvals/{approval['id']}", json={"approve": True, "reason": " "}
    )
    assert no_reason.status_code == 400
    page = await second_client.get("/cases/approvals")
    assert f'action="/cases/approvals/{approval["id"]}"' in page.text
    form = await csrf_form(second_client, "/cases/approvals", decision="maybe", reason="嗯")
    unclear = await second_client.post(f"/cases/approvals/{approval['id']}", data=form)
    assert unclear.status_code == 400 and await _status(ledger_no) == "received"
    form = await csrf_form(second_client, "/cases/approvals", decision="approve", reason="确属测试")
    decided = await second_client.post(
        f"/cases/approvals/{approval['id']}", data=form, follow_redirects=False
    )
    assert decided.status_code == 303, decided.text
    assert await _status(ledger_no) == "voided"
    row = await CaseApproval.select().where(CaseApproval.id == approval["id"]).first()
    assert row is not None and row["status"] == "approved" and row["decided_by"] == second["id"]

    (granted,) = await _events("tip.approval_granted")
    assert granted["actor_id"] == str(second["id"])
    (voided,) = await _events("tip.voided")
    payload = json.loads(voided["payload"])
    assert voided["actor_id"] == str(second["id"]) and payload["reason"] == "测试数据"
    assert payload["requested_by"] == first["id"] and payload["approved_by"] == second["id"]
    again = await second_client.post(
        f"/api/v1/cases/approvals/{approval['id']}", json={"approve": False, "reason": "x"}
    )
    assert again.status_code == 409
    assert (await verify_chain()).ok


async def test_close_without_transfer_refused_then_approved(
    client: Client, app: Litestar, settings: Settings
) -> None:
    first, second_client, second = await _two_officers(client, app, settings)
    ledger_no = (await _submit(app))["ledger_no"]
    early = await client.post(
        f"/api/v1/cases/{ledger_no}/approvals",
        json={"action": "close_without_transfer", "reason": "不属于涉黑涉恶"},
    )
    assert early.status_code == 409  # a received tip is registered first
    assert (await _register(client, ledger_no)).status_code == 201

    asked = await client.post(
        f"/api/v1/cases/{ledger_no}/approvals",
        json={"action": "close_without_transfer", "reason": "不属于涉黑涉恶"},
    )
    assert asked.status_code == 201, asked.text
    refused = await second_client.post(
        f"/api/v1/cases/approvals/{asked.json()['id']}",
        json={"approve": False, "reason": "应先移送公安核实"},
    )
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    assert refused.json()["decision_reason"] == "应先移送公安核实"
    assert await _status(ledger_no) == "registered"
    (refusal,) = await _events("tip.approval_refused")
    assert json.loads(refusal["payload"])["reason"] == "应先移送公安核实"

    asked = await client.post(
        f"/api/v1/cases/{ledger_no}/approvals",
        json={"action": "close_without_transfer", "reason": "经核实不属实"},
    )
    approved = await second_client.post(
        f"/api/v1/cases/approvals/{asked.json()['id']}", json={"approve": True, "reason": "同意"}
    )
    assert approved.status_code == 200, approved.text
    assert await _status(ledger_no) == "closed"
    rows = (await client.get("/api/v1/cases?status=closed")).json()
    assert [row["ledger_no"] for row in rows] == [ledger_no]
    assert first["id"] != second["id"]


async def test_an_approval_after_the_tip_moved_on_writes_nothing(
    client: Client, app: Litestar, settings: Settings
) -> None:
    _, second_client, _ = await _two_officers(client, app, settings)
    ledger_no = (await _submit(app))["ledger_no"]
    asked = await client.post(
        f"/api/v1/cases/{ledger_no}/approvals", json={"action": "void", "reason": "测试"}
    )
    other = (await _submit(app))["ledger_no"]
    merged = await client.post(
        f"/api/v1/cases/{ledger_no}/transitions",
        json={"action": "merge", "reason": "重复", "merge_into": other},
    )
    assert merged.status_code == 200
    late = await second_client.post(
        f"/api/v1/cases/approvals/{asked.json()['id']}", json={"approve": True, "reason": "同意"}
    )
    assert late.status_code == 409
    row = await CaseApproval.select().where(CaseApproval.id == asked.json()["id"]).first()
    assert row is not None and row["status"] == "pending"
    assert await _events("tip.approval_granted") == [] and await _status(ledger_no) == "merged"


async def test_two_officers_acting_at_once_only_one_succeeds(
    client: Client, app: Litestar, settings: Settings
) -> None:
    first, second_client, _ = await _two_officers(client, app, settings)
    ledger_no = (await _submit(app))["ledger_no"]

    async def register(who: Client, summary: str) -> int:
        return (await _register(who, ledger_no, summary=summary)).status_code

    codes = sorted(
        await asyncio.gather(register(client, "甲登记"), register(second_client, "乙登记"))
    )
    assert codes == [201, 409]
    assert len(await CaseFile.select()) == 1 and len(await _events("tip.registered")) == 1

    async def assess(who: Client) -> int:
        response = await who.post(
            f"/api/v1/cases/{ledger_no}/transitions", json={"action": "assess", "reason": "研判"}
        )
        return response.status_code

    codes = sorted(await asyncio.gather(assess(client), assess(second_client)))
    assert codes == [200, 409]
    assert len(await _events("tip.assessment_started")) == 1

    # Two second officers approving the same request at once: one decision.
    third_client = await extra_client(app)
    await sign_in(third_client, "officer")
    asked = await client.post(
        f"/api/v1/cases/{ledger_no}/approvals", json={"action": "void", "reason": "测试"}
    )

    async def approve(who: Client) -> int:
        response = await who.post(
            f"/api/v1/cases/approvals/{asked.json()['id']}",
            json={"approve": True, "reason": "同意"},
        )
        return response.status_code

    codes = sorted(await asyncio.gather(approve(second_client), approve(third_client)))
    assert codes == [200, 409]
    assert len(await _events("tip.voided")) == 1 and len(await _events("tip.approval_granted")) == 1
    assert first["id"] > 0 and (await verify_chain()).ok


async def test_merge_rules(client: Client, app: Litestar, settings: Settings) -> None:
    await sign_in(client, "officer")
    await _open_box(settings)
    a, b, c, d = [(await _submit(app))["ledger_no"] for _ in range(4)]

    async def merge(ledger_no: str, into: str | None) -> Any:
        body: dict[str, Any] = {"action": "merge", "reason": "重复线索"}
        if into is not None:
            body["merge_into"] = into
        return await client.post(f"/api/v1/cases/{ledger_no}/transitions", json=body)

    for into in (a, None, "2020-999999", "garbage"):
        refused = await merge(a, into)
        assert refused.status_code == 400, into
        assert refused.json()["error"] == "cases.error.invalid_merge_target"
    assert (await merge(b, a)).status_code == 200
    assert (await merge(c, b)).status_code == 400  # b is merged itself
    assert (await merge(b, c)).status_code == 409  # b is merged already
    assert (await _register(client, d)).status_code == 201
    assert (await merge(d, c)).status_code == 200  # a registered tip merges too

    rows = {row["ledger_no"]: row for row in (await client.get("/api/v1/cases")).json()}
    assert rows[b]["status"] == "merged" and rows[b]["merged_into"] == a
    assert rows[d]["merged_into"] == c and rows[d]["summary"] == "某村村霸强占耕地"
    page = await client.get(f"/cases/{b}")
    assert f'href="/cases/{a}"' in page.text
    (event, _) = await _events("tip.merged")
    assert json.loads(event["payload"])["merged_into"] == a


async def test_assigning_an_officer(client: Client, app: Litestar, settings: Settings) -> None:
    await sign_in(client, "officer")
    other = await make_account("officer", username="officer-other")
    inspector = await make_account("inspector")
    await _open_box(settings)
    ledger_no = (await _submit(app))["ledger_no"]
    early = await client.post(
        f"/api/v1/cases/{ledger_no}/assign", json={"officer_id": other["id"], "reason": "分工"}
    )
    assert early.status_code == 409
    assert (await _register(client, ledger_no)).status_code == 201
    for officer_id in (inspector["id"], 99999):
        wrong = await client.post(
            f"/api/v1/cases/{ledger_no}/assign", json={"officer_id": officer_id, "reason": "分工"}
        )
        assert wrong.status_code == 400
    form = await csrf_form(client, f"/cases/{ledger_no}", officer=str(other["id"]), reason="分工")
    done = await client.post(f"/cases/{ledger_no}/assign", data=form, follow_redirects=False)
    assert done.status_code == 303
    rows = (await client.get(f"/api/v1/cases?officer={other['id']}")).json()
    assert [row["ledger_no"] for row in rows] == [ledger_no]
    (event,) = await _events("tip.assigned")
    assert json.loads(event["payload"])["to_officer_id"] == other["id"]


async def test_filters_and_search_use_metadata_only(
    client: Client, app: Litestar, settings: Settings
) -> None:
    officer = await sign_in(client, "officer")
    other = await make_account("officer")
    await _open_box(settings)
    a, b, c = [(await _submit(app))["ledger_no"] for _ in range(3)]
    await _register(client, a, category="usury", summary="套路贷 东村")
    await _register(
        client, b, category="gang_crime", summary="西村 强迫交易", assigned_officer_id=other["id"]
    )
    await _register(client, c, category="usury", summary="南村 高利放贷", township_id=None)

    async def numbers(query: str) -> list[str]:
        response = await client.get(f"/api/v1/cases?{query}")
        assert response.status_code == 200, response.text
        return sorted(row["ledger_no"] for row in response.json())

    assert await numbers("category=usury") == sorted([a, c])
    assert await numbers(f"township={await _township()}") == sorted([a, b])
    assert await numbers(f"officer={other['id']}") == [b]
    assert await numbers(f"officer={officer['id']}") == sorted([a, c])
    assert await numbers("status=registered&category=gang_crime") == [b]
    assert await numbers("channel=phone") == []
    assert await numbers("q=西村") == [b]
    assert await numbers(f"q={c[-6:]}") == [c]
    assert await numbers("q=MARKER-7731") == []  # the sealed content is never searched
    # Due dates come from tipline.duedates (stored when the tip arrived): make b's
    # window lie in the past and c's deadlines met.
    from tipline.duedates.tables import CaseDeadline

    await CaseDeadline.update(
        {
            CaseDeadline.start_day: dt.date(2020, 4, 28),
            CaseDeadline.due_on: dt.date(2020, 4, 29),
        }
    ).where(CaseDeadline.tip == await _tip_id(b))
    await CaseDeadline.update({CaseDeadline.outcome: "met"}).where(
        CaseDeadline.tip == await _tip_id(c)
    )
    assert await numbers("deadline=overdue") == [b]
    assert await numbers("deadline=ok") == [a]
    assert await numbers("deadline=none") == [c]
    rows = {row["ledger_no"]: row for row in (await client.get("/api/v1/cases")).json()}
    assert rows[b]["next_deadline"]["state"] == "overdue"
    assert rows[b]["next_deadline"]["due_on"] == "2020-04-29"
    assert rows[c]["next_deadline"] is None
    assert (await client.get("/api/v1/cases?deadline=soon")).status_code == 400
    overdue = await client.get("/cases", params={"deadline": "overdue"})
    assert 'class="deadline status-bad">2020-04-29' in overdue.text
    assert a not in overdue.text

    page = await client.get("/cases", params={"category": "usury", "q": "东村"})
    assert page.status_code == 200
    assert a in page.text and b not in page.text and c not in page.text
    assert await _events("tip.viewed") == []


async def test_correcting_a_registration_keeps_no_old_summary_in_the_ledger(
    client: Client, app: Litestar, settings: Settings
) -> None:
    await sign_in(client, "officer")
    await _open_box(settings)
    ledger_no = (await _submit(app))["ledger_no"]
    body = {"category": "usury", "summary": "改正后的摘要", "reason": "摘要含举报人单位"}
    early = await client.post(f"/api/v1/cases/{ledger_no}/registration", json=body)
    assert early.status_code == 409 and early.json()["error"] == "cases.error.not_registered"
    registered = await _register(client, ledger_no, summary="SECRET-举报人所在单位 张三")
    assert registered.status_code == 201
    blank = await client.post(
        f"/api/v1/cases/{ledger_no}/registration", json={**body, "reason": " "}
    )
    assert blank.status_code == 400

    page = await client.get(f"/cases/{ledger_no}")
    assert f'action="/cases/{ledger_no}/registration"' in page.text
    form = await csrf_form(
        client,
        f"/cases/{ledger_no}",
        category="usury",
        township="",
        summary="改正后的摘要",
        reason="摘要含举报人单位",
    )
    done = await client.post(f"/cases/{ledger_no}/registration", data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    (row,) = (await client.get("/api/v1/cases")).json()
    assert row["summary"] == "改正后的摘要" and row["category"] == "usury"
    assert row["township"] is None
    (event,) = await _events("tip.registration_corrected")
    payload = json.loads(event["payload"])
    assert payload["changed"] == ["category", "summary", "township"]
    assert payload["reason"] == "摘要含举报人单位"
    every = "".join(e["payload"] for e in await _events("tip.registered")) + event["payload"]
    assert "SECRET" not in every and "改正后的摘要" not in every
    same = await client.post(f"/api/v1/cases/{ledger_no}/registration", json=body)
    assert same.status_code == 200 and len(await _events("tip.registration_corrected")) == 1


async def test_only_the_requester_withdraws_a_pending_request(
    client: Client, app: Litestar, settings: Settings
) -> None:
    _, second_client, _ = await _two_officers(client, app, settings)
    ledger_no = (await _submit(app))["ledger_no"]
    asked = await client.post(
        f"/api/v1/cases/{ledger_no}/approvals", json={"action": "void", "reason": "以为是测试"}
    )
    approval_id = asked.json()["id"]
    theirs = await second_client.post(
        f"/api/v1/cases/approvals/{approval_id}/withdraw", json={"reason": "替他撤回"}
    )
    assert theirs.status_code == 403 and theirs.json()["error"] == "cases.error.not_requester"
    page = await client.get("/cases/approvals")
    assert f'action="/cases/approvals/{approval_id}/withdraw"' in page.text
    form = await csrf_form(client, "/cases/approvals", reason="")
    blank = await client.post(f"/cases/approvals/{approval_id}/withdraw", data=form)
    assert blank.status_code == 400
    form = await csrf_form(client, "/cases/approvals", reason="其实是真实举报")
    done = await client.post(
        f"/cases/approvals/{approval_id}/withdraw", data=form, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"].endswith("done=withdrawn")
    late = await second_client.post(
        f"/api/v1/cases/approvals/{approval_id}", json={"approve": True, "reason": "同意"}
    )
    assert late.status_code == 409 and await _status(ledger_no) == "received"
    (event,) = await _events("tip.approval_withdrawn")
    assert json.loads(event["payload"])["reason"] == "其实是真实举报"
    again = await client.post(
        f"/api/v1/cases/{ledger_no}/approvals", json={"action": "void", "reason": "确是测试"}
    )
    assert again.status_code == 201  # a withdrawn request no longer blocks a new one
