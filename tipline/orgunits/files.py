"""Reading and writing org-unit tables as .xlsx or .csv.

County offices keep their unit lists in Excel and sometimes save them as CSV from
an older WPS or Excel, which writes GB18030; both encodings are read. Reading is
bounded (file size, row count, columns) so an upload cannot exhaust the server.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from tipline.orgunits.exceptions import (
    EmptyFile,
    FileTooLarge,
    ImportFileError,
    ImportRejected,
    TooManyRows,
    UnsupportedFileType,
)
from tipline.orgunits.schemas import COLUMNS, ImportRow, ParsedFile, Problem

MAX_FILE_BYTES = 5 * 1024 * 1024
# A county has a few hundred units. Each created unit appends one custody event (~6 ms on
# SQLite here), so 5,000 rows import in about 30 s, within a proxy's usual timeout.
MAX_ROWS = 5_000
MAX_COLUMNS = 50
FILE_TYPES = (".xlsx", ".csv")

# Header spellings accepted for each column (compared after strip + lower-case).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("code", "代码", "编码", "区划代码", "统计用区划代码", "单位代码"),
    "name": ("name", "名称", "单位名称"),
    "kind": ("kind", "类型", "类别", "层级"),
    "parent_code": ("parent_code", "parent", "上级代码", "上级编码", "上级区划代码"),
}
_HEADER_LOOKUP = {alias: column for column, aliases in HEADER_ALIASES.items() for alias in aliases}


def file_type(filename: str) -> str:
    """``.xlsx`` or ``.csv`` from the file name, or :class:`UnsupportedFileType`."""
    lowered = filename.lower()
    for suffix in FILE_TYPES:
        if lowered.endswith(suffix):
            return suffix
    raise UnsupportedFileType(filename=filename)


def _cell_text(value: Any) -> str:
    """A cell as the text a person sees: 12-digit codes typed as numbers stay digits."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:
        raise ImportFileError() from error
    try:
        if not workbook.worksheets:
            raise EmptyFile()
        sheet = workbook.worksheets[0]
        try:
            for number, values in enumerate(
                sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1
            ):
                yield number, [_cell_text(value) for value in values]
        except ImportFileError:
            raise
        except Exception as error:
            raise ImportFileError() from error
    finally:
        workbook.close()


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError()


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    text = _decode(data)
    if "\x00" in text:
        raise ImportFileError()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for values in reader:
            yield reader.line_num, [cell.strip() for cell in values[:MAX_COLUMNS]]
    except csv.Error as error:
        raise ImportFileError() from error


def _header_map(
    row_number: int, cells: list[str]
) -> tuple[dict[str, int], dict[str, str], list[Problem]]:
    """Which column index holds which field, the header as written, and header problems."""
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    problems: list[Problem] = []
    for index, cell in enumerate(cells):
        column = _HEADER_LOOKUP.get(cell.strip().lower())
        if column is None:
            continue
        if column in positions:
            problems.append(Problem(row_number, cell, "orgunits.problem.duplicate_column"))
            continue
        positions[column] = index
        headers[column] = cell
    for column in COLUMNS:
        if column not in positions:
            problems.append(Problem(row_number, column, "orgunits.problem.missing_column"))
    return positions, headers, problems


def parse_rows(numbered: Iterable[tuple[int, list[str]]], digest: str) -> ParsedFile:
    """The data rows under the first non-blank row (the header); blank rows are skipped."""
    rows: list[ImportRow] = []
    positions: dict[str, int] | None = None
    headers: dict[str, str] = {}
    for number, cells in numbered:
        if not any(cells):
            continue
        if positions is None:
            positions, headers, problems = _header_map(number, cells)
            if problems:
                raise ImportRejected(problems)
            continue
        if len(rows) >= MAX_ROWS:
            raise TooManyRows(max_rows=MAX_ROWS)

        values = {
            column: cells[index] if index < len(cells) else ""
            for column, index in positions.items()
        }
        rows.append(ImportRow(row=number, **values))
    if not rows:
        raise EmptyFile()
    return ParsedFile(rows=rows, headers=headers, sha256=digest)


def read_file(filename: str, data: bytes) -> ParsedFile:
    """Parse an uploaded or local file; refuses unreadable, oversized or empty files."""
    suffix = file_type(filename)
    if len(data) > MAX_FILE_BYTES:
        raise FileTooLarge(max_mb=MAX_FILE_BYTES // (1024 * 1024))
    digest = hashlib.sha256(data).hexdigest()
    numbered = _xlsx_rows(data) if suffix == ".xlsx" else _csv_rows(data)
    return parse_rows(numbered, digest)


def write_file(filename: str, rows: Sequence[ImportRow]) -> bytes:
    """The rows with the import header, as .xlsx or .csv (UTF-8 with BOM, as Excel expects)."""
    table = [list(COLUMNS)] + [[r.code, r.name, r.kind, r.parent_code] for r in rows]
    if file_type(filename) == ".csv":
        buffer = io.StringIO(newline="")
        csv.writer(buffer, lineterminator="\r\n").writerows(table)
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("org_units")
    for values in table:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"  # text, never a formula, even for a name starting with "="
            cells.append(cell)
        sheet.append(cells)
    buffer_bytes = io.BytesIO()
    workbook.save(buffer_bytes)
    return buffer_bytes.getvalue()
