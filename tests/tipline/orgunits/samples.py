"""Small org-unit files for the tests, built in memory."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook

HEADER = ["code", "name", "kind", "parent_code"]
CHINESE_HEADER = ["代码", "名称", "类型", "上级代码"]

COUNTY = "610000000000"
TOWN_A = "610000101000"
TOWN_B = "610000102000"
FARM = "610000400000"

BASE: list[list[str]] = [
    [COUNTY, "示范县", "county", ""],
    [TOWN_A, "青山镇", "township", COUNTY],
    [TOWN_B, "柳河乡", "township", COUNTY],
    [FARM, "红旗农场", "farm", COUNTY],
    ["610000101200", "石桥村", "village", TOWN_A],
    ["610000101201", "王庄村", "village", TOWN_A],
    ["610000101001", "东街社区", "community", TOWN_A],
    ["610000102200", "柳湾村", "village", TOWN_B],
    ["610000400200", "一分场村", "village", FARM],
]


def csv_bytes(
    rows: Sequence[Sequence[object]], header: Sequence[str] = HEADER, encoding: str = "utf-8"
) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: Sequence[Sequence[object]], header: Sequence[str] = HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
