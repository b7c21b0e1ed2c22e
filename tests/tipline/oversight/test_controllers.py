"""Oversight through HTTP on both databases: the inspector's page and trails, supervision
notes, the Excel 台账, content exports with two officers, statistics and their SVG."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from openpyxl import load_workbook

from tests.conftest import csrf_form, extra_client, make_account, sign_in
from tests.tipline.oversight.support import CHINA, TIP_TEXT, known_ledger, open_box, submit, tip_id
from tipline.duedates import services as duedates
from tipline.duedates.tables import CaseDeadline
from tipline.ledger.services import verify_chain
from tipline.ledger.tables import CustodyEvent
from tipline.notifications.tables import Notification
from tipline.scheduler.services import job_by_id
from tipline.settings import Settings
from tipline.web.i18n import catalogues

Client = AsyncTestClient[Litestar]


async def _events(action: str) -> list[dict[str, Any]]:
    return list(
        await CustodyEvent.select().where(CustodyEvent.action == action).order_by(CustodyEvent.seq)
    )


async def _officer_with_ledger(
    app: Litestar, settings: Settings
) -> tuple[Client, dict[str, Any], dict[str, Any]]:
    officer_client = await extra_client(app)
    officer = await sign_in(officer_client, "officer")
    await open_box(settings)
    ledger = await known_ledger(app, officer["id"])
    return officer_client, officer, ledger


async def test_the_inspector_sees_every_case_and_its_trail_but_no_content(
    client: Client, app: Litestar, settings: Settings
) -> None:
    officer_client, _officer, ledger = await _officer_with_ledger(app, settings)
    assert (await officer_client.get(f"/cases/{ledger['a']}")).status_code == 200
    await sign_in(client, "inspector")

    page = await client.get("/oversight")
    assert page.status_code == 200, page.text
    for key in "abcd":
        assert f'href="/oversight/cases/{ledger[key]}"' in page.text
    assert TIP_TEXT not in page.text and "MARKER" not in page.text
    assert 'href="/oversight"' in page.text  # in the inspector's navigation

    trail = await client.get(f"/oversight/cases/{ledger['a']}")
    assert trail.status_code == 200
    assert "MARKER" not in trail.text and "某村主任" not in trail.text
    for action in ("tip.received", "tip.registered", "tip.viewed", "tip.transferred"):
        assert action in trail.text
    assert "县公安局" in trail.text and "公移〔2020〕1号" in trail.text
    body = (await client.get(f"/api/v1/oversight/cases/{ledger['a']}")).json()
    assert body["case"]["ledger_no"] == ledger["a"] and body["case"]["township"] == "东镇"
    assert [e["action"] for e in body["events"]] == [
        "tip.received",
        "tip.registered",
        "tip.transferred",
        "tip.feedback_recorded",
        "tip.viewed",
    ]
    assert "MARKER" not in json.dumps(body, ensure_ascii=False)

    # The inspector can never open a tip: the officer's pages refuse, nothing is decrypted.
    for url in (f"/cases/{ledger['a']}", f"/api/v1/cases/{ledger['a']}", "/cases"):
        assert (await client.get(url)).status_code == 403, url
    assert (await client.get("/oversight/cases/2099-999999")).status_code == 404
    assert (await client.get("/oversight/cases/nonsense")).status_code == 404


async def test_a_supervision_note_is_a_custody_event_shown_on_the_trail(
    client: Client, app: Litestar, settings: Settings
) -> None:
    _officer_client, officer, ledger = await _officer_with_ledger(app, settings)
    inspector = await sign_in(client, "inspector")
    page = f"/oversight/cases/{ledger['b']}"
    posted = await client.post(
        f"{page}/notes",
        data=await csrf_form(client, page, text="请于本周内催办反馈。"),
        follow_redirects=False,
    )
    assert posted.status_code == 303
    (event,) = await _events("tip.supervision_note")
    assert event["actor_id"] == str(inspector["id"]) and event["object_type"] == "tip"
    assert json.loads(event["payload"]) == {
        "ledger_no": ledger["b"],
        "note": "请于本周内催办反馈。",
    }
    trail = await client.get(page)
    assert "请于本周内催办反馈。" in trail.text and "supervision-note" in trail.text
    (inbox,) = await Notification.select().where(Notification.account == officer["id"])
    assert inbox["message_key"] == "oversight.notify.note"
    assert json.loads(inbox["params"]) == {"ledger_no": ledger["b"]} and "催办" not in str(inbox)

    for bad in ("", "   ", "长" * 501):
        refused = await client.post(f"{page}/notes", data=await csrf_form(client, page, text=bad))
        assert refused.status_code == 400
        assert "督办意见必填，且不超过 500 字。" in refused.text
    assert len(await _events("tip.supervision_note")) == 1
    exactly = await client.post(
        f"/api/v1/oversight/cases/{ledger['b']}/notes", json={"text": "长" * 500}
    )
    assert exactly.status_code == 201
    too_long = await client.post(
        f"/api/v1/oversight/cases/{ledger['b']}/notes", json={"text": "长" * 501}
    )
    assert too_long.status_code == 400
    assert too_long.json()["error"] == "oversight.error.note_invalid"
    assert len(await _events("tip.supervision_note")) == 2
    assert (await verify_chain()).ok


async def test_the_excel_ledger_matches_the_ledger_row_for_row_and_is_recorded(
    client: Client, app: Litestar, settings: Settings
) -> None:
    officer_client, officer, ledger = await _officer_with_ledger(app, settings)
    response = await officer_client.get("/ledger-export.xlsx")
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].startswith('attachment; filename="tip-ledger-')
    assert TIP_TEXT.encode() not in response.content
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = [
        [cell if cell is not None else "" for cell in row]
        for row in sheet.iter_rows(values_only=True)
    ]
    assert rows[0][:10] == [
        "台账编号",
        "收到日期",
        "来源渠道",
        "举报类别",
        "乡镇",
        "状态",
        "移送部门",
        "移送函号",
        "移送日期",
        "反馈日期",
    ]
    assert rows[1:] == [
        [
            ledger["a"],
            "2020-04-27",
            "网上举报信箱",
            "村霸、宗族恶势力",
            "东镇",
            "已收到反馈",
            "县公安局",
            "公移〔2020〕1号",
            "2020-05-06",
            "2020-05-12",
            *rows[1][10:],
        ],
        [
            ledger["b"],
            "2020-09-28",
            "网上举报信箱",
            "非法放贷、暴力讨债、“套路贷”",
            "东镇",
            "已移送",
            "县公安局",
            "公移〔2020〕2号",
            "2020-10-12",
            "",
            *rows[2][10:],
        ],
        [
            ledger["c"],
            "2020-05-08",
            "网上举报信箱",
            "村霸、宗族恶势力",
            "西镇",
            "已收到反馈",
            "县公安局",
            "公移〔2020〕3号",
            "2020-05-08",
            "2020-05-11",
            *rows[3][10:],
        ],
        [
            ledger["d"],
            "2020-05-20",
            "网上举报信箱",
            "",
            "",
            "已收到",
            "",
            "",
            "",
            "",
            *rows[4][10:],
        ],
    ]
    (event,) = await _events("ledger.exported")
    assert event["object_type"] == "ledger" and event["actor_id"] == str(officer["id"])
    payload = json.loads(event["payload"])
    assert (
        payload["rows"] == 4 and payload["sha256"] == hashlib.sha256(response.content).hexdigest()
    )

    await sign_in(client, "inspector")
    response = await client.get("/oversight/export.xlsx")
    assert response.status_code == 200
    client.cookies.set("lang", "en")
    english = load_workbook(io.BytesIO((await client.get("/ledger-export.xlsx")).content)).active
    assert english is not None and english["A1"].value == "Ledger no."
    assert len(await _events("ledger.exported")) == 3


async def _approve(app: Litestar, request_id: int) -> None:
    second = await extra_client(app)
    await sign_in(second, "officer")
    own = await second.post(
        f"/api/v1/exports/{request_id}/decision", json={"approve": True, "reason": "同意"}
    )
    assert own.status_code == 200, own.text


async def test_a_content_export_needs_a_second_officer_and_is_made_once(
    client: Client, app: Litestar, settings: Settings
) -> None:
    officer = await sign_in(client, "officer")
    await open_box(settings)
    first = await submit(app)
    second = await submit(app, text="MARKER-9902 放高利贷")
    asked = await client.post(
        "/api/v1/exports", json={"ledger_nos": f"{first}, {second}", "reason": "移送检察院需要原文"}
    )
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["id"]
    assert asked.json()["status"] == "pending"

    refused = await client.post(f"/api/v1/exports/{request_id}/download")
    assert refused.status_code == 409 and refused.json()["error"] == "oversight.error.not_approved"
    own = await client.post(f"/api/v1/exports/{request_id}/decision", json={"approve": True})
    assert own.status_code == 403 and own.json()["error"] == "oversight.error.own_request"
    assert await _events("ledger.content_exported") == []

    await _approve(app, request_id)
    page = await client.get("/exports")
    assert "生成并下载（仅一次）" in page.text
    made = await client.post(
        f"/exports/{request_id}/download", data=await csrf_form(client, "/exports")
    )
    assert made.status_code == 200, made.text
    workbook = load_workbook(io.BytesIO(made.content))
    texts = [
        str(c)
        for ws in workbook.worksheets
        for row in ws.iter_rows(values_only=True)
        for c in row
        if c
    ]
    assert TIP_TEXT in texts and "MARKER-9902 放高利贷" in texts
    name = "Test officer"
    for sheet in workbook.worksheets:
        assert sheet["A1"].value.startswith(f"保密 · 导出人：{name} · 导出时间：")
        assert name in sheet.oddHeader.center.text and name in sheet.oddFooter.center.text
    assert workbook.properties.creator == name and name in workbook.properties.subject

    (event,) = await _events("ledger.content_exported")
    payload = json.loads(event["payload"])
    assert payload["sha256"] == hashlib.sha256(made.content).hexdigest()
    assert payload["ledger_nos"] == sorted([first, second]) and event["actor_id"] == str(
        officer["id"]
    )
    assert len(await _events("tip.content_exported")) == 2
    assert "MARKER" not in event["payload"]

    again = await client.post(f"/api/v1/exports/{request_id}/download")
    assert again.status_code == 409
    listed = (await client.get("/api/v1/exports")).json()
    assert listed[0]["status"] == "used" and listed[0]["file_sha256"] == payload["sha256"]
    assert len(await _events("ledger.content_exported")) == 1

    unknown = await client.post(
        "/api/v1/exports", json={"ledger_nos": "2099-000001", "reason": "x"}
    )
    assert unknown.status_code == 400
    no_reason = await client.post(
        "/exports", data=await csrf_form(client, "/exports", ledger_nos=first, reason=" ")
    )
    assert no_reason.status_code == 400 and "请填写理由" in no_reason.text
    assert (await verify_chain()).ok


async def test_only_the_requester_makes_the_export_and_a_refusal_ends_it(
    client: Client, app: Litestar, settings: Settings
) -> None:
    await sign_in(client, "officer")
    await open_box(settings)
    number = await submit(app)
    request_id = (
        await client.post("/api/v1/exports", json={"ledger_nos": number, "reason": "核查"})
    ).json()["id"]
    other = await extra_client(app)
    await sign_in(other, "officer")
    page = await other.get("/exports")
    assert f'action="/exports/{request_id}/decision"' in page.text
    decided = await other.post(
        f"/exports/{request_id}/decision",
        data=await csrf_form(other, "/exports", decision="refuse", reason="无必要"),
        follow_redirects=False,
    )
    assert decided.status_code == 303
    assert (await other.post(f"/api/v1/exports/{request_id}/download")).status_code == 403
    assert (await client.post(f"/api/v1/exports/{request_id}/download")).status_code == 409
    assert len(await _events("ledger.content_export_refused")) == 1


async def test_statistics_of_a_known_ledger(
    client: Client, app: Litestar, settings: Settings
) -> None:
    _officer_client, _officer, _ledger = await _officer_with_ledger(app, settings)
    await sign_in(client, "inspector")
    body = (await client.get("/api/v1/statistics")).json()
    assert body["total"] == 4
    assert body["per_month"] == [
        {"label": "2020-04", "count": 1},
        {"label": "2020-05", "count": 2},
        {"label": "2020-06", "count": 0},
        {"label": "2020-07", "count": 0},
        {"label": "2020-08", "count": 0},
        {"label": "2020-09", "count": 1},
    ]
    assert {i["label"]: i["count"] for i in body["per_category"]} == {
        "村霸、宗族恶势力": 2,
        "非法放贷、暴力讨债、“套路贷”": 1,
        "未登记": 1,
    }
    assert {i["label"]: i["count"] for i in body["per_township"]} == {
        "东镇": 2,
        "西镇": 1,
        "未填": 1,
    }
    # receipt → transfer: 4, 5, 0 working days; transfer → feedback: 5, 2.
    assert body["median_days_to_transfer"] == 4 and body["transfers_counted"] == 3
    assert body["median_days_to_feedback"] == 3.5 and body["feedbacks_counted"] == 2

    page = await client.get("/statistics")
    assert page.status_code == 200
    svgs = re.findall(r"<svg.*?</svg>", page.text, flags=re.S)
    assert len(svgs) == 4
    for svg in svgs:
        root = ET.fromstring(svg)
        ns = "{http://www.w3.org/2000/svg}"
        assert root.get("role") == "img"
        assert root.find(f"{ns}title") is not None and root.find(f"{ns}desc") is not None
    assert "<td>2020-05</td><td>2</td>" in page.text
    assert "4.0 个工作日（3 条）" in page.text and "3.5 个工作日（2 条）" in page.text

    officer_view = await extra_client(app)
    await sign_in(officer_view, "officer")
    assert (await officer_view.get("/statistics")).status_code == 200
    assert (await officer_view.get("/oversight")).status_code == 403


async def test_ledger_verification_is_kept_and_shown(
    client: Client, app: Litestar, settings: Settings
) -> None:
    await sign_in(client, "inspector")
    page = await client.get("/oversight")
    assert "尚未校验过台账。" in page.text
    done = await client.post("/oversight/verify", data=await csrf_form(client, "/oversight"))
    assert done.status_code == 200
    assert "已完成校验。" in done.text and "校验通过" in done.text
    body = (await client.get("/api/v1/oversight")).json()
    assert body["verification"]["ok"] is True and body["verification"]["trigger"] == "inspector"
    await job_by_id("oversight-verify").func()  # the scheduler's hourly run
    body = (await client.get("/api/v1/oversight")).json()
    assert body["verification"]["trigger"] == "scheduler"
    assert "由定时任务校验。" in (await client.get("/oversight")).text

    leader = await extra_client(app)
    await sign_in(leader, "leader")
    page = await leader.get("/oversight")
    assert page.status_code == 200 and "校验通过" in page.text
    assert (await leader.get("/statistics")).status_code == 200

    # Someone edits an event behind the application's back: the next run names it.
    first = await CustodyEvent.select().order_by(CustodyEvent.seq).first()
    assert first is not None
    await CustodyEvent.update({CustodyEvent.payload: '{"edited":true}'}).where(
        CustodyEvent.seq == first["seq"]
    )
    broken = await client.post("/oversight/verify", data=await csrf_form(client, "/oversight"))
    assert f"校验失败：第 {first['seq']} 号事件起不一致" in broken.text
    assert (await client.get("/api/v1/oversight")).json()["verification"]["ok"] is False


@pytest.mark.parametrize("role", ["township_staff", "county_staff", "admin"])
async def test_other_roles_get_403_everywhere(
    client: Client, app: Litestar, settings: Settings, role: str
) -> None:
    await sign_in(client, role)
    for url in (
        "/oversight",
        "/oversight/cases/2026-000001",
        "/oversight/export.xlsx",
        "/ledger-export.xlsx",
        "/exports",
        "/statistics",
        "/api/v1/oversight",
        "/api/v1/oversight/cases/2026-000001",
        "/api/v1/exports",
        "/api/v1/statistics",
    ):
        assert (await client.get(url)).status_code == 403, url
    for url in ("/api/v1/oversight/verify", "/api/v1/exports", "/api/v1/exports/1/download"):
        assert (await client.post(url, json={})).status_code == 403, url
    assert await _events("ledger.exported") == []


async def _make_overdue(ledger_no: str) -> None:
    """Tip D's due dates as if it had lain untouched since May 2020, then the sweep."""
    tip = await tip_id(ledger_no)
    await CaseDeadline.update(
        {CaseDeadline.start_day: dt.date(2020, 5, 20), CaseDeadline.due_on: dt.date(2020, 5, 21)}
    ).where(CaseDeadline.tip == tip)
    await duedates.sweep()


async def _deadline_cells(ledger_no: str) -> dict[str, tuple[str, str]]:
    rows = await CaseDeadline.select().where(CaseDeadline.tip == await tip_id(ledger_no))
    today = dt.datetime.now(CHINA).date()
    cells = {}
    for row in rows:
        due = row["due_on"]
        met = row["met_at"].astimezone(CHINA).date() if row["met_at"] else None
        state = (
            ("按期" if met <= due else "逾期完成")
            if met
            else ("已逾期" if today > due else "未到期")
        )
        cells[row["kind"]] = (due.isoformat(), state)
    return cells


async def test_deadlines_per_officer_escalations_and_on_time_rates(
    client: Client, app: Litestar, settings: Settings
) -> None:
    _officer_client, _officer, ledger = await _officer_with_ledger(app, settings)
    await _make_overdue(ledger["d"])
    await sign_in(client, "inspector")

    body = (await client.get("/api/v1/oversight")).json()
    # A: first reply open; B: first reply and feedback; C: first reply; D (unregistered,
    # so nobody's): assess, transfer, first reply — all three overdue.
    assert body["officers"] == [
        {"officer": "Test officer", "on_time": 4, "warning": 0, "overdue": 0},
        {"officer": "未分配", "on_time": 0, "warning": 0, "overdue": 3},
    ]
    assert sorted((e["ledger_no"], e["kind"]) for e in body["escalations"]) == [
        (ledger["d"], "assess"),
        (ledger["d"], "first_reply"),
        (ledger["d"], "transfer"),
    ]
    page = await client.get("/oversight")
    assert page.text.count(f'<td><a href="/oversight/cases/{ledger["d"]}">') == 4  # 3 + list
    assert "已逾期" in page.text

    rates = {r["kind"]: r for r in (await client.get("/api/v1/statistics")).json()["on_time"]}
    assert list(rates) == ["assess", "transfer", "first_reply", "feedback"]
    assert (rates["assess"]["on_time"], rates["assess"]["late"], rates["assess"]["rate"]) == (
        3,
        1,
        0.75,
    )
    assert (rates["transfer"]["on_time"], rates["transfer"]["late"]) == (3, 1)
    assert (rates["feedback"]["on_time"], rates["feedback"]["late"], rates["feedback"]["rate"]) == (
        2,
        0,
        1.0,
    )
    assert (rates["first_reply"]["on_time"], rates["first_reply"]["late"]) == (0, 1)

    sheet = load_workbook(io.BytesIO((await client.get("/oversight/export.xlsx")).content)).active
    assert sheet is not None
    rows = [[c if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[0][10:] == [
        "初步研判期限",
        "初步研判是否按期",
        "移送期限",
        "移送是否按期",
        "首次回复举报人期限",
        "首次回复举报人是否按期",
        "主管部门反馈期限",
        "主管部门反馈是否按期",
    ]
    for line in rows[1:]:
        cells = await _deadline_cells(str(line[0]))
        expected = []
        for kind in ("assess", "transfer", "first_reply", "feedback"):
            expected += list(cells.get(kind, ("", "")))
        assert line[10:] == expected, line[0]
    assert rows[4][10:14] == ["2020-05-21", "已逾期", "2020-05-21", "已逾期"]
    assert rows[1][11] == "按期" and rows[2][17] == "未到期"


async def test_a_tip_not_sealed_to_the_requester_stops_the_export_and_spends_nothing(
    client: Client, app: Litestar, settings: Settings
) -> None:
    earlier = await extra_client(app)
    await sign_in(earlier, "officer")
    await open_box(settings)
    number = await submit(app)
    await sign_in(client, "officer")  # designated after the tip arrived: not a recipient
    asked = await client.post("/api/v1/exports", json={"ledger_nos": number, "reason": "核查"})
    request_id = asked.json()["id"]
    decided = await earlier.post(
        f"/api/v1/exports/{request_id}/decision", json={"approve": True, "reason": "同意"}
    )
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    refused = await client.post(f"/api/v1/exports/{request_id}/download")
    assert refused.status_code == 403
    assert refused.json()["error"] == "oversight.error.not_a_recipient"
    assert (await client.get("/api/v1/exports")).json()[0]["status"] == "approved"
    assert await _events("ledger.content_exported") == []
    assert await _events("tip.content_exported") == []


async def test_every_page_is_translated_in_both_languages(
    client: Client, app: Litestar, settings: Settings
) -> None:
    _officer_client, _officer, ledger = await _officer_with_ledger(app, settings)
    await _make_overdue(ledger["d"])
    await sign_in(client, "inspector")
    await client.post(f"/api/v1/oversight/cases/{ledger['a']}/notes", json={"text": "催办"})
    officer = await extra_client(app)
    await sign_in(officer, "officer")
    await officer.post("/api/v1/exports", json={"ledger_nos": ledger["a"], "reason": "核查"})
    keys = set(catalogues()["zh-CN"])
    for locale in ("zh-CN", "en"):
        for who, url in (
            (client, "/oversight"),
            (client, f"/oversight/cases/{ledger['a']}"),
            (client, f"/oversight/cases/{ledger['d']}"),
            (client, "/statistics"),
            (officer, "/exports"),
        ):
            who.cookies.set("lang", locale)
            page = await who.get(url)
            assert page.status_code == 200, url
            assert f'<html lang="{locale}">' in page.text
            leaked = sorted(key for key in keys if key in page.text)
            assert not leaked, f"{url} ({locale}) shows untranslated keys: {leaked}"


async def test_the_inspector_pages_through_every_case_in_ledger_order(
    client: Client, app: Litestar, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tipline.oversight import services

    monkeypatch.setattr(services, "CASES_PAGE_SIZE", 2)
    await make_account("officer")
    await open_box(settings)
    first, second, third = [await submit(app) for _ in range(3)]
    await sign_in(client, "inspector")

    page_one = await client.get("/oversight")
    assert page_one.status_code == 200
    assert f'href="/oversight/cases/{first}"' in page_one.text
    assert f'href="/oversight/cases/{second}"' in page_one.text
    assert f'href="/oversight/cases/{third}"' not in page_one.text
    assert 'href="/oversight?page=2#cases" rel="next"' in page_one.text

    page_two = await client.get("/oversight?page=2")
    assert f'href="/oversight/cases/{third}"' in page_two.text
    assert f'href="/oversight/cases/{first}"' not in page_two.text
    assert 'href="/oversight?page=1#cases" rel="prev"' in page_two.text
    assert 'rel="next"' not in page_two.text
    for nonsense in ("x", "²", "0", "-3", "9" * 5000):
        assert f"/oversight/cases/{first}" in (await client.get(f"/oversight?page={nonsense}")).text

    body = (await client.get("/api/v1/oversight", params={"page": 2})).json()
    assert [case["ledger_no"] for case in body["cases"]] == [third]
    assert body["cases_page"] == 2 and body["cases_has_next"] is False
    first_page = (await client.get("/api/v1/oversight")).json()
    assert [case["ledger_no"] for case in first_page["cases"]] == [first, second]
    assert first_page["cases_has_next"] is True
    assert await _events("tip.viewed") == []  # listing opens nothing
