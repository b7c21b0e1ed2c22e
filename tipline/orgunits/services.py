"""The county -> township -> village hierarchy: reading it, who sees what, importing it.

The hierarchy follows the statistical division codes (统计用区划代码): one county,
its townships (乡, 镇, 街道; a state farm 农场 counts as a township), and under
each township its villages (村民委员会) and urban residents' communities (居民委员会,
中华人民共和国城市居民委员会组织法). Each unit has a unique administrative code.

A township's staff see their own township and its villages only; county-level
roles see everything. Other packages call :func:`visible_unit_ids` and
:func:`require_visible` so that rule is enforced on the server in one place.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from tipline import db
from tipline.auth import CurrentUser
from tipline.ledger.services import Actor, append_event
from tipline.orgunits.exceptions import ImportRejected, OrgUnitNotFound, OutsideYourUnit
from tipline.orgunits.files import read_file
from tipline.orgunits.schemas import (
    ImportResult,
    ImportRow,
    OrgTree,
    OrgUnitOut,
    ParsedFile,
    Problem,
    TownshipSummary,
    UnitDetail,
)
from tipline.orgunits.tables import TOWNSHIP_KINDS, VILLAGE_KINDS, OrgUnit, OrgUnitKind

CODE_PATTERN = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,31}")
MAX_NAME_LENGTH = 100
# A lock key of our own for PostgreSQL, so two imports run one after the other.
_IMPORT_LOCK_KEY = 0x6F7267756E6974
_INSERT_BATCH = 500

# Kind spellings accepted in import files, English and Chinese.
KIND_ALIASES: dict[str, OrgUnitKind] = {
    "county": OrgUnitKind.county,
    "县": OrgUnitKind.county,
    "township": OrgUnitKind.township,
    "乡": OrgUnitKind.township,
    "镇": OrgUnitKind.township,
    "乡镇": OrgUnitKind.township,
    "街道": OrgUnitKind.township,
    "farm": OrgUnitKind.farm,
    "场": OrgUnitKind.farm,
    "农场": OrgUnitKind.farm,
    "林场": OrgUnitKind.farm,
    "village": OrgUnitKind.village,
    "村": OrgUnitKind.village,
    "行政村": OrgUnitKind.village,
    "村委会": OrgUnitKind.village,
    "community": OrgUnitKind.community,
    "社区": OrgUnitKind.community,
    "居": OrgUnitKind.community,
    "居委会": OrgUnitKind.community,
}

_LEVEL = {
    OrgUnitKind.county: 0,
    OrgUnitKind.township: 1,
    OrgUnitKind.farm: 1,
    OrgUnitKind.village: 2,
    OrgUnitKind.community: 2,
}


def parse_kind(text: str) -> OrgUnitKind | None:
    return KIND_ALIASES.get(text.strip().lower())


# --- reading the hierarchy -------------------------------------------------------------


async def get_unit(unit_id: int) -> OrgUnitOut:
    row = await OrgUnit.select().where(OrgUnit.id == unit_id).first()
    if row is None:
        raise OrgUnitNotFound(unit_id=unit_id)
    return OrgUnitOut.from_row(row)


async def get_county() -> OrgUnitOut | None:
    row = await OrgUnit.select().where(OrgUnit.kind == OrgUnitKind.county.value).first()
    return OrgUnitOut.from_row(row) if row else None


async def children_of(unit_id: int) -> list[OrgUnitOut]:
    rows = await OrgUnit.select().where(OrgUnit.parent == unit_id).order_by(OrgUnit.code)
    return [OrgUnitOut.from_row(row) for row in rows]


async def county_tree() -> OrgTree:
    """The county and each township with its number of villages and of communities."""
    county = await get_county()
    rows = await OrgUnit.select().order_by(OrgUnit.code)
    counts: dict[int, dict[str, int]] = {}
    for row in rows:
        if row["kind"] in VILLAGE_KINDS and row["parent"] is not None:
            per_kind = counts.setdefault(row["parent"], {})
            per_kind[row["kind"]] = per_kind.get(row["kind"], 0) + 1
    townships = [
        TownshipSummary(
            unit=OrgUnitOut.from_row(row),
            villages=counts.get(row["id"], {}).get(OrgUnitKind.village.value, 0),
            communities=counts.get(row["id"], {}).get(OrgUnitKind.community.value, 0),
        )
        for row in rows
        if row["kind"] in TOWNSHIP_KINDS
    ]
    return OrgTree(county=county, townships=townships)


async def visible_unit_ids(user: CurrentUser) -> frozenset[int]:
    """The units ``user`` may see: all for county-level roles, else their unit and its children."""
    if user.is_county_level:
        rows = await OrgUnit.select(OrgUnit.id)
        return frozenset(row["id"] for row in rows)
    rows = await OrgUnit.select(OrgUnit.id).where(OrgUnit.parent == user.org_unit_id)
    return frozenset({user.org_unit_id, *(row["id"] for row in rows)})


async def require_visible(user: CurrentUser, unit_id: int) -> OrgUnitOut:
    """The unit, if ``user`` may see it; :class:`OutsideYourUnit` (403) if not, 404 if none."""
    unit = await get_unit(unit_id)
    if user.is_county_level or unit.id == user.org_unit_id:
        return unit
    if unit.parent_id == user.org_unit_id:
        return unit
    raise OutsideYourUnit(unit_id=unit_id)


async def list_visible_units(user: CurrentUser) -> list[OrgUnitOut]:
    """Every unit ``user`` may see, ordered by code (the county first)."""
    query = OrgUnit.select().order_by(OrgUnit.code)
    if not user.is_county_level:
        query = query.where((OrgUnit.id == user.org_unit_id) | (OrgUnit.parent == user.org_unit_id))
    rows = await query
    return sorted(
        (OrgUnitOut.from_row(row) for row in rows), key=lambda u: (_LEVEL[u.kind], u.code)
    )


async def unit_detail(user: CurrentUser, unit_id: int) -> UnitDetail:
    """One unit with its parent and children (a township's villages)."""
    unit = await require_visible(user, unit_id)
    parent = await get_unit(unit.parent_id) if unit.parent_id is not None else None
    return UnitDetail(unit=unit, parent=parent, children=await children_of(unit.id))


# --- import ---------------------------------------------------------------------------


def _text_problem(value: str) -> str | None:
    """Why a name cannot be stored as is, if so.

    A leading ``= + - @`` would run as a formula when the export is opened in a
    spreadsheet (OWASP: CSV injection); control characters corrupt both formats.
    """
    if value[:1] in ("=", "+", "-", "@"):
        return "orgunits.problem.formula_text"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return "orgunits.problem.control_text"
    return None


def validate_rows(
    rows: Sequence[ImportRow],
    existing: dict[str, dict[str, Any]],
    headers: dict[str, str] | None = None,
) -> list[Problem]:
    """Every problem of every row against the file itself and the units already stored.

    ``existing`` maps code -> stored unit (with its ``kind`` and ``parent_code``).
    Rules: exactly one county, without a parent; a township's or farm's parent is the
    county; a village's or community's parent is a township or farm; codes are unique;
    an existing unit keeps its kind and parent (only its name may change).
    """
    headers = headers or {}

    def column(name: str) -> str:
        return headers.get(name, name)

    problems: list[Problem] = []

    def report(row: ImportRow, field: str, reason: str, **values: str | int) -> None:
        problems.append(Problem(row.row, column(field), reason, dict(values)))

    first_row: dict[str, int] = {}
    file_kinds: dict[str, OrgUnitKind] = {}
    kinds: dict[int, OrgUnitKind] = {}
    for row in rows:
        code_ok = False
        if not row.code:
            report(row, "code", "orgunits.problem.required")
        elif not CODE_PATTERN.fullmatch(row.code):
            report(row, "code", "orgunits.problem.bad_code", max=32)
        elif row.code in first_row:
            report(row, "code", "orgunits.problem.duplicate_code", first_row=first_row[row.code])
        else:
            first_row[row.code] = row.row
            code_ok = True
        if not row.name:
            report(row, "name", "orgunits.problem.required")
        elif len(row.name) > MAX_NAME_LENGTH:
            report(row, "name", "orgunits.problem.too_long", max=MAX_NAME_LENGTH)
        elif reason := _text_problem(row.name):
            report(row, "name", reason)
        kind = parse_kind(row.kind)
        if not row.kind:
            report(row, "kind", "orgunits.problem.required")
        elif kind is None:
            report(row, "kind", "orgunits.problem.unknown_kind", value=row.kind[:40])
        else:
            kinds[row.row] = kind
            if code_ok:
                file_kinds[row.code] = kind

    stored_county = next(
        (code for code, unit in existing.items() if unit["kind"] == OrgUnitKind.county), None
    )
    county_in_file: str | None = None
    for row in rows:
        kind = kinds.get(row.row)
        if kind is None:
            continue
        if kind is OrgUnitKind.county:
            if row.parent_code:
                report(row, "parent_code", "orgunits.problem.county_has_parent")
            if stored_county is not None and stored_county != row.code:
                report(row, "kind", "orgunits.problem.second_county", existing=stored_county)
            elif county_in_file is not None and county_in_file != row.code:
                report(row, "kind", "orgunits.problem.second_county", existing=county_in_file)
            else:
                county_in_file = row.code
        elif not row.parent_code:
            report(row, "parent_code", "orgunits.problem.required")
        else:
            parent_kind = file_kinds.get(row.parent_code)
            if parent_kind is None and row.parent_code in existing:
                parent_kind = OrgUnitKind(existing[row.parent_code]["kind"])
            if parent_kind is None:
                report(
                    row,
                    "parent_code",
                    "orgunits.problem.parent_not_found",
                    parent_code=row.parent_code[:40],
                )
            elif kind in TOWNSHIP_KINDS and parent_kind is not OrgUnitKind.county:
                report(
                    row,
                    "parent_code",
                    "orgunits.problem.township_parent",
                    parent_code=row.parent_code,
                )
            elif kind in VILLAGE_KINDS and parent_kind not in TOWNSHIP_KINDS:
                report(
                    row,
                    "parent_code",
                    "orgunits.problem.village_parent",
                    parent_code=row.parent_code,
                )
        stored = existing.get(row.code)
        if stored is not None and first_row.get(row.code) == row.row:
            if stored["kind"] != kind.value:
                report(row, "kind", "orgunits.problem.kind_changed", existing=stored["kind"])
            elif (stored["parent_code"] or "") != row.parent_code:
                report(
                    row,
                    "parent_code",
                    "orgunits.problem.parent_changed",
                    existing=stored["parent_code"] or "-",
                )
    problems.sort(key=lambda p: p.row)
    return problems


async def _lock_for_import() -> None:
    """PostgreSQL: one import at a time (SQLite's immediate transaction already is).

    Hand-written: an advisory lock, which Piccolo's builder cannot say.
    """
    if db.is_postgres():
        await db.fetch(OrgUnit, "SELECT pg_advisory_xact_lock({})", _IMPORT_LOCK_KEY)


async def _stored_units() -> dict[str, dict[str, Any]]:
    rows = await OrgUnit.select(
        OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.kind, OrgUnit.parent.code
    )
    return {
        row["code"]: {
            "id": row["id"],
            "name": row["name"],
            "kind": row["kind"],
            "parent_code": row["parent.code"],
        }
        for row in rows
    }


async def _insert_units(rows: list[tuple[ImportRow, OrgUnitKind]], ids: dict[str, int]) -> None:
    """Insert new units of one level in batches and record their ids in ``ids``."""
    for start in range(0, len(rows), _INSERT_BATCH):
        batch = rows[start : start + _INSERT_BATCH]
        await OrgUnit.insert(
            *(
                OrgUnit(
                    code=row.code,
                    name=row.name,
                    kind=kind.value,
                    parent=ids[row.parent_code] if row.parent_code else None,
                )
                for row, kind in batch
            )
        )
        inserted = await OrgUnit.select(OrgUnit.id, OrgUnit.code).where(
            OrgUnit.code.is_in([row.code for row, _ in batch])
        )
        ids.update({unit["code"]: unit["id"] for unit in inserted})


async def import_org_units(
    actor: Actor, rows: Sequence[ImportRow] | ParsedFile, *, source: str = "file"
) -> ImportResult:
    """Create or rename units from a table, all or nothing.

    Every row is validated first (against the file and the stored units) and every
    problem is reported at once in :class:`ImportRejected`; then every change is
    written in one transaction. A row equal to its stored unit changes nothing and
    records nothing, so re-importing a file is harmless. Each created or renamed unit
    gets its custody event (``orgunit.created`` / ``orgunit.updated``), and an import
    that changed anything one ``orgunits.imported`` summary event.
    """
    parsed = rows if isinstance(rows, ParsedFile) else ParsedFile(list(rows), {}, "")
    async with db.write_transaction():
        await _lock_for_import()
        existing = await _stored_units()
        problems = validate_rows(parsed.rows, existing, parsed.headers)
        if problems:
            raise ImportRejected(problems)
        created = updated = unchanged = 0
        ids = {code: unit["id"] for code, unit in existing.items()}
        for level in (0, 1, 2):
            rows_of_level = [
                (row, KIND_ALIASES[row.kind.strip().lower()])
                for row in parsed.rows
                if _LEVEL[KIND_ALIASES[row.kind.strip().lower()]] == level
            ]
            new_rows = [(row, kind) for row, kind in rows_of_level if row.code not in existing]
            await _insert_units(new_rows, ids)
            for row, kind in rows_of_level:
                payload = {"code": row.code, "kind": kind.value, "name": row.name}
                stored = existing.get(row.code)
                if stored is None:
                    await append_event(actor, "orgunit.created", "org_unit", ids[row.code], payload)
                    created += 1
                elif stored["name"] != row.name:
                    await OrgUnit.update({OrgUnit.name: row.name}).where(OrgUnit.id == stored["id"])
                    await append_event(
                        actor,
                        "orgunit.updated",
                        "org_unit",
                        stored["id"],
                        {**payload, "previous_name": stored["name"]},
                    )
                    updated += 1
                else:
                    unchanged += 1
        if created or updated:
            await append_event(
                actor,
                "orgunits.imported",
                "org_unit_import",
                parsed.sha256[:16] or "rows",
                {
                    "source": source,
                    "sha256": parsed.sha256 or None,
                    "rows": len(parsed.rows),
                    "created": created,
                    "updated": updated,
                    "unchanged": unchanged,
                },
            )
    return ImportResult(created=created, updated=updated, unchanged=unchanged)


async def import_file(
    actor: Actor, filename: str, data: bytes, *, source: str = "file"
) -> ImportResult:
    """Read an .xlsx or .csv file and import it (see :func:`import_org_units`)."""
    return await import_org_units(actor, read_file(filename, data), source=source)


# --- export ---------------------------------------------------------------------------


async def export_rows() -> list[ImportRow]:
    """Every unit as an import row: the county, then each township followed by its villages."""
    rows = await OrgUnit.select(
        OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.kind, OrgUnit.parent, OrgUnit.parent.code
    ).order_by(OrgUnit.code)
    by_parent: dict[int | None, list[dict[str, Any]]] = {}
    for row in rows:
        by_parent.setdefault(row["parent"], []).append(row)
    ordered: list[dict[str, Any]] = []

    def walk(parent: int | None) -> None:
        for row in by_parent.get(parent, []):
            ordered.append(row)
            walk(row["id"])

    walk(None)
    return [
        ImportRow(
            row=number,
            code=row["code"],
            name=row["name"],
            kind=row["kind"],
            parent_code=row["parent.code"] or "",
        )
        for number, row in enumerate(ordered, start=2)
    ]


async def export_file(filename: str) -> bytes:
    """All units as .xlsx or .csv (by the name's extension), re-importable as is."""
    from tipline.orgunits.files import write_file

    return write_file(filename, await export_rows())
