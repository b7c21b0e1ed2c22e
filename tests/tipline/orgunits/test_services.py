"""Importing the hierarchy (every problem, all or nothing, idempotent), exporting it,
and who sees which unit."""

from __future__ import annotations

import json

import pytest

from tests.tipline.orgunits.samples import (
    BASE,
    CHINESE_HEADER,
    COUNTY,
    FARM,
    TOWN_A,
    TOWN_B,
    csv_bytes,
    xlsx_bytes,
)
from tipline.auth import CurrentUser, Role
from tipline.ledger.services import SYSTEM, verify_chain
from tipline.ledger.tables import CustodyEvent
from tipline.orgunits import files, services
from tipline.orgunits.exceptions import (
    EmptyFile,
    FileTooLarge,
    ImportFileError,
    ImportRejected,
    OrgUnitNotFound,
    OutsideYourUnit,
    TooManyRows,
    UnsupportedFileType,
)
from tipline.orgunits.tables import OrgUnit, OrgUnitKind
from tipline.settings import Settings


async def _counts() -> tuple[int, int]:
    return await OrgUnit.count(), await CustodyEvent.count()


async def _import_base() -> None:
    result = await services.import_file(SYSTEM, "units.csv", csv_bytes(BASE))
    assert (result.created, result.updated, result.unchanged) == (len(BASE), 0, 0)


async def _problems(filename: str, data: bytes) -> set[tuple[int, str, str]]:
    with pytest.raises(ImportRejected) as caught:
        await services.import_file(SYSTEM, filename, data)
    return {(p.row, p.column, p.reason.rsplit(".", 1)[1]) for p in caught.value.problems}


def _user(role: Role, unit_id: int) -> CurrentUser:
    return CurrentUser(
        account_id=1,
        username="someone",
        display_name="Someone",
        role=role,
        org_unit_id=unit_id,
        org_unit_name="",
        session_id=1,
        totp_enrolled=True,
    )


async def _unit_id(code: str) -> int:
    row = await OrgUnit.select(OrgUnit.id).where(OrgUnit.code == code).first()
    assert row is not None
    return int(row["id"])


async def test_csv_import_builds_the_hierarchy_with_one_event_per_unit(
    tipline_db: Settings,
) -> None:
    await _import_base()
    tree = await services.county_tree()
    assert tree.county is not None and tree.county.name == "示范县"
    by_code = {t.unit.code: t for t in tree.townships}
    assert set(by_code) == {TOWN_A, TOWN_B, FARM}
    assert (by_code[TOWN_A].villages, by_code[TOWN_A].communities) == (2, 1)
    assert by_code[FARM].unit.kind is OrgUnitKind.farm
    actions = [row["action"] for row in await CustodyEvent.select().order_by(CustodyEvent.seq)]
    assert actions.count("orgunit.created") == len(BASE)
    assert actions[-1] == "orgunits.imported"
    created = await CustodyEvent.select().where(CustodyEvent.action == "orgunit.created").first()
    assert created is not None
    assert json.loads(created["payload"]) == {"code": COUNTY, "kind": "county", "name": "示范县"}
    assert (await verify_chain()).ok


async def test_xlsx_with_chinese_headers_kinds_and_numeric_codes(tipline_db: Settings) -> None:
    rows: list[list[object]] = [
        [int(COUNTY), "示范县", "县", None],
        [int(TOWN_A), "青山镇", "镇", int(COUNTY)],
        [int(TOWN_B), "柳河乡", "乡", COUNTY],
        [FARM, "红旗农场", "农场", COUNTY],
        ["610000101200", "石桥村", "村", TOWN_A],
        ["610000101001", "东街社区", "社区", TOWN_A],
    ]
    result = await services.import_file(SYSTEM, "单位.XLSX", xlsx_bytes(rows, CHINESE_HEADER))
    assert result.created == 6
    kinds = {row["code"]: row["kind"] for row in await OrgUnit.select()}
    assert kinds[TOWN_B] == "township" and kinds[FARM] == "farm"
    assert kinds["610000101001"] == "community"


async def test_csv_with_bom_and_gb18030_csv_are_both_read(tipline_db: Settings) -> None:
    with_bom = b"\xef\xbb\xbf" + csv_bytes(BASE[:2])
    assert (await services.import_file(SYSTEM, "a.csv", with_bom)).created == 2
    gbk = csv_bytes(BASE[2:3], CHINESE_HEADER, encoding="gb18030")
    assert (await services.import_file(SYSTEM, "b.csv", gbk)).created == 1
    names = {row["name"] for row in await OrgUnit.select(OrgUnit.name)}
    assert "柳河乡" in names


async def test_every_problem_in_the_file_is_reported_with_row_and_column(
    tipline_db: Settings,
) -> None:
    rows = [
        [COUNTY, "示范县", "county", ""],  # row 2: fine
        ["", "无代码镇", "township", COUNTY],  # row 3: missing code
        [TOWN_A, "青山镇", "township", COUNTY],  # row 4: fine
        [TOWN_A, "重复镇", "township", COUNTY],  # row 5: duplicate code
        ["610000103000", "", "township", COUNTY],  # row 6: missing name
        ["610000104000", "怪镇", "city", COUNTY],  # row 7: unknown kind
        ["610000101200", "孤村", "village", "619999999999"],  # row 8: parent not found
        ["610000101201", "错村", "village", COUNTY],  # row 9: village under the county
        ["610000105000", "错镇", "township", TOWN_A],  # row 10: township under a township
        ["620000000000", "第二县", "county", ""],  # row 11: a second county
        ["610000101202", "无上级村", "village", ""],  # row 12: missing parent
        ["bad code!", "=HYPERLINK()", "village", TOWN_A],  # row 13: bad code, formula name
        [COUNTY + "9", "上级县", "county", COUNTY],  # row 14: county with parent + second
    ]
    problems = await _problems("units.csv", csv_bytes(rows))
    assert problems == {
        (3, "code", "required"),
        (5, "code", "duplicate_code"),
        (6, "name", "required"),
        (7, "kind", "unknown_kind"),
        (8, "parent_code", "parent_not_found"),
        (9, "parent_code", "village_parent"),
        (10, "parent_code", "township_parent"),
        (11, "kind", "second_county"),
        (12, "parent_code", "required"),
        (13, "code", "bad_code"),
        (13, "name", "formula_text"),
        (14, "parent_code", "county_has_parent"),
        (14, "kind", "second_county"),
    }
    assert await _counts() == (0, 0)


async def test_problems_name_the_columns_as_the_file_spells_them(tipline_db: Settings) -> None:
    rows = [[COUNTY, "示范县", "县", ""], [TOWN_A, "青山镇", "市", COUNTY]]
    assert await _problems("u.xlsx", xlsx_bytes(rows, CHINESE_HEADER)) == {
        (3, "类型", "unknown_kind")
    }


async def test_conflicts_with_stored_units_are_reported(tipline_db: Settings) -> None:
    await _import_base()
    rows = [
        [TOWN_A, "青山镇", "farm", COUNTY],  # row 2: kind changed
        ["610000101200", "石桥村", "village", TOWN_B],  # row 3: moved to another township
        ["620000000000", "别的县", "county", ""],  # row 4: a second county
        ["610000102201", "新村", "village", TOWN_B],  # row 5: fine on its own
    ]
    assert await _problems("more.csv", csv_bytes(rows)) == {
        (2, "kind", "kind_changed"),
        (3, "parent_code", "parent_changed"),
        (4, "kind", "second_county"),
    }


async def test_a_missing_header_column_is_reported_on_row_one(tipline_db: Settings) -> None:
    data = csv_bytes([[COUNTY, "示范县", "county"]], header=["code", "name", "kind"])
    assert await _problems("u.csv", data) == {(1, "parent_code", "missing_column")}


async def test_one_bad_row_writes_nothing(tipline_db: Settings) -> None:
    await _import_base()
    before = await _counts()
    rows = [*BASE, ["610000102202", "新村", "village", TOWN_B]]
    rows.append(["610000102203", "坏村", "?", TOWN_B])
    rows[1] = [TOWN_A, "青山镇（改名）", "township", COUNTY]
    for filename, data in (("u.csv", csv_bytes(rows)), ("u.xlsx", xlsx_bytes(rows))):
        assert await _problems(filename, data) == {(len(rows) + 1, "kind", "unknown_kind")}
        assert await _counts() == before
    assert await OrgUnit.count().where(OrgUnit.name == "青山镇") == 1


@pytest.mark.parametrize("filename", ["units.csv", "units.xlsx"])
async def test_reimporting_the_same_file_changes_nothing(
    tipline_db: Settings, filename: str
) -> None:
    data = csv_bytes(BASE) if filename.endswith(".csv") else xlsx_bytes(BASE)
    assert (await services.import_file(SYSTEM, filename, data)).created == len(BASE)
    before = await _counts()
    again = await services.import_file(SYSTEM, filename, data)
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(BASE))
    assert await _counts() == before


async def test_a_renamed_unit_is_updated_with_an_event(tipline_db: Settings) -> None:
    await _import_base()
    _, events_before = await _counts()
    rows = [list(row) for row in BASE]
    rows[4][1] = "石桥新村"
    result = await services.import_file(SYSTEM, "u.csv", csv_bytes(rows))
    assert (result.created, result.updated, result.unchanged) == (0, 1, len(BASE) - 1)
    assert await OrgUnit.count().where(OrgUnit.name == "石桥新村") == 1
    events = (
        await CustodyEvent.select()
        .where(CustodyEvent.seq > events_before)
        .order_by(CustodyEvent.seq)
    )
    assert [e["action"] for e in events] == ["orgunit.updated", "orgunits.imported"]
    assert json.loads(events[0]["payload"])["previous_name"] == "石桥村"


async def test_rows_may_reference_parents_already_stored(tipline_db: Settings) -> None:
    await _import_base()
    result = await services.import_file(
        SYSTEM, "u.csv", csv_bytes([["610000102204", "新庄村", "村", TOWN_B]])
    )
    assert result.created == 1
    unit = await services.get_unit(await _unit_id("610000102204"))
    assert unit.parent_id == await _unit_id(TOWN_B)


@pytest.mark.parametrize("filename", ["export.csv", "export.xlsx"])
async def test_export_reimports_to_no_change(tipline_db: Settings, filename: str) -> None:
    await _import_base()
    exported = await services.export_file(filename)
    parsed = files.read_file(filename, exported)
    assert parsed.rows[0].code == COUNTY
    assert {(r.code, r.name, r.kind, r.parent_code) for r in parsed.rows} == {
        (code, name, kind, parent) for code, name, kind, parent in BASE
    }
    _, events_before = await _counts()
    result = await services.import_file(SYSTEM, filename, exported)
    assert (result.created, result.updated, result.unchanged) == (0, 0, len(BASE))
    assert await CustodyEvent.count() == events_before


async def test_file_level_refusals(tipline_db: Settings) -> None:
    with pytest.raises(UnsupportedFileType):
        await services.import_file(SYSTEM, "units.xls", b"whatever")
    with pytest.raises(ImportFileError):
        await services.import_file(SYSTEM, "units.xlsx", b"not a zip file")
    with pytest.raises(ImportFileError):
        await services.import_file(SYSTEM, "units.csv", b"\xff\xfe\x00a\x00b")
    with pytest.raises(EmptyFile):
        await services.import_file(SYSTEM, "units.csv", csv_bytes([]))
    with pytest.raises(FileTooLarge):
        await services.import_file(SYSTEM, "units.csv", b"x" * (files.MAX_FILE_BYTES + 1))
    many = [[f"V{i}", "村", "village", TOWN_A] for i in range(files.MAX_ROWS + 1)]
    with pytest.raises(TooManyRows):
        await services.import_file(SYSTEM, "units.csv", csv_bytes(many))
    assert await _counts() == (0, 0)


async def test_township_staff_see_their_township_and_its_villages_only(
    tipline_db: Settings,
) -> None:
    await _import_base()
    town_a, town_b = await _unit_id(TOWN_A), await _unit_id(TOWN_B)
    staff = _user(Role.township_staff, town_a)
    visible = await services.visible_unit_ids(staff)
    own_villages = {await _unit_id(c) for c in ("610000101200", "610000101201", "610000101001")}
    assert visible == {town_a, *own_villages}
    assert {u.id for u in await services.list_visible_units(staff)} == visible
    village = await services.require_visible(staff, await _unit_id("610000101200"))
    assert village.name == "石桥村"
    for other in (town_b, await _unit_id("610000102200"), await _unit_id(COUNTY)):
        with pytest.raises(OutsideYourUnit):
            await services.require_visible(staff, other)
    with pytest.raises(OrgUnitNotFound):
        await services.require_visible(staff, 99999)


@pytest.mark.parametrize("role", [Role.admin, Role.officer, Role.inspector, Role.county_staff])
async def test_county_level_roles_see_every_unit(tipline_db: Settings, role: Role) -> None:
    await _import_base()
    user = _user(role, await _unit_id(COUNTY))
    assert len(await services.visible_unit_ids(user)) == len(BASE)
    units = await services.list_visible_units(user)
    assert units[0].kind is OrgUnitKind.county
    assert (await services.require_visible(user, await _unit_id("610000102200"))).code
