"""The pages a user sees: the dashboard (colours, SVG, Excel), drill-down, the village
registers, stickers, the public pages without login, and who may open what."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from openpyxl import load_workbook
from PIL import Image

from tests.conftest import csrf_form, extra_client, log_in, make_account
from tests.villageaffairs.support import make_county, members_of, people, user
from tipline.auth import Role
from tipline.ledger.services import SYSTEM
from villageaffairs.campaigns import services as campaigns
from villageaffairs.campaigns.services import TaskSpec
from villageaffairs.campaigns.tables import TaskKind
from villageaffairs.committees import services as committees


async def _setup(client: AsyncTestClient[Litestar]) -> Any:
    c = await make_county()
    vc = await people(
        c.village_a1, [("王主任", "female"), ("李副主任", "male"), ("张委员", "male")]
    )
    clerk = user(Role.township_staff, c.town_a, 11)
    await committees.record_committee(clerk, c.village_a1, dt.date(2019, 1, 10), 3, members_of(vc))
    c.sc_people = await people(
        c.village_a1, [("赵监督", "male"), ("钱会计", "female"), ("孙村民", "male")]
    )
    c.campaign = await campaigns.create_campaign(
        SYSTEM,
        code="2020",
        title="2020年村务专项",
        year=2020,
        tasks=[
            TaskSpec(
                code="sc",
                title="村务监督委员会",
                kind=TaskKind.supervisory_committee,
                due_on=dt.date(2020, 6, 30),
            ),
            TaskSpec(
                code="board",
                title="村务公开栏",
                kind=TaskKind.notice_board,
                due_on=dt.date(2020, 6, 30),
            ),
        ],
    )
    c.clerk = await make_account(Role.township_staff, org_unit_id=c.town_a)
    assert (await log_in(client, c.clerk)).status_code == 200
    return c


def _png_with_gps() -> bytes:
    image = Image.new("RGB", (40, 30), "red")
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 0.0)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


async def test_clerk_records_committee_and_dashboard_changes(
    client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    c = await _setup(client)
    page = f"/villageaffairs/supervision/villages/{c.village_a1}"
    response = await client.get(page)
    assert response.status_code == 200 and "赵监督" in response.text

    # Two members and a committee member: every problem at once, nothing written.
    form = await csrf_form(
        client,
        page,
        elected_on="2020-05-20",
        forum="villagers_meeting",
        person_1=str(c.sc_people[0]),
        post_1="chair",
        person_2=str(c.sc_people[1]),
        post_2="member",
    )
    response = await client.post(f"{page}/committee", data=form)
    assert response.status_code == 422
    assert "3 至 5 人" in response.text and "财会" in response.text

    form.update(person_3=str(c.sc_people[2]), post_3="member", accounting_2="1")
    response = await client.post(f"{page}/committee", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    response = await client.get(response.headers["location"])
    assert "已保存" in response.text and 'data-step="submit"' in response.text

    dashboard = await client.get("/villageaffairs/dashboard")
    assert dashboard.status_code == 200
    assert 'id="cell-' in dashboard.text and "<svg" in dashboard.text
    assert "办理中 1" in dashboard.text

    drill = await client.get(
        f"/villageaffairs/dashboard/tasks/{(await campaigns.get_campaign()).tasks[0].id}"
        f"/townships/{c.town_a}"
    )
    assert drill.status_code == 200 and "甲一村" in drill.text

    xlsx = await client.get("/villageaffairs/dashboard.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.cell(row=1, column=1).value == "乡镇"
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == ["甲镇"]  # own township only

    api = await client.get("/api/v1/villageaffairs/dashboard")
    assert api.status_code == 200
    assert [row["name"] for row in api.json()["townships"]] == ["甲镇"]


async def test_township_staff_see_only_their_villages(
    client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    c = await _setup(client)
    for path in (
        f"/villageaffairs/supervision/villages/{c.village_b1}",
        f"/villageaffairs/villagerules/villages/{c.village_b1}",
        f"/villageaffairs/noticeboards/villages/{c.village_b1}",
        f"/villageaffairs/noticeboards/villages/{c.village_b1}/sticker.png",
        f"/api/v1/villageaffairs/supervision/villages/{c.village_b1}",
        f"/villageaffairs/dashboard/tasks/1/townships/{c.town_b}",
    ):
        response = await client.get(path)
        assert response.status_code == 403, path
    form = await csrf_form(client, f"/villageaffairs/noticeboards/villages/{c.village_a1}")
    response = await client.post(
        f"/villageaffairs/noticeboards/villages/{c.village_b1}/board",
        data={**form, "location": "村部", "standardised": "yes"},
    )
    assert response.status_code == 403

    county = await extra_client(app)
    account = await make_account(Role.county_staff, org_unit_id=c.county)
    assert (await log_in(county, account)).status_code == 200
    assert (
        await county.get(f"/villageaffairs/supervision/villages/{c.village_b1}")
    ).status_code == 200
    board = await county.get("/api/v1/villageaffairs/dashboard")
    assert len(board.json()["townships"]) == 2
    # The county reads every village but does not enter a township's records.
    form = await csrf_form(county, f"/villageaffairs/noticeboards/villages/{c.village_a1}")
    response = await county.post(
        f"/villageaffairs/noticeboards/villages/{c.village_a1}/board",
        data={**form, "location": "村部", "standardised": "yes"},
    )
    assert response.status_code == 403


async def test_board_photo_is_cleaned_and_sticker_links_to_public_page(
    client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    c = await _setup(client)
    page = f"/villageaffairs/noticeboards/villages/{c.village_a1}"
    form = await csrf_form(client, page)
    response = await client.post(
        f"{page}/board",
        data={"_csrf_token": form["_csrf_token"], "location": "村委会门口", "standardised": "yes"},
        files={"photo": ("board.jpg", _png_with_gps(), "image/jpeg")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    response = await client.get(page)
    assert "村委会门口" in response.text
    photo_path = response.text.split('class="board-photo" src="')[1].split('"')[0]
    photo = await client.get(photo_path)
    assert photo.status_code == 200
    assert not Image.open(io.BytesIO(photo.content)).getexif()  # EXIF and GPS are gone

    png = await client.get(f"{page}/sticker.png")
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    pdf = await client.get(f"{page}/sticker.pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    assert "http://testserver.local/public/villages/999901001" in response.text

    anonymous = await extra_client(app)
    county = await anonymous.get("/public")
    assert county.status_code == 200 and "甲一村" in county.text
    village = await anonymous.get("/public/villages/999901001")
    assert village.status_code == 200
    assert "王主任" in village.text and "<script" not in village.text
    assert "430102" not in village.text  # no identity numbers, masked or not
    assert (await anonymous.get("/public/villages/nope")).status_code == 404
    refused = await anonymous.get(page, follow_redirects=False)
    assert refused.status_code == 302 and "村委会门口" not in refused.text
    assert refused.headers["location"] == f"/login?next={page}"


async def test_disclosures_missing_and_inspection(
    client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    c = await _setup(client)
    page = f"/villageaffairs/noticeboards/villages/{c.village_a1}"
    form = await csrf_form(client, page)
    response = await client.post(
        f"{page}/disclosure",
        data={
            **form,
            "category": "general",
            "period": "2020-05",
            "title": "一季度村务",
            "posted_on": "2020-04-05",
            "sc_signed_by": "赵监督",
        },
    )
    assert response.status_code == 400 and "2020-Q2" in response.text  # quarterly, not monthly
    response = await client.post(
        f"{page}/inspect",
        data={**form, "inspected_on": "2020-06-01", "check_fixed_location": "1"},
    )
    assert response.status_code == 400  # failed items need findings and a fix-by date
    response = await client.post(
        f"{page}/inspect",
        data={
            **form,
            "inspected_on": "2020-06-01",
            "check_fixed_location": "1",
            "findings": "未公开财务明细",
            "fix_by": "2020-06-15",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    text = (await client.get(page)).text
    assert "待整改" in text and "未公开财务明细" in text


async def test_county_plans_a_campaign_township_staff_cannot(
    client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    c = await _setup(client)
    form = await csrf_form(client, "/villageaffairs/campaigns")
    refused = await client.post("/villageaffairs/campaigns", data={**form, "code": "X"})
    assert refused.status_code == 403

    county = await extra_client(app)
    account = await make_account(Role.county_staff, org_unit_id=c.county)
    assert (await log_in(county, account)).status_code == 200
    form = await csrf_form(
        county,
        "/villageaffairs/campaigns",
        code="2021",
        title="2021年回头看",
        year="2021",
        title_1="补选",
        kind_1="by_election",
        due_1="2021-05-31",
        levels_1="2",
        villages_1="999901001 nope",
    )
    response = await county.post("/villageaffairs/campaigns", data=form)
    assert response.status_code == 400 and "nope" in response.text
    form["villages_1"] = "999901001 999902001"
    response = await county.post("/villageaffairs/campaigns", data=form, follow_redirects=False)
    assert response.status_code == 303
    created = await county.post(
        "/api/v1/villageaffairs/campaigns",
        json={
            "code": "2022",
            "title": "2022",
            "year": 2022,
            "tasks": [
                {
                    "code": "rules",
                    "title": "村规民约",
                    "kind": "village_rules",
                    "due_on": "2022-04-15",
                    "approval_levels": 0,
                }
            ],
        },
    )
    assert created.status_code == 201, created.text
    listed = (await county.get("/api/v1/villageaffairs/campaigns")).json()
    by_code = {campaign["code"]: campaign for campaign in listed}
    assert by_code["2021"]["tasks"][0]["all_villages"] is False
    board = (
        await county.get(f"/api/v1/villageaffairs/dashboard?campaign_id={by_code['2021']['id']}")
    ).json()
    assert [row["cells"][0]["expected"] for row in board["townships"]] == [1, 1]
