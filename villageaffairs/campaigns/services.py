"""Campaigns and their tasks, DHIS2-style: expected villages, derived status, timeliness.

A task applies to a set of villages (all, or a list) and is due on a date. Each
village's status comes from the domain records (:mod:`villageaffairs.campaigns.evaluators`),
is cached in :class:`TaskInstance` by :func:`refresh_task` / :func:`refresh_for` (run by
the domain services' hooks inside their own write transactions, see
:func:`_install_hooks`) and by the scheduler's sweep, and is never set by hand.
Completeness is the share of expected villages done, timeliness the share done by the
due date (DHIS2's reporting rate and reporting rate
on time). Reminders go to township staff at D-7, D-1 and D+1, and the county is told
at D+3, each once per task and township (docs/ARCHITECTURE.md principle 5: the sweep is idempotent).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
from piccolo.query.functions.aggregate import Count

from tipline import db
from tipline.auth import CurrentUser, Role
from tipline.ledger.services import Actor, append_event
from tipline.orgunits.tables import TOWNSHIP_KINDS, VILLAGE_KINDS, OrgUnit
from tipline.workdays.services import today_local
from villageaffairs.campaigns.evaluators import EVALUATORS
from villageaffairs.campaigns.exceptions import (
    BadTask,
    CampaignExists,
    CampaignNotFound,
    NotYourTownship,
    TaskNotFound,
    UnknownVillages,
)
from villageaffairs.campaigns.schemas import (
    CampaignOut,
    Cell,
    Dashboard,
    DrillDown,
    Progress,
    SweepResult,
    TaskOut,
    TaskTotal,
    TownshipRow,
    VillageProgress,
)
from villageaffairs.campaigns.tables import (
    Campaign,
    CampaignTask,
    InstanceStatus,
    ReminderStep,
    TaskInstance,
    TaskKind,
    TaskReminder,
    TaskSummary,
    TaskVillage,
)

GOOD_SHARE = 0.9
WARN_SHARE = 0.5
REMINDER_HORIZON_DAYS = 30
"""No reminder or escalation more than this many days after the due date: a sweep
that first runs long after a campaign ended must not flood the inboxes."""

# (step, first day of its window, first day after it), in days from the due date.
REMINDER_WINDOWS: tuple[tuple[ReminderStep, int, int], ...] = (
    (ReminderStep.before_7, -7, -1),
    (ReminderStep.before_1, -1, 1),
    (ReminderStep.after_1, 1, REMINDER_HORIZON_DAYS + 1),
)
ESCALATION_FROM_DAY = 3


class TaskSpec(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    title: str
    kind: TaskKind
    due_on: dt.date
    approval_levels: int = 2
    village_ids: list[int] | None = None  # None: every village and community
    legal_basis: str = ""


# --- campaigns and tasks ---------------------------------------------------------------


def _task_out(row: dict[str, Any]) -> TaskOut:
    return TaskOut(
        id=row["id"],
        campaign_id=row["campaign"],
        code=row["code"],
        title=row["title"],
        kind=TaskKind(row["kind"]),
        due_on=_as_date(row["due_on"]),
        approval_levels=row["approval_levels"],
        all_villages=bool(row["all_villages"]),
        legal_basis=row["legal_basis"],
    )


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


async def create_campaign(
    actor: Actor, *, code: str, title: str, year: int, tasks: Sequence[TaskSpec]
) -> int:
    """A campaign with its tasks; the village statuses are derived at once."""
    code, title = code.strip(), title.strip()
    if not code or not title or not tasks:
        raise BadTask()
    for spec in tasks:
        if not spec.title.strip() or not 0 <= spec.approval_levels <= 2:
            raise BadTask()
    async with db.write_transaction():
        if await Campaign.exists().where(Campaign.code == code):
            raise CampaignExists(code=code)
        rows = await Campaign.insert(Campaign(code=code, title=title, year=year)).returning(
            Campaign.id
        )
        campaign_id = int(rows[0]["id"])
        for position, spec in enumerate(tasks):
            task_rows = await CampaignTask.insert(
                CampaignTask(
                    campaign=campaign_id,
                    code=spec.code,
                    title=spec.title.strip(),
                    kind=spec.kind.value,
                    due_on=spec.due_on,
                    approval_levels=spec.approval_levels,
                    all_villages=spec.village_ids is None,
                    position=position,
                    legal_basis=spec.legal_basis,
                )
            ).returning(CampaignTask.id)
            task_id = int(task_rows[0]["id"])
            if spec.village_ids:
                await TaskVillage.insert(
                    *(
                        TaskVillage(task=task_id, village=vid)
                        for vid in sorted(set(spec.village_ids))
                    )
                )
        await append_event(
            actor, "campaign.created", "campaign", campaign_id, {"code": code, "tasks": len(tasks)}
        )
        for task in await CampaignTask.select().where(CampaignTask.campaign == campaign_id):
            await refresh_task(task)
    return campaign_id


async def village_ids_for_codes(codes: Sequence[str]) -> list[int]:
    """The ids of villages given by code; an unknown code or a non-village is refused."""
    wanted = sorted({code.strip() for code in codes if code.strip()})
    if not wanted:
        return []
    rows = await OrgUnit.select(OrgUnit.id, OrgUnit.code, OrgUnit.kind).where(
        OrgUnit.code.is_in(wanted)
    )
    found = {row["code"]: row for row in rows if row["kind"] in VILLAGE_KINDS}
    unknown = [code for code in wanted if code not in found]
    if unknown:
        raise UnknownVillages(codes=", ".join(unknown[:5])[:60])
    return [found[code]["id"] for code in wanted]


async def list_campaigns() -> list[CampaignOut]:
    campaigns = await Campaign.select().order_by(Campaign.year, ascending=False)
    tasks = await CampaignTask.select().order_by(CampaignTask.position)
    by_campaign: dict[int, list[TaskOut]] = {}
    for task in tasks:
        by_campaign.setdefault(task["campaign"], []).append(_task_out(task))
    return [
        CampaignOut(
            id=row["id"],
            code=row["code"],
            title=row["title"],
            year=row["year"],
            tasks=by_campaign.get(row["id"], []),
        )
        for row in campaigns
    ]


async def get_campaign(
    campaign_id: int | None = None, campaigns: list[CampaignOut] | None = None
) -> CampaignOut:
    """The campaign, or (without an id) the latest one (from ``campaigns`` when given)."""
    campaigns = campaigns if campaigns is not None else await list_campaigns()
    for campaign in campaigns:
        if campaign_id is None or campaign.id == campaign_id:
            return campaign
    raise CampaignNotFound(campaign_id=campaign_id or 0)


async def get_task(task_id: int) -> TaskOut:
    row = await CampaignTask.select().where(CampaignTask.id == task_id).first()
    if row is None:
        raise TaskNotFound(task_id=task_id)
    return _task_out(row)


# --- deriving the status ---------------------------------------------------------------


async def _villages() -> dict[int, int]:
    """Every village and community -> its township."""
    rows = await OrgUnit.select(OrgUnit.id, OrgUnit.parent).where(
        OrgUnit.kind.is_in([kind.value for kind in VILLAGE_KINDS])
    )
    return {row["id"]: row["parent"] for row in rows if row["parent"] is not None}


async def applicable_villages(task: dict[str, Any]) -> dict[int, int]:
    """The villages ``task`` applies to -> their township."""
    villages = await _villages()
    if task["all_villages"]:
        return villages
    listed = await TaskVillage.select(TaskVillage.village).where(TaskVillage.task == task["id"])
    return {
        row["village"]: villages[row["village"]] for row in listed if row["village"] in villages
    }


def _instance(
    task: dict[str, Any], village_id: int, township_id: int, progress: Progress | None
) -> TaskInstance:
    due = _as_date(task["due_on"])
    status = progress.status if progress else InstanceStatus.missing
    done_on = progress.done_on if progress and status is InstanceStatus.done else None
    return TaskInstance(
        task=task["id"],
        village=village_id,
        key=f"{task['id']}:{village_id}",
        township_id=township_id,
        status=status.value,
        done_on=done_on,
        on_time=bool(done_on is not None and done_on <= due),
        refreshed_at=dt.datetime.now(dt.UTC),
    )


async def refresh_task(task: dict[str, Any], village_ids: Iterable[int] | None = None) -> int:
    """Recompute the instances of ``task`` (of ``village_ids`` only, when given)."""
    villages = await applicable_villages(task)
    if village_ids is not None:
        wanted = set(village_ids)
        villages = {vid: tid for vid, tid in villages.items() if vid in wanted}
    evaluator = EVALUATORS[TaskKind(task["kind"])]
    progress = await evaluator(task["approval_levels"], list(villages) if village_ids else [])
    instances = [
        _instance(task, vid, tid, progress.get(vid)) for vid, tid in sorted(villages.items())
    ]
    async with db.write_transaction():
        if village_ids is None:
            await TaskInstance.delete().where(TaskInstance.task == task["id"])
        else:
            keys = [f"{task['id']}:{vid}" for vid in set(village_ids)]
            await TaskInstance.delete().where(TaskInstance.key.is_in(keys or ["-"]))
        for start in range(0, len(instances), 500):
            await TaskInstance.insert(*instances[start : start + 500])
        if village_ids is None:
            await _summarise(task["id"])
        else:
            for township_id in sorted(set(villages.values())):
                await _summarise(task["id"], township_id)
    return len(instances)


async def refresh_for(kind: TaskKind, village_id: int) -> None:
    """Recompute one village's instances of every task of ``kind``; the domain services
    call this inside the write transaction that changed the record."""
    tasks = await CampaignTask.select().where(CampaignTask.kind == kind.value)
    for task in tasks:
        await refresh_task(task, [village_id])


async def refresh_all() -> int:
    return sum([await refresh_task(task) for task in await CampaignTask.select()])


# --- the dashboard ----------------------------------------------------------------------


def colour(expected: int, done: int, due_on: dt.date, today: dt.date) -> str:
    if expected == 0:
        return "none"
    share = done / expected
    if share >= GOOD_SHARE:
        return "good"
    if today <= due_on:
        return "pending"
    return "warn" if share >= WARN_SHARE else "bad"


async def _townships(township_ids: Iterable[int] | None = None) -> list[dict[str, Any]]:
    query = OrgUnit.select(OrgUnit.id, OrgUnit.name, OrgUnit.code).where(
        OrgUnit.kind.is_in([kind.value for kind in TOWNSHIP_KINDS])
    )
    if township_ids is not None:
        query = query.where(OrgUnit.id.is_in(list(township_ids) or [-1]))
    return list(await query.order_by(OrgUnit.code))


async def _aggregate(campaign_id: int) -> dict[tuple[int, int], dict[str, int]]:
    """Counts per task × township, read from the summaries kept with the instances."""
    rows = await TaskSummary.select().where(TaskSummary.task.campaign == campaign_id)
    return {
        (row["task"], row["township_id"]): {
            "expected": row["expected"],
            "done": row["done"],
            "on_time": row["on_time"],
            "in_progress": row["in_progress"],
        }
        for row in rows
    }


async def _summarise(task_id: int, township_id: int | None = None) -> None:
    """Rewrite the summaries of one task (of one township) from its instances, grouped in SQL.

    Hand-written: conditional sums (``SUM(CASE ...)``), which Piccolo's builder cannot say.
    """
    query = (
        "SELECT township_id, COUNT(*) AS expected,"
        " SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END) AS done,"
        " SUM(CASE WHEN on_time THEN 1 ELSE 0 END) AS on_time,"
        " SUM(CASE WHEN status IN ('in_progress', 'returned') THEN 1 ELSE 0 END) AS in_progress"
        " FROM va_task_instance WHERE task = {}"
    )
    if township_id is None:
        rows = await db.fetch(TaskInstance, query + " GROUP BY township_id", task_id)
        await TaskSummary.delete().where(TaskSummary.task == task_id)
    else:
        rows = await db.fetch(
            TaskInstance, query + " AND township_id = {} GROUP BY township_id", task_id, township_id
        )
        await TaskSummary.delete().where(TaskSummary.key == f"{task_id}:{township_id}")
    if rows:
        await TaskSummary.insert(
            *(
                TaskSummary(
                    task=task_id,
                    township_id=row["township_id"],
                    key=f"{task_id}:{row['township_id']}",
                    expected=int(row["expected"]),
                    done=int(row["done"] or 0),
                    on_time=int(row["on_time"] or 0),
                    in_progress=int(row["in_progress"] or 0),
                )
                for row in rows
            )
        )


def _cell(task: TaskOut, township_id: int, counts: dict[str, int] | None, today: dt.date) -> Cell:
    counts = counts or {"expected": 0, "done": 0, "on_time": 0, "in_progress": 0}
    expected, done = counts["expected"], counts["done"]
    return Cell(
        task_id=task.id,
        township_id=township_id,
        expected=expected,
        done=done,
        on_time=counts["on_time"],
        in_progress=counts["in_progress"],
        overdue=expected - done if today > task.due_on else 0,
        completeness=done / expected if expected else 0.0,
        timeliness=counts["on_time"] / expected if expected else 0.0,
        colour=colour(expected, done, task.due_on, today),
    )


async def visible_townships(user: CurrentUser) -> list[int] | None:
    """None for county-level roles (every township); a township's staff: their own."""
    return None if user.is_county_level else [user.org_unit_id]


async def dashboard(
    campaign_id: int | None = None,
    *,
    today: dt.date | None = None,
    township_ids: Iterable[int] | None = None,
    campaigns: list[CampaignOut] | None = None,
) -> Dashboard:
    """The task × township matrix of a campaign (the latest one without an id)."""
    today = today or today_local()
    campaign = await get_campaign(campaign_id, campaigns)
    townships = await _townships(township_ids)
    counts = await _aggregate(campaign.id)
    rows = [
        TownshipRow(
            township_id=township["id"],
            name=township["name"],
            code=township["code"],
            cells=[
                _cell(task, township["id"], counts.get((task.id, township["id"])), today)
                for task in campaign.tasks
            ],
        )
        for township in townships
    ]
    totals = []
    for index, task in enumerate(campaign.tasks):
        expected = sum(row.cells[index].expected for row in rows)
        done = sum(row.cells[index].done for row in rows)
        on_time = sum(row.cells[index].on_time for row in rows)
        totals.append(
            TaskTotal(
                task=task,
                expected=expected,
                done=done,
                on_time=on_time,
                completeness=done / expected if expected else 0.0,
                timeliness=on_time / expected if expected else 0.0,
            )
        )
    return Dashboard(campaign=campaign, today=today, townships=rows, totals=totals)


async def drill_down(
    user: CurrentUser, task_id: int, township_id: int, *, today: dt.date | None = None
) -> DrillDown:
    """The villages of one township for one task, with their status and days overdue."""
    today = today or today_local()
    if not user.is_county_level and township_id != user.org_unit_id:
        raise NotYourTownship(township_id=township_id)
    task = await get_task(task_id)
    township = await OrgUnit.select(OrgUnit.name).where(OrgUnit.id == township_id).first()
    if township is None:
        raise TaskNotFound(task_id=task_id)
    rows = (
        await TaskInstance.select(
            TaskInstance.village,
            TaskInstance.village.name,
            TaskInstance.village.code,
            TaskInstance.status,
            TaskInstance.done_on,
            TaskInstance.on_time,
        )
        .where(TaskInstance.task == task_id, TaskInstance.township_id == township_id)
        .order_by(TaskInstance.village.code)
    )
    villages = []
    for row in rows:
        done_on = _as_date(row["done_on"]) if row["done_on"] else None
        end = done_on or today
        villages.append(
            VillageProgress(
                village_id=row["village"],
                code=row["village.code"],
                name=row["village.name"],
                status=InstanceStatus(row["status"]),
                done_on=done_on,
                on_time=bool(row["on_time"]),
                days_overdue=max(0, (end - task.due_on).days),
            )
        )
    return DrillDown(
        task=task,
        township_id=township_id,
        township_name=township["name"],
        today=today,
        villages=villages,
    )


async def village_tasks(village_id: int) -> list[tuple[TaskOut, InstanceStatus, dt.date | None]]:
    """Every task's status for one village (the village pages show it)."""
    rows = await TaskInstance.select(
        TaskInstance.task, TaskInstance.status, TaskInstance.done_on
    ).where(TaskInstance.village == village_id)
    tasks = {task["id"]: task for task in await CampaignTask.select()}
    answer = []
    for row in rows:
        task = tasks.get(row["task"])
        if task is not None:
            done_on = _as_date(row["done_on"]) if row["done_on"] else None
            answer.append((_task_out(task), InstanceStatus(row["status"]), done_on))
    return sorted(answer, key=lambda item: (item[0].due_on, item[0].id))


# --- reminders and escalation -----------------------------------------------------------


def reminder_step(due_on: dt.date, today: dt.date) -> ReminderStep | None:
    """The reminder whose window holds ``today``: D-7 (until D-2), D-1 (D-1 and D), D+1 on."""
    offset = (today - due_on).days
    for step, start, end in REMINDER_WINDOWS:
        if start <= offset < end:
            return step
    return None


def escalation_due(due_on: dt.date, today: dt.date) -> bool:
    offset = (today - due_on).days
    return ESCALATION_FROM_DAY <= offset <= REMINDER_HORIZON_DAYS


async def _open_villages(task_id: int) -> dict[int, int]:
    """Township -> villages not done for ``task_id``."""
    rows = (
        await TaskInstance.select(TaskInstance.township_id, Count(alias="open"))
        .where((TaskInstance.task == task_id) & (TaskInstance.status != "done"))
        .group_by(TaskInstance.township_id)
    )
    return {row["township_id"]: int(row["open"]) for row in rows}


async def _notify(
    role: Role,
    message_key: str,
    params: dict[str, str],
    link: str,
    dedupe_key: str,
    org_unit_id: int | None,
) -> None:
    try:
        from tipline.notifications import services as notifications
    except ImportError:  # pragma: no cover - the notifications package ships with tipline
        return
    await notifications.notify_role(
        role,
        "campaign",
        message_key,
        params,
        link,
        org_unit_id=org_unit_id,
        dedupe_key=dedupe_key,
    )


async def send_reminders(today: dt.date | None = None) -> tuple[int, int]:
    """Remind townships with open villages (D-7, D-1, D+1) and tell the county (D+3).

    Each (task, township, step) is sent once, ever: the :class:`TaskReminder` key and
    the notification's dedupe key both make a second run a no-op.
    """
    today = today or today_local()
    reminders = escalations = 0
    tasks = await CampaignTask.select()
    names = {row["id"]: row["name"] for row in await _townships()}
    for task in tasks:
        due = _as_date(task["due_on"])
        step = reminder_step(due, today)
        escalate = escalation_due(due, today)
        if step is None and not escalate:
            continue
        open_by_township = await _open_villages(task["id"])
        for township_id, open_count in sorted(open_by_township.items()):
            if open_count == 0:
                continue
            params = {
                "task": task["title"][:60],
                "due": due.isoformat(),
                "open": str(open_count),
                "township": names.get(township_id, "")[:60],
            }
            link = f"/villageaffairs/dashboard/tasks/{task['id']}/townships/{township_id}"
            todo: list[tuple[ReminderStep, Role, int | None, str]] = []
            if step is not None:
                todo.append((step, Role.township_staff, township_id, "campaigns.notify.reminder"))
            if escalate:
                todo.append(
                    (
                        ReminderStep.escalate_3,
                        Role.county_staff,
                        None,
                        "campaigns.notify.escalation",
                    )
                )
            for this_step, role, unit_id, message_key in todo:
                key = f"{task['id']}:{township_id}:{this_step.value}"
                async with db.write_transaction():
                    inserted = (
                        await TaskReminder.insert(
                            TaskReminder(
                                task=task["id"],
                                township_id=township_id,
                                key=key,
                                step=this_step.value,
                                sent_on=today,
                                open_villages=open_count,
                            )
                        )
                        .on_conflict(action="DO NOTHING")
                        .returning(TaskReminder.id)
                    )
                    if not inserted:
                        continue
                    await _notify(
                        role,
                        message_key,
                        {**params, "step": this_step.value},
                        link,
                        f"campaign-task:{key}",
                        unit_id,
                    )
                if this_step is ReminderStep.escalate_3:
                    escalations += 1
                else:
                    reminders += 1
    return reminders, escalations


async def sweep(today: dt.date | None = None) -> SweepResult:
    """The scheduler's job: re-derive every instance, then remind and escalate."""
    refreshed = await refresh_all()
    reminders, escalations = await send_reminders(today)
    return SweepResult(refreshed=refreshed, reminders=reminders, escalations=escalations)


async def campaign_job() -> None:
    await sweep()


async def reminders_sent(task_id: int) -> list[dict[str, Any]]:
    return list(
        await TaskReminder.select()
        .where(TaskReminder.task == task_id)
        .order_by(TaskReminder.township_id, TaskReminder.id)
    )


# --- export --------------------------------------------------------------------------------


def export_xlsx(board: Dashboard, labels: dict[str, str]) -> bytes:
    """The matrix as an Excel workbook: one sheet of task × township, one of totals."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    fills = {
        "good": PatternFill("solid", fgColor="C8E6C9"),
        "warn": PatternFill("solid", fgColor="FFE0B2"),
        "bad": PatternFill("solid", fgColor="FFCDD2"),
        "pending": PatternFill("solid", fgColor="E3F2FD"),
    }
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = labels["matrix"][:31]
    header = [labels["township"]]
    for task in board.campaign.tasks:
        header += [
            f"{_safe(task.title)} ({task.due_on.isoformat()})",
            labels["completeness"],
            labels["timeliness"],
            labels["overdue"],
        ]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in board.townships:
        line: list[Any] = [_safe(row.name)]
        for cell in row.cells:
            line += [
                f"{cell.done}/{cell.expected}",
                round(cell.completeness, 3),
                round(cell.timeliness, 3),
                cell.overdue,
            ]
        sheet.append(line)
        for index, cell in enumerate(row.cells):
            fill = fills.get(cell.colour)
            if fill is not None:
                sheet.cell(row=sheet.max_row, column=2 + index * 4).fill = fill
    totals = workbook.create_sheet(labels["totals"][:31])
    totals.append(
        [
            labels["task"],
            labels["due"],
            labels["expected"],
            labels["done"],
            labels["on_time"],
            labels["completeness"],
            labels["timeliness"],
        ]
    )
    for total in board.totals:
        totals.append(
            [
                _safe(total.task.title),
                total.task.due_on.isoformat(),
                total.expected,
                total.done,
                total.on_time,
                round(total.completeness, 3),
                round(total.timeliness, 3),
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _safe(text: str) -> str:
    """No cell starts with a formula character (OWASP: CSV/formula injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


# --- the approval chain's steps move the statuses at once ------------------------------------


async def _by_election_step(report: Any, step: str) -> None:
    """A by-election report's step (Village affairs I) re-derives that village's task."""
    await refresh_for(TaskKind.by_election, report.village_id)


async def _supervisory_committee_step(report: Any, step: str) -> None:
    """Every approval-chain step of a supervisory committee's report may change the
    village's task status."""
    await refresh_for(TaskKind.supervisory_committee, report.village_id)


async def _notice_board_changed(village_id: int) -> None:
    await refresh_for(TaskKind.notice_board, village_id)


async def _supervisory_committee_changed(village_id: int) -> None:
    await refresh_for(TaskKind.supervisory_committee, village_id)


async def _village_rules_changed(village_id: int) -> None:
    await refresh_for(TaskKind.village_rules, village_id)


def _install_hooks() -> None:
    """The domain packages run these hooks inside the write transaction that changed a
    record; they do not import ``campaigns``, which derives its statuses from them."""
    from villageaffairs.noticeboards import services as noticeboards
    from villageaffairs.reports import services as reports
    from villageaffairs.supervision import services as supervision
    from villageaffairs.villagerules import services as villagerules

    reports.on_step("by_election", _by_election_step)
    reports.on_step(supervision.REPORT_KIND, _supervisory_committee_step)
    noticeboards.CHANGED.register(_notice_board_changed)
    supervision.CHANGED.register(_supervisory_committee_changed)
    villagerules.CHANGED.register(_village_rules_changed)


_install_hooks()
