"""How each kind of task reads a village's progress off the domain records.

One function per :class:`TaskKind`: given the task's approval levels and the villages,
it returns each village's :class:`Progress` (a village missing from the answer has
nothing recorded). Nothing here is typed in by hand; the records decide.

The domain packages are below ``campaigns``: they run its hooks when their records
change (:func:`villageaffairs.campaigns.services._install_hooks`) and never import it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from tipline.workdays.services import LOCAL_TIMEZONE
from villageaffairs.campaigns.schemas import Progress
from villageaffairs.campaigns.tables import InstanceStatus, TaskKind

Evaluator = Callable[[int, Sequence[int]], Awaitable[dict[int, Progress]]]

# The approval-chain report kind (villageaffairs.reports) each task kind waits for.
REPORT_KINDS = {
    TaskKind.supervisory_committee: "supervisory_committee",
    TaskKind.by_election: "by_election",
}


def local_date(moment: Any) -> dt.date | None:
    """The local (China) date of a stored time or date."""
    if moment is None:
        return None
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(LOCAL_TIMEZONE).date()
    if isinstance(moment, dt.date):
        return moment
    return dt.date.fromisoformat(str(moment)[:10])


def _report_field(report: Any, *names: str) -> Any:
    for name in names:
        value = getattr(report, name, None)
        if value is not None:
            return value
    return None


def report_progress(report: Any, levels: int, recorded_on: dt.date | None) -> Progress:
    """A village's progress from its latest approval-chain report.

    ``levels`` 0: recorded is enough; 1: the township approved; 2: the county accepted.
    """
    status = str(_report_field(report, "status") or "")
    status = getattr(status, "value", status)
    if status == "returned":
        return Progress(InstanceStatus.returned)
    accepted_on = local_date(_report_field(report, "accepted_at", "accepted_on"))
    approved_on = local_date(_report_field(report, "approved_at", "approved_on"))
    if levels >= 2:
        if status == "accepted" and accepted_on:
            return Progress(InstanceStatus.done, accepted_on)
        return Progress(InstanceStatus.in_progress)
    if levels == 1:
        if status in ("township_approved", "accepted"):
            return Progress(InstanceStatus.done, approved_on or accepted_on or recorded_on)
        return Progress(InstanceStatus.in_progress)
    return Progress(InstanceStatus.done, recorded_on)


async def _latest_reports(kind: str, village_ids: Sequence[int]) -> dict[int, Any]:
    try:
        from villageaffairs.reports import services as reports
    except ImportError:  # Village affairs I not installed: no report ever accepted
        return {}
    answer = await reports.latest_reports(kind, list(village_ids) or None)
    return dict(answer)


async def supervisory_committee(levels: int, village_ids: Sequence[int]) -> dict[int, Progress]:
    """Done when the village's supervisory committee is recorded (and approved/accepted)."""
    from villageaffairs.supervision.tables import CommitteeStatus, SupervisoryCommittee

    query = SupervisoryCommittee.select(
        SupervisoryCommittee.village, SupervisoryCommittee.recorded_at
    ).where(SupervisoryCommittee.status == CommitteeStatus.active)
    if village_ids:
        query = query.where(SupervisoryCommittee.village.is_in(list(village_ids)))
    rows = await query
    recorded = {row["village"]: local_date(row["recorded_at"]) for row in rows}
    if not recorded:
        return {}
    reports = await _latest_reports(REPORT_KINDS[TaskKind.supervisory_committee], list(recorded))
    result: dict[int, Progress] = {}
    for village_id, recorded_on in recorded.items():
        report = reports.get(village_id)
        if report is None:
            result[village_id] = (
                Progress(InstanceStatus.done, recorded_on)
                if levels == 0
                else Progress(InstanceStatus.in_progress)
            )
        else:
            result[village_id] = report_progress(report, levels, recorded_on)
    return result


async def by_election(levels: int, village_ids: Sequence[int]) -> dict[int, Progress]:
    """Done when the village's by-election report went through the approval chain."""
    reports = await _latest_reports(REPORT_KINDS[TaskKind.by_election], village_ids)
    return {
        village_id: report_progress(report, levels, None) for village_id, report in reports.items()
    }


async def village_rules(levels: int, village_ids: Sequence[int]) -> dict[int, Progress]:
    """Done when rules with a marked anti-gang clause are published (their own workflow
    already holds the township and county legal reviews)."""
    from villageaffairs.villagerules.tables import RulesStatus, RulesVersion

    query = RulesVersion.select(
        RulesVersion.village,
        RulesVersion.status,
        RulesVersion.published_on,
        RulesVersion.anti_gang_marked,
        RulesVersion.version,
    ).order_by(RulesVersion.version)
    if village_ids:
        query = query.where(RulesVersion.village.is_in(list(village_ids)))
    result: dict[int, Progress] = {}
    for row in await query:
        village_id = row["village"]
        if row["status"] == RulesStatus.superseded:
            continue
        if row["status"] == RulesStatus.published and row["anti_gang_marked"]:
            earlier = result.get(village_id)
            if earlier is None or earlier.status is not InstanceStatus.done:
                result[village_id] = Progress(InstanceStatus.done, local_date(row["published_on"]))
        elif village_id not in result:
            result[village_id] = Progress(InstanceStatus.in_progress)
    return result


async def notice_board(levels: int, village_ids: Sequence[int]) -> dict[int, Progress]:
    """Done when the board is standardised and the township's latest inspection passed
    (or its re-inspection found the findings fixed)."""
    from villageaffairs.noticeboards.tables import Inspection, InspectionStatus, NoticeBoard

    board_query = NoticeBoard.select(
        NoticeBoard.village, NoticeBoard.standardised, NoticeBoard.updated_at
    )
    inspection_query = Inspection.select(
        Inspection.village, Inspection.status, Inspection.inspected_on, Inspection.reinspected_on
    ).order_by(Inspection.inspected_on)
    if village_ids:
        board_query = board_query.where(NoticeBoard.village.is_in(list(village_ids)))
        inspection_query = inspection_query.where(Inspection.village.is_in(list(village_ids)))
    boards = {row["village"]: row for row in await board_query}
    latest = {row["village"]: row for row in await inspection_query}
    result: dict[int, Progress] = {}
    for village_id, board in boards.items():
        standardised = board["standardised"]
        inspection = latest.get(village_id)
        if levels == 0 and standardised:
            result[village_id] = Progress(InstanceStatus.done, local_date(board["updated_at"]))
            continue
        if inspection is None:
            result[village_id] = Progress(InstanceStatus.in_progress)
            continue
        if inspection["status"] == InspectionStatus.fix_required:
            result[village_id] = Progress(InstanceStatus.returned)
        elif standardised:
            day = inspection["reinspected_on"] or inspection["inspected_on"]
            result[village_id] = Progress(InstanceStatus.done, local_date(day))
        else:
            result[village_id] = Progress(InstanceStatus.in_progress)
    return result


EVALUATORS: dict[TaskKind, Evaluator] = {
    TaskKind.supervisory_committee: supervisory_committee,
    TaskKind.by_election: by_election,
    TaskKind.village_rules: village_rules,
    TaskKind.notice_board: notice_board,
}
