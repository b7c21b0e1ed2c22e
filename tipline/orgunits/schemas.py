"""What the org-unit hierarchy looks like to pages, the API and the importer."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.datastructures import UploadFile

from tipline.orgunits.tables import OrgUnitKind

COLUMNS = ("code", "name", "kind", "parent_code")


class OrgUnitOut(msgspec.Struct, frozen=True):
    id: int
    code: str
    name: str
    kind: OrgUnitKind
    parent_id: int | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> OrgUnitOut:
        return cls(
            id=row["id"],
            code=row["code"],
            name=row["name"],
            kind=OrgUnitKind(row["kind"]),
            parent_id=row["parent"],
        )


class TownshipSummary(msgspec.Struct, frozen=True):
    unit: OrgUnitOut
    villages: int
    communities: int


class OrgTree(msgspec.Struct, frozen=True):
    """The county and its townships with how many villages and communities each has."""

    county: OrgUnitOut | None
    townships: list[TownshipSummary]


class UnitDetail(msgspec.Struct, frozen=True):
    unit: OrgUnitOut
    parent: OrgUnitOut | None
    children: list[OrgUnitOut]


class ImportRow(msgspec.Struct, frozen=True):
    """One data row of an import file, cells as text; ``row`` is the spreadsheet's row number."""

    row: int
    code: str
    name: str
    kind: str
    parent_code: str = ""


class ParsedFile(msgspec.Struct, frozen=True):
    """The rows of a file and the header each column had in it (for messages)."""

    rows: list[ImportRow]
    headers: dict[str, str]
    sha256: str


class Problem(msgspec.Struct, frozen=True):
    """Why one cell is refused: ``reason`` is a message key, ``values`` fill it in."""

    row: int
    column: str
    reason: str
    values: dict[str, str | int] = {}


class ImportResult(msgspec.Struct, frozen=True):
    created: int
    updated: int
    unchanged: int


class UploadForm(msgspec.Struct):
    """The import form (multipart): the spreadsheet."""

    file: UploadFile
