"""What a report looks like to pages, the API and other packages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from villageaffairs.reports.tables import ReportStatus


class ReportOut(msgspec.Struct, frozen=True):
    id: int
    kind: str
    village_id: int
    subject_id: int
    version: int
    status: ReportStatus
    reason: str
    created_by: int
    created_at: dt.datetime
    updated_at: dt.datetime
    submitted_at: dt.datetime | None
    approved_at: dt.datetime | None
    approved_by: int | None
    accepted_at: dt.datetime | None
    accepted_by: int | None
    returned_at: dt.datetime | None
    supersedes_id: int | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ReportOut:
        return cls(
            id=row["id"],
            kind=row["kind"],
            village_id=row["village"],
            subject_id=row["subject_id"],
            version=row["version"],
            status=ReportStatus(row["status"]),
            reason=row["reason"],
            created_by=row["created_by"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            submitted_at=row["submitted_at"],
            approved_at=row["approved_at"],
            approved_by=row["approved_by"],
            accepted_at=row["accepted_at"],
            accepted_by=row["accepted_by"],
            returned_at=row["returned_at"],
            supersedes_id=row["supersedes"],
        )

    @property
    def locked(self) -> bool:
        return self.status in (
            ReportStatus.submitted,
            ReportStatus.township_approved,
            ReportStatus.accepted,
        )


class ReportView(msgspec.Struct, frozen=True):
    """A report with the steps the viewing account may take on it now (for the status block)."""

    report: ReportOut
    actions: list[str]
    village_name: str = ""


class ReasonIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: str


class NewReportIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: str
    village_id: int
    subject_id: int


# The step buttons' forms (posted from the subject's page, which names where to go back).


class StepForm(msgspec.Struct, frozen=True):
    reason: str = ""
    next: str = ""

    def body(self) -> ReasonIn:
        return ReasonIn(reason=self.reason)


class NewReportForm(msgspec.Struct, frozen=True):
    kind: str = ""
    village_id: int = 0
    subject_id: int = 0
    next: str = ""

    def body(self) -> NewReportIn:
        return NewReportIn(kind=self.kind, village_id=self.village_id, subject_id=self.subject_id)
