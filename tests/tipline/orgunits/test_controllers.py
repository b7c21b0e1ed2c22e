"""The org-unit pages (tree, upload, export) and the API, as each role meets them."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import TEST_COUNTY_CODE, csrf_form, extra_client, sign_in
from tests.tipline.orgunits.samples import (
    BASE,
    CHINESE_HEADER,
    COUNTY,
    TOWN_A,
    TOWN_B,
    csv_bytes,
    xlsx_bytes,
)
from tipline.auth import Role
from tipline.ledger.services import SYSTEM
from tipline.ledger.tables import CustodyEvent
from tipline.orgunits import files, services
from tipline.orgunits.tables import OrgUnit

Client = AsyncTestClient[Litestar]


async def _import_base() -> dict[str, int]:
    await services.import_file(SYSTEM, "units.csv", csv_bytes(BASE))
    return {row["code"]: row["id"] for row in await OrgUnit.select(OrgUnit.code, OrgUnit.id)}


async def _upload(client: Client, filename: str, data: bytes) -> object:
    form = await csrf_form(client, "/admin/orgunits")
    return await client.post(
        "/admin/orgunits/import",
        data={"_csrf_token": form["_csrf_token"]},
        files={"file": (filename, data, "application/octet-stream")},
    )


async def test_admin_sees_the_tree_and_a_townships_villages(client: Client) -> None:
    ids = await _import_base()
    await sign_in(client, Role.admin, org_unit_id=ids[COUNTY])
    page = await client.get("/admin/orgunits")
    assert page.status_code == 200
    assert "示范县" in page.text and "青山镇" in page.text and "红旗农场" in page.text
    assert f'href="/admin/orgunits/{ids[TOWN_A]}"' in page.text
    assert 'enctype="multipart/form-data"' in page.text
    township = await client.get(f"/admin/orgunits/{ids[TOWN_A]}")
    assert township.status_code == 200
    assert "石桥村" in township.text and "东街社区" in township.text
    assert "柳湾村" not in township.text
    assert (await client.get("/admin/orgunits/99999")).status_code == 404


async def test_admin_uploads_an_xlsx_with_chinese_headers(client: Client) -> None:
    await sign_in(client, Role.admin)  # on the test county that sign_in creates
    rows = [
        ["999902", "青山镇", "镇", TEST_COUNTY_CODE],
        ["999902200", "石桥村", "村", "999902"],
        ["999902001", "东街社区", "社区", "999902"],
    ]
    response = await _upload(client, "单位.xlsx", xlsx_bytes(rows, CHINESE_HEADER))
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert "新建 3 个，更新 0 个，未变 0 个" in response.text  # type: ignore[attr-defined]
    assert "青山镇" in response.text  # type: ignore[attr-defined]
    assert await OrgUnit.count().where(OrgUnit.kind == "community") == 1


async def test_upload_imports_and_reimport_changes_nothing(client: Client, app: Litestar) -> None:
    ids = await _import_base()
    await sign_in(client, Role.admin, org_unit_id=ids[COUNTY])
    new_rows = [*BASE, ["610000102201", "新庄村", "village", TOWN_B]]
    response = await _upload(client, "units.csv", csv_bytes(new_rows))
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert "新建 1 个，更新 0 个，未变 9 个" in response.text  # type: ignore[attr-defined]
    events = await CustodyEvent.count()
    again = await _upload(client, "units.csv", csv_bytes(new_rows))
    assert "新建 0 个，更新 0 个，未变 10 个" in again.text  # type: ignore[attr-defined]
    assert await CustodyEvent.count() == events
    created = await CustodyEvent.select().where(CustodyEvent.action == "orgunits.imported")
    assert created[-1]["actor_type"] == "account"


async def test_upload_with_problems_is_refused_with_the_problem_table(client: Client) -> None:
    ids = await _import_base()
    await sign_in(client, Role.admin, org_unit_id=ids[COUNTY])
    units, events = await OrgUnit.count(), await CustodyEvent.count()
    rows = [
        ["610000102202", "好村", "村", TOWN_B],
        ["610000102203", "坏村", "城市", TOWN_B],
        ["610000102204", "孤村", "村", "619999999999"],
    ]
    response = await _upload(client, "units.csv", csv_bytes(rows, CHINESE_HEADER))
    assert response.status_code == 422  # type: ignore[attr-defined]
    text = response.text  # type: ignore[attr-defined]
    assert "文件中有 2 个问题，未导入任何数据" in text
    assert "<td>3</td>" in text and "<td>类型</td>" in text and "城市" in text
    assert "<td>4</td>" in text and "<td>上级代码</td>" in text and "619999999999" in text
    assert (await OrgUnit.count(), await CustodyEvent.count()) == (units, events)


async def test_unreadable_or_wrong_type_uploads_get_a_clear_4xx(client: Client) -> None:
    await sign_in(client, Role.admin)
    broken = await _upload(client, "units.xlsx", b"this is no spreadsheet")
    assert broken.status_code == 400  # type: ignore[attr-defined]
    assert "无法读取该文件" in broken.text  # type: ignore[attr-defined]
    wrong = await _upload(client, "units.xls", b"old excel")
    assert wrong.status_code == 400  # type: ignore[attr-defined]
    assert ".xlsx" in wrong.text  # type: ignore[attr-defined]


async def test_upload_without_the_csrf_token_is_refused(client: Client) -> None:
    await sign_in(client, Role.admin)
    response = await client.post(
        "/admin/orgunits/import", files={"file": ("units.csv", csv_bytes(BASE), "text/csv")}
    )
    assert response.status_code == 403
    assert await OrgUnit.count().where(OrgUnit.code == TOWN_A) == 0


async def test_export_downloads_reimport_to_no_change(client: Client) -> None:
    ids = await _import_base()
    await sign_in(client, Role.admin, org_unit_id=ids[COUNTY])
    for extension in ("xlsx", "csv"):
        response = await client.get(f"/admin/orgunits/export.{extension}")
        assert response.status_code == 200
        assert "attachment" in response.headers["content-disposition"]
        parsed = files.read_file(f"units.{extension}", response.content)
        assert {r.code for r in parsed.rows} == {row[0] for row in BASE}
        result = await services.import_file(SYSTEM, f"units.{extension}", response.content)
        assert (result.created, result.updated) == (0, 0)


async def test_county_staff_view_the_tree_but_cannot_import(client: Client) -> None:
    ids = await _import_base()
    await sign_in(client, Role.county_staff, org_unit_id=ids[COUNTY])
    page = await client.get("/admin/orgunits")
    assert page.status_code == 200 and "青山镇" in page.text
    assert 'href="/admin/orgunits"' in page.text  # in the navigation
    assert 'action="/admin/orgunits/import"' not in page.text
    response = await _upload(client, "units.csv", csv_bytes(BASE))
    assert response.status_code == 403  # type: ignore[attr-defined]


async def test_township_staff_cannot_open_the_admin_pages(client: Client) -> None:
    ids = await _import_base()
    await sign_in(client, Role.township_staff, org_unit_id=ids[TOWN_A])
    assert (await client.get("/admin/orgunits")).status_code == 403
    assert (await client.get("/admin/orgunits/export.xlsx")).status_code == 403


async def test_api_shows_township_staff_only_their_own_villages(client: Client) -> None:
    ids = await _import_base()
    await sign_in(client, Role.township_staff, org_unit_id=ids[TOWN_A])
    response = await client.get("/api/v1/orgunits")
    assert response.status_code == 200
    codes = {unit["code"] for unit in response.json()}
    assert codes == {TOWN_A, "610000101200", "610000101201", "610000101001"}
    own = await client.get(f"/api/v1/orgunits/{ids['610000101200']}")
    assert own.status_code == 200 and own.json()["name"] == "石桥村"
    for code in (TOWN_B, "610000102200", COUNTY):
        refused = await client.get(f"/api/v1/orgunits/{ids[code]}")
        assert refused.status_code == 403
        assert refused.json()["error"] == "orgunits.error.forbidden"


async def test_api_shows_county_level_roles_every_unit(client: Client, app: Litestar) -> None:
    ids = await _import_base()
    await sign_in(client, Role.officer, org_unit_id=ids[COUNTY])
    units = (await client.get("/api/v1/orgunits")).json()
    assert len(units) == len(BASE)
    assert units[0]["kind"] == "county"
    assert (await client.get(f"/api/v1/orgunits/{ids['610000102200']}")).status_code == 200
    async with await extra_client(app) as anonymous:
        assert (await anonymous.get("/api/v1/orgunits")).status_code == 401
