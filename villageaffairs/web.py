"""What the village-affairs pages share: the guard, how a failed legal
check is spelled out in a refusal (registered with ``tipline.web.refusals``, which answers
every refusal), Excel downloads."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from litestar import Request, Response
from openpyxl import Workbook
from openpyxl.styles import Font

from tipline.auth import Role, requires
from tipline.web.refusals import register_details
from villageaffairs.legal import RulesViolated, failures_out

AnyRequest = Request[Any, Any, Any]
VILLAGE_STAFF = requires(Role.township_staff, Role.county_staff, Role.admin)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _rules_lines(exc: RulesViolated, locale: str) -> list[str]:
    return exc.messages(locale)


def _rules_json(exc: RulesViolated, locale: str) -> dict[str, Any]:
    return {
        "failures": [
            {
                "rule": f.rule,
                "message": f.message,
                "law": f.law,
                "version": f.version,
                "article": f.article,
            }
            for f in failures_out(exc.failures, locale)
        ]
    }


# A failed legal check lists each rule with its article: on the refused form's page
# (``problems``), on the error page, and in the API's refusal (``failures``).
register_details(RulesViolated, _rules_lines, _rules_json)


def workbook(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """One sheet with a bold header row; dates stay dates."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
    for column in sheet.columns:
        width = max(len(str(c.value or "")) for c in column)
        sheet.column_dimensions[column[0].column_letter].width = min(40, max(8, width * 2))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx_response(filename: str, content: bytes) -> Response[bytes]:
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
