"""What the campaign pages, the dashboard, the API and the Excel export show."""

from __future__ import annotations

import datetime as dt

import msgspec

from villageaffairs.campaigns.tables import InstanceStatus, TaskKind


class Progress(msgspec.Struct, frozen=True):
    """One village's progress on one task, as an evaluator derives it from the records."""

    status: InstanceStatus
    done_on: dt.date | None = None


class TaskOut(msgspec.Struct, frozen=True):
    id: int
    campaign_id: int
    code: str
    title: str
    kind: TaskKind
    due_on: dt.date
    approval_levels: int
    all_villages: bool
    legal_basis: str


class CampaignOut(msgspec.Struct, frozen=True):
    id: int
    code: str
    title: str
    year: int
    tasks: list[TaskOut]


class Cell(msgspec.Struct, frozen=True):
    """One task × township: counts and the colour class the dashboard paints it with."""

    task_id: int
    township_id: int
    expected: int
    done: int
    on_time: int
    in_progress: int
    overdue: int
    completeness: float  # done / expected
    timeliness: float  # done on time / expected
    colour: str  # good | warn | bad | pending | none


class TownshipRow(msgspec.Struct, frozen=True):
    township_id: int
    name: str
    code: str
    cells: list[Cell]


class TaskTotal(msgspec.Struct, frozen=True):
    task: TaskOut
    expected: int
    done: int
    on_time: int
    completeness: float
    timeliness: float


class Dashboard(msgspec.Struct, frozen=True):
    campaign: CampaignOut
    today: dt.date
    townships: list[TownshipRow]
    totals: list[TaskTotal]


class VillageProgress(msgspec.Struct, frozen=True):
    village_id: int
    code: str
    name: str
    status: InstanceStatus
    done_on: dt.date | None
    on_time: bool
    days_overdue: int  # days past due (done late: how late; not done: until today)


class DrillDown(msgspec.Struct, frozen=True):
    task: TaskOut
    township_id: int
    township_name: str
    today: dt.date
    villages: list[VillageProgress]


class SweepResult(msgspec.Struct, frozen=True):
    refreshed: int
    reminders: int
    escalations: int
