"""Campaigns, their tasks, and each village's task status as derived from the records.

A :class:`TaskInstance` row is never typed in: :mod:`villageaffairs.campaigns.services`
recomputes it from the domain records (a supervisory committee accepted by the county,
village rules published, ...) whenever such a record changes and on every scheduler
sweep. It is a cache of a derivation, kept so the county dashboard is one
``GROUP BY`` instead of a walk through every register.
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


class TaskKind(StrEnum):
    """Which domain record completes a village's task (one evaluator per kind)."""

    village_rules = "village_rules"
    supervisory_committee = "supervisory_committee"
    by_election = "by_election"
    notice_board = "notice_board"


class InstanceStatus(StrEnum):
    missing = "missing"  # nothing recorded yet
    in_progress = "in_progress"  # recorded, not yet approved at the level the task needs
    returned = "returned"  # sent back by a reviewer
    done = "done"


class ReminderStep(StrEnum):
    """D-7, D-1 and D+1 remind the township; D+3 escalates to the county."""

    before_7 = "D-7"
    before_1 = "D-1"
    after_1 = "D+1"
    escalate_3 = "D+3"


class Campaign(Table, tablename="va_campaign"):
    id: Serial

    code = Varchar(length=32, unique=True)
    title = Varchar(length=200)
    year = Integer()
    created_at = Timestamptz(default=TimestamptzNow())


class CampaignTask(Table, tablename="va_campaign_task"):
    """One obligation of a campaign with its due date.

    ``approval_levels``: 0 = recorded is enough, 1 = the township approved it,
    2 = the county accepted it (the done date is the date of that last step).
    ``all_villages`` False means only the villages listed in :class:`TaskVillage`.
    """

    id: Serial

    campaign: ForeignKey[Campaign] = ForeignKey(Campaign, index=True, on_delete=OnDelete.cascade)
    code = Varchar(length=32)
    title = Varchar(length=200)
    kind = Varchar(length=32, choices=TaskKind)
    due_on = Date()
    approval_levels = Integer(default=2)
    all_villages = Boolean(default=True)
    position = Integer(default=0)
    legal_basis = Text(default="")


class TaskVillage(Table, tablename="va_task_village"):
    """A village a task applies to (when the task does not apply to every village)."""

    id: Serial

    task: ForeignKey[CampaignTask] = ForeignKey(
        CampaignTask, index=True, on_delete=OnDelete.cascade
    )
    village: ForeignKey[OrgUnit] = ForeignKey(OrgUnit, index=True, on_delete=OnDelete.restrict)


class TaskInstance(Table, tablename="va_task_instance"):
    """A village's status for one task, derived from the records (never hand-ticked)."""

    id: Serial

    task: ForeignKey[CampaignTask] = ForeignKey(
        CampaignTask, index=True, on_delete=OnDelete.cascade
    )
    village: ForeignKey[OrgUnit] = ForeignKey(OrgUnit, index=True, on_delete=OnDelete.restrict)
    key = Varchar(length=40, unique=True)  # "<task id>:<village id>": one row per pair
    township_id = Integer(index=True)
    status = Varchar(length=16, choices=InstanceStatus, default=InstanceStatus.missing)
    done_on = Date(null=True, default=None)
    on_time = Boolean(default=False)
    refreshed_at = Timestamptz(default=TimestamptzNow())


class TaskReminder(Table, tablename="va_task_reminder"):
    """A reminder or escalation sent for one task and township; one row per step, ever."""

    id: Serial

    task: ForeignKey[CampaignTask] = ForeignKey(
        CampaignTask, index=True, on_delete=OnDelete.cascade
    )
    township_id = Integer(index=True)
    key = Varchar(length=48, unique=True)  # "<task id>:<township id>:<step>": sent once
    step = Varchar(length=8, choices=ReminderStep)
    sent_on = Date()
    open_villages = Integer(default=0)


class TaskSummary(Table, tablename="va_task_summary"):
    """Counts of one task in one township, rewritten with its instances: the dashboard
    reads these (tasks × townships rows) instead of grouping every village each time."""

    id: Serial

    task: ForeignKey[CampaignTask] = ForeignKey(
        CampaignTask, index=True, on_delete=OnDelete.cascade
    )
    township_id = Integer(index=True)
    key = Varchar(length=40, unique=True)  # "<task id>:<township id>"
    expected = Integer(default=0)
    done = Integer(default=0)
    on_time = Integer(default=0)
    in_progress = Integer(default=0)
