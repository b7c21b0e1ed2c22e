"""Village affairs supervisory committees (村务监督委员会), their members and work reports.

Members point at people of the village register (``villageaffairs.people``) by id
only: that register belongs to another package and keeps the identity data; this
one keeps the name shown on the public page and the post.
"""

from enum import StrEnum

from piccolo.columns import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from tipline.orgunits.tables import OrgUnit


class Forum(StrEnum):
    villagers_meeting = "villagers_meeting"
    representatives_assembly = "representatives_assembly"


class ScPost(StrEnum):
    chair = "chair"
    member = "member"


class CommitteeStatus(StrEnum):
    active = "active"
    superseded = "superseded"  # replaced by a later record (new version with a reason)


class SupervisoryCommittee(Table, tablename="va_supervisory_committee"):
    id: Serial

    village: ForeignKey[OrgUnit] = ForeignKey(OrgUnit, index=True, on_delete=OnDelete.restrict)
    elected_on = Date()
    forum = Varchar(length=32, choices=Forum)
    term_start = Date()
    term_end = Date()
    status = Varchar(length=16, choices=CommitteeStatus, default=CommitteeStatus.active)
    recorded_by = Integer()
    recorded_at = Timestamptz(default=TimestamptzNow())
    report_id = Integer(null=True, default=None)  # the approval-chain report (va_reports)
    version_reason = Text(default="")


class SupervisoryMember(Table, tablename="va_supervisory_member"):
    id: Serial

    committee: ForeignKey[SupervisoryCommittee] = ForeignKey(
        SupervisoryCommittee, index=True, on_delete=OnDelete.cascade
    )
    person_id = Integer(index=True)
    name = Varchar(length=50)
    post = Varchar(length=16, choices=ScPost)
    accounting_knowledge = Boolean(default=False)
    management_knowledge = Boolean(default=False)
    position = Integer(default=0)


class WorkReport(Table, tablename="va_supervisory_work_report"):
    """A periodic work report to the county discipline commission and civil affairs bureau."""

    id: Serial

    committee: ForeignKey[SupervisoryCommittee] = ForeignKey(
        SupervisoryCommittee, index=True, on_delete=OnDelete.cascade
    )
    period = Varchar(length=8)  # "2020-Q3"
    due_on = Date()
    submitted_on = Date()
    to_discipline_commission = Boolean(default=True)
    to_civil_affairs = Boolean(default=True)
    summary = Text(default="")
    recorded_by = Integer()
