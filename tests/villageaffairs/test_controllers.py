"""The village-affairs pages and API through HTTP: township staff see and change only
their own township's villages, forms explain refusals in Chinese with the article,
the API lists failed rules, the county accepts, accepted data is not edited in place,
and every register exports to Excel."""

from __future__ import annotations

import datetime as dt
import io

from litestar import Litestar
from litestar.testing import AsyncTestClient
from openpyxl import load_workbook

from tests.conftest import csrf_form, extra_client, sign_in
from tests.villageaffairs.support import id_number, make_county


async def _person(client: AsyncTestClient[Litestar], village: int, name: str, gender: str) -> int:
    response = await client.post(
        "/api/v1/villageaffairs/people",
        json={"village_id": village, "name": name, "gender": gender, "id_number": id_number()},
    )
    assert response.status_code == 201, response.text
    assert "*" in response.json()["id_masked"]
    return int(response.json()["id"])


async def test_township_pages_forms_api_and_exports(
    client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    c = await make_county()
    await sign_in(client, "township_staff", org_unit_id=c.town_a)
    other = await extra_client(app)
    await sign_in(other, "township_staff", org_unit_id=c.town_b)
    county = await extra_client(app)
    await sign_in(county, "county_staff")

    registers = await client.get("/villageaffairs/registers")
    assert registers.status_code == 200
    assert "甲一村" in registers.text and "乙一村" not in registers.text
    assert (await other.get(f"/villageaffairs/villages/{c.village_a1}")).status_code == 403
    assert (
        await other.get(f"/api/v1/villageaffairs/villages/{c.village_a1}/committee")
    ).status_code == 403

    # The id number is never stored or shown in clear.
    number = id_number()
    form = await csrf_form(
        client,
        f"/villageaffairs/villages/{c.village_a1}",
        name="王芳",
        gender="female",
        id_number=number,
    )
    response = await client.post(
        f"/villageaffairs/villages/{c.village_a1}/people", data=form, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/villageaffairs/villages/{c.village_a1}#people"
    page = await client.get(f"/villageaffairs/villages/{c.village_a1}")
    assert "王芳" in page.text and number not in page.text and number[:4] + "*" in page.text
    bad = await client.post(
        f"/villageaffairs/villages/{c.village_a1}/people",
        data={**form, "id_number": number[:-1] + ("0" if number[-1] != "0" else "1")},
    )
    assert bad.status_code == 400 and "校验位" in bad.text

    men = [await _person(client, c.village_a1, f"男{i}", "male") for i in range(3)]
    # Form refusal: no woman, in Chinese with the article.
    form = await csrf_form(
        client,
        f"/villageaffairs/villages/{c.village_a1}",
        term_start="2024-03-01",
        seats="3",
        person_1=str(men[0]),
        post_1="director",
        person_2=str(men[1]),
        post_2="deputy",
        person_3=str(men[2]),
        post_3="member",
    )
    refused = await client.post(f"/villageaffairs/villages/{c.village_a1}/committee", data=form)
    assert refused.status_code == 422
    assert "妇女成员" in refused.text and "第6条" in refused.text

    # The API lists each failed rule with its article: 8 seats and no woman.
    eight = [await _person(client, c.village_a1, f"男A{i}", "male") for i in range(8)]
    api = await client.post(
        "/api/v1/villageaffairs/committees",
        json={
            "village_id": c.village_a1,
            "term_start": "2024-03-01",
            "seats": 8,
            "members": [{"person_id": p, "post": "member"} for p in eight],
        },
    )
    assert api.status_code == 422
    body = api.json()
    assert {f["rule"] for f in body["failures"]} == {"seats_in_range", "has_woman"}
    assert {f["article"] for f in body["failures"]} == {"6"}

    woman = await _person(client, c.village_a1, "李娟", "female")
    ok = await client.post(
        "/api/v1/villageaffairs/committees",
        json={
            "village_id": c.village_a1,
            "term_start": "2024-03-01",
            "seats": 3,
            "members": [
                {"person_id": woman, "post": "director"},
                {"person_id": men[0], "post": "deputy"},
                {"person_id": men[1], "post": "member"},
            ],
        },
    )
    assert ok.status_code == 201 and ok.json()["term_end"] == "2029-03-01"
    denied = await other.post(
        "/api/v1/villageaffairs/committees",
        json={"village_id": c.village_a1, "term_start": "2024-03-01", "seats": 3, "members": []},
    )
    assert denied.status_code == 403

    view = (await client.get(f"/api/v1/villageaffairs/villages/{c.village_a1}/committee")).json()
    member = next(m for m in view["members"] if m["post"] == "member")
    ended = await client.post(
        f"/api/v1/villageaffairs/memberships/{member['membership_id']}/end",
        json={"end": dt.date.today().isoformat(), "reason": "died"},
    )
    assert ended.status_code == 200 and ended.json()["status"] == "open"
    assert (await other.get("/api/v1/villageaffairs/vacancies")).json() == []

    overview = await county.get("/villageaffairs/overview")
    assert overview.status_code == 200 and "甲镇" in overview.text and "乙镇" in overview.text
    api_overview = (await client.get("/api/v1/villageaffairs/overview")).json()
    assert [line["township"] for line in api_overview] == ["甲镇"]
    assert api_overview[0]["open_vacancies"] == 1

    for path, title in (
        ("/villageaffairs/registers/committees.xlsx", "李娟"),
        ("/villageaffairs/registers/vacancies.xlsx", "死亡"),
        ("/villageaffairs/registers/people.xlsx", "李娟"),
        ("/villageaffairs/by-elections/export.xlsx", None),
        ("/villageaffairs/lookbacks/export.xlsx", None),
        ("/villageaffairs/appraisals/export.xlsx", None),
    ):
        response = await client.get(path)
        assert response.status_code == 200, path
        sheet = load_workbook(io.BytesIO(response.content)).active
        cells = [str(cell.value) for row in sheet.iter_rows() for cell in row]
        assert cells and cells[0]
        assert number not in cells
        if title:
            assert title in cells


async def test_report_chain_over_http(client: AsyncTestClient[Litestar], app: Litestar) -> None:
    """Township submits and approves, the county accepts; afterwards the by-election
    cannot change in place and only a new version with a reason reopens it."""
    from tests.villageaffairs.support import user
    from tipline.auth import Role
    from villageaffairs.reports import services as reports

    c = await make_county()
    clerk_account = await sign_in(client, "township_staff", org_unit_id=c.town_a)
    county = await extra_client(app)
    county_account = await sign_in(county, "county_staff")
    clerk = user(Role.township_staff, c.town_a, clerk_account["id"])
    report = await reports.create_report(clerk, "test_http", c.village_a1, 99)
    form = await csrf_form(client, "/villageaffairs/reports", next="/villageaffairs/reports")
    done = await client.post(f"/villageaffairs/reports/{report.id}/submit", data=form)
    assert done.status_code == 200
    assert (await reports.get_report(clerk, report.id)).status.value == "submitted"
    done = await client.post(f"/villageaffairs/reports/{report.id}/approve", data=form)
    assert done.status_code == 200
    assert (await reports.get_report(clerk, report.id)).status.value == "township_approved"
    # Township staff cannot accept; the county can, through the API.
    refused = await client.post(f"/api/v1/villageaffairs/reports/{report.id}/accept")
    assert refused.status_code == 403 and "县民政局" in refused.json()["detail"]
    queue = await county.get("/villageaffairs/reports")
    assert "甲一村" in queue.text
    accepted = await county.post(f"/api/v1/villageaffairs/reports/{report.id}/accept")
    assert accepted.status_code == 200 and accepted.json()["accepted_by"] == county_account["id"]
    # Return needs a reason; a correction is a new version.
    empty = await county.post(
        f"/api/v1/villageaffairs/reports/{report.id}/new-version", json={"reason": " "}
    )
    assert empty.status_code == 400
    again = await client.post(
        f"/api/v1/villageaffairs/reports/{report.id}/new-version", json={"reason": "更正票数"}
    )
    assert again.status_code == 201 and again.json()["version"] == 2
