"""What the campaign pages, the dashboard, the API and the Excel export show."""

from __future__ import annotations

import datetime as dt

import msgspec

from villageaffairs.campaigns.exceptions import BadCampaignForm
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


class TaskIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    code: str
    title: str
    kind: TaskKind
    due_on: dt.date
    approval_levels: int = 2
    village_codes: list[str] | None = None  # None: every village and community
    legal_basis: str = ""


class CampaignIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``POST /api/v1/villageaffairs/campaigns``: a campaign with its tasks."""

    code: str
    title: str
    year: int
    tasks: list[TaskIn]


TASK_ROWS = 6  # task rows on the page's form


def _int(value: str, field: str) -> int:
    text = value.strip()
    if not text.lstrip("-").isdigit():
        raise BadCampaignForm(field=field)
    return int(text)


class CampaignForm(msgspec.Struct, frozen=True):
    """A campaign as the page's form posts it: one row per task (``title_N``, ``code_N``,
    ``kind_N``, ``due_N``, ``levels_N``, ``villages_N``, N from 1 to :data:`TASK_ROWS`);
    a row without a title is skipped. Everything text, so a refused form is shown back
    as typed."""

    code: str = ""
    title: str = ""
    year: str = ""
    title_1: str = ""
    code_1: str = ""
    kind_1: str = ""
    due_1: str = ""
    levels_1: str = "2"
    villages_1: str = ""
    title_2: str = ""
    code_2: str = ""
    kind_2: str = ""
    due_2: str = ""
    levels_2: str = "2"
    villages_2: str = ""
    title_3: str = ""
    code_3: str = ""
    kind_3: str = ""
    due_3: str = ""
    levels_3: str = "2"
    villages_3: str = ""
    title_4: str = ""
    code_4: str = ""
    kind_4: str = ""
    due_4: str = ""
    levels_4: str = "2"
    villages_4: str = ""
    title_5: str = ""
    code_5: str = ""
    kind_5: str = ""
    due_5: str = ""
    levels_5: str = "2"
    villages_5: str = ""
    title_6: str = ""
    code_6: str = ""
    kind_6: str = ""
    due_6: str = ""
    levels_6: str = "2"
    villages_6: str = ""

    def to_input(self) -> CampaignIn:
        tasks = []
        for row in range(1, TASK_ROWS + 1):
            title = getattr(self, f"title_{row}").strip()
            if not title:
                continue
            kind = getattr(self, f"kind_{row}")
            if kind not in tuple(TaskKind):
                raise BadCampaignForm(field=f"kind_{row}")
            try:
                due_on = dt.date.fromisoformat(getattr(self, f"due_{row}"))
            except ValueError:
                raise BadCampaignForm(field=f"due_{row}") from None
            codes = getattr(self, f"villages_{row}").replace(",", " ").split()
            tasks.append(
                TaskIn(
                    code=getattr(self, f"code_{row}").strip() or f"t{row}",
                    title=title,
                    kind=TaskKind(kind),
                    due_on=due_on,
                    approval_levels=_int(getattr(self, f"levels_{row}") or "2", f"levels_{row}"),
                    village_codes=codes or None,
                )
            )
        return CampaignIn(
            code=self.code, title=self.title, year=_int(self.year or "0", "year"), tasks=tasks
        )
