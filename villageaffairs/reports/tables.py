"""The approval chain's one table: a village's report on one domain record.

Every village-affairs process (a by-election, a look-back review, an appraisal, a
supervisory committee, village rules, ...) files its result upward as a
``VillageReport``: township staff enter it, the township approves it, the county
accepts it. An accepted report locks its subject; a correction is a new version
(``supersedes`` the accepted one) with a reason, never an edit in place.
"""

from enum import StrEnum

from piccolo.columns import ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from tipline.orgunits.tables import OrgUnit


class ReportStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    township_approved = "township_approved"
    accepted = "accepted"
    returned = "returned"


# While a report is in one of these, its subject may not change.
LOCKED_STATUSES = frozenset(
    {ReportStatus.submitted, ReportStatus.township_approved, ReportStatus.accepted}
)


class VillageReport(Table, tablename="va_village_report"):
    """One version of one report; ``(kind, subject_id, version)`` is unique."""

    id: Serial

    kind = Varchar(length=40, index=True)
    village: ForeignKey[OrgUnit] = ForeignKey(OrgUnit, index=True, on_delete=OnDelete.restrict)
    subject_id = Integer(index=True)
    version = Integer(default=1)
    status = Varchar(length=20, default=ReportStatus.draft.value, index=True)
    reason = Text(default="")
    created_by = Integer()
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    submitted_at = Timestamptz(null=True, default=None)
    approved_at = Timestamptz(null=True, default=None)
    approved_by = Integer(null=True, default=None)
    accepted_at = Timestamptz(null=True, default=None)
    accepted_by = Integer(null=True, default=None)
    returned_at = Timestamptz(null=True, default=None)
    supersedes: ForeignKey["VillageReport"] = ForeignKey(
        "self", null=True, default=None, on_delete=OnDelete.restrict
    )
