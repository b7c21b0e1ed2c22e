"""The approval chain shared by every village-affairs process.

township staff enter a village's report (draft) -> submit -> the township approves
-> the county civil affairs bureau accepts. Either level returns it with a reason.
Accepted data is locked; a correction is a new version with a reason, which starts
as a draft and supersedes the accepted one. Each step is a custody event
(``village_report.<step>``) written in the same transaction as the change.

Other packages use:

- :func:`create_report` when a record is ready to be reported;
- :func:`require_editable` before changing a record (raises :class:`ReportLocked`);
- :func:`register_submit_check` to refuse a submission while the record is incomplete;
- :func:`on_step` to react to a step (runs inside the step's transaction);
- :func:`latest_reports` / :func:`latest_for_subject` to show status;
- :func:`report_view` and the include ``villageaffairs/reports/_status.html`` for pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from tipline import db
from tipline.auth import CurrentUser, Role
from tipline.ledger.services import Actor, append_event
from tipline.orgunits.services import get_unit, require_visible, visible_unit_ids
from tipline.orgunits.tables import VILLAGE_KINDS
from villageaffairs.reports.exceptions import (
    NotLatestVersion,
    NotYourStep,
    ReasonRequired,
    ReportLocked,
    ReportNotFound,
    WrongReportStatus,
)
from villageaffairs.reports.schemas import ReportOut, ReportView
from villageaffairs.reports.tables import LOCKED_STATUSES, ReportStatus, VillageReport

MAX_REASON = 2000

SubmitCheck = Callable[[int], Awaitable[None]]
StepHook = Callable[[ReportOut, str], Awaitable[None]]

_SUBMIT_CHECKS: dict[str, SubmitCheck] = {}
_SUBJECT_URLS: dict[str, Callable[[int], str]] = {}
_STEP_HOOKS: dict[str, list[StepHook]] = {}


def register_submit_check(kind: str, check: SubmitCheck) -> None:
    """``check(subject_id)`` runs before a report of ``kind`` is submitted; it raises a
    :class:`tipline.errors.Invalid` (e.g. ``SubjectNotReady``) to refuse it."""
    _SUBMIT_CHECKS[kind] = check


def register_subject_url(kind: str, url: Callable[[int], str]) -> None:
    """Where the queue links a report of ``kind`` to (``url(subject_id)``)."""
    _SUBJECT_URLS[kind] = url


def subject_url(kind: str, subject_id: int) -> str:
    make = _SUBJECT_URLS.get(kind)
    return make(subject_id) if make else ""


def on_step(kind: str, hook: StepHook) -> None:
    """``hook(report_after_step, step)`` runs inside the step's write transaction."""
    hooks = _STEP_HOOKS.setdefault(kind, [])
    if hook not in hooks:
        hooks.append(hook)


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or dt.datetime.now(dt.UTC)


async def _get(report_id: int) -> ReportOut:
    row = await VillageReport.select().where(VillageReport.id == report_id).first()
    if row is None:
        raise ReportNotFound(report_id=report_id)
    return ReportOut.from_row(row)


async def get_report(user: CurrentUser, report_id: int) -> ReportOut:
    report = await _get(report_id)
    await require_visible(user, report.village_id)
    return report


async def _village_township(user: CurrentUser, village_id: int) -> int:
    """The village's township id, after checking ``user`` may see the village."""
    village = await require_visible(user, village_id)
    if village.kind not in VILLAGE_KINDS or village.parent_id is None:
        raise ReportNotFound(report_id=village_id)
    return village.parent_id


def _is_township_of(user: CurrentUser, township_id: int) -> bool:
    return user.role is Role.township_staff and user.org_unit_id == township_id


def _may_enter(user: CurrentUser, township_id: int) -> bool:
    return _is_township_of(user, township_id) or user.role in (Role.county_staff, Role.admin)


async def _latest_row(kind: str, subject_id: int) -> dict[str, Any] | None:
    return (
        await VillageReport.select()
        .where((VillageReport.kind == kind) & (VillageReport.subject_id == subject_id))
        .order_by(VillageReport.version, ascending=False)
        .first()
    )


async def latest_for_subject(kind: str, subject_id: int) -> ReportOut | None:
    row = await _latest_row(kind, subject_id)
    return ReportOut.from_row(row) if row else None


async def require_editable(kind: str, subject_id: int) -> None:
    """Refuse a change to a record whose latest report is submitted, approved or accepted.

    Accepted data is corrected only through :func:`new_version`, never in place.
    """
    row = await _latest_row(kind, subject_id)
    if row is not None and row["status"] in LOCKED_STATUSES:
        raise ReportLocked(status=row["status"], version=row["version"])


async def is_editable(kind: str, subject_id: int) -> bool:
    row = await _latest_row(kind, subject_id)
    return row is None or row["status"] not in LOCKED_STATUSES


async def _event(user: CurrentUser, step: str, report: ReportOut, source: str | None) -> None:
    await append_event(
        Actor.account(user.account_id),
        f"village_report.{step}",
        "village_report",
        report.id,
        {
            "kind": report.kind,
            "village_id": report.village_id,
            "subject_id": report.subject_id,
            "version": report.version,
            "from": source,
            "to": report.status.value,
        },
    )
    for hook in _STEP_HOOKS.get(report.kind, []):
        await hook(report, step)


async def create_report(
    user: CurrentUser, kind: str, village_id: int, subject_id: int
) -> ReportOut:
    """A draft report of a village's record; the open draft (or returned report) if one exists.

    A subject whose report is already submitted, approved or accepted gets
    :class:`ReportLocked`: correct accepted data with :func:`new_version`.
    """
    township_id = await _village_township(user, village_id)
    if not _may_enter(user, township_id):
        raise NotYourStep(step="create")
    async with db.write_transaction():
        existing = await _latest_row(kind, subject_id)
        if existing is not None:
            if existing["status"] in LOCKED_STATUSES:
                raise ReportLocked(status=existing["status"], version=existing["version"])
            return ReportOut.from_row(existing)
        rows = await VillageReport.insert(
            VillageReport(
                kind=kind,
                village=village_id,
                subject_id=subject_id,
                version=1,
                status=ReportStatus.draft.value,
                created_by=user.account_id,
            )
        ).returning(VillageReport.id)
        report = await _get(rows[0]["id"])
        await _event(user, "created", report, None)
    return report


async def _move(
    user: CurrentUser,
    report: ReportOut,
    step: str,
    sources: Iterable[ReportStatus],
    target: ReportStatus,
    values: dict[Any, Any],
    now: dt.datetime,
) -> ReportOut:
    allowed = tuple(s.value for s in sources)
    if report.status.value not in allowed:
        raise WrongReportStatus(step=step, status=report.status.value)
    async with db.write_transaction():
        values = {
            **values,
            VillageReport.status: target.value,
            VillageReport.updated_at: now,
        }
        changed = (
            await VillageReport.update(values)
            .where((VillageReport.id == report.id) & (VillageReport.status.is_in(list(allowed))))
            .returning(VillageReport.id)
        )
        if not changed:
            raise WrongReportStatus(step=step, status=report.status.value)
        after = await _get(report.id)
        await _event(user, step, after, report.status.value)
    return after


async def submit(user: CurrentUser, report_id: int, now: dt.datetime | None = None) -> ReportOut:
    """Township staff (or the county on their behalf) send a draft or returned report up."""
    report = await _get(report_id)
    township_id = await _village_township(user, report.village_id)
    if not _may_enter(user, township_id):
        raise NotYourStep(step="submit")
    if report.status in (ReportStatus.draft, ReportStatus.returned):
        check = _SUBMIT_CHECKS.get(report.kind)
        if check is not None:
            await check(report.subject_id)
    moment = _now(now)
    return await _move(
        user,
        report,
        "submitted",
        (ReportStatus.draft, ReportStatus.returned),
        ReportStatus.submitted,
        {VillageReport.submitted_at: moment},
        moment,
    )


async def approve(user: CurrentUser, report_id: int, now: dt.datetime | None = None) -> ReportOut:
    """The township's approval: only township staff of the village's own township."""
    report = await _get(report_id)
    township_id = await _village_township(user, report.village_id)
    if not _is_township_of(user, township_id):
        raise NotYourStep(step="approve")
    moment = _now(now)
    return await _move(
        user,
        report,
        "township_approved",
        (ReportStatus.submitted,),
        ReportStatus.township_approved,
        {VillageReport.approved_at: moment, VillageReport.approved_by: user.account_id},
        moment,
    )


async def accept(user: CurrentUser, report_id: int, now: dt.datetime | None = None) -> ReportOut:
    """The county civil affairs bureau accepts a township-approved report; its data locks."""
    report = await _get(report_id)
    await _village_township(user, report.village_id)
    if user.role is not Role.county_staff:
        raise NotYourStep(step="accept")
    moment = _now(now)
    return await _move(
        user,
        report,
        "accepted",
        (ReportStatus.township_approved,),
        ReportStatus.accepted,
        {VillageReport.accepted_at: moment, VillageReport.accepted_by: user.account_id},
        moment,
    )


def _clean_reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise ReasonRequired()
    return text[:MAX_REASON]


async def return_report(
    user: CurrentUser, report_id: int, reason: str, now: dt.datetime | None = None
) -> ReportOut:
    """Send a report back with a reason: the township returns a submitted report, the
    county a submitted or township-approved one."""
    text = _clean_reason(reason)
    report = await _get(report_id)
    township_id = await _village_township(user, report.village_id)
    if _is_township_of(user, township_id):
        sources: tuple[ReportStatus, ...] = (ReportStatus.submitted,)
    elif user.role is Role.county_staff:
        sources = (ReportStatus.submitted, ReportStatus.township_approved)
    else:
        raise NotYourStep(step="return")
    moment = _now(now)
    return await _move(
        user,
        report,
        "returned",
        sources,
        ReportStatus.returned,
        {VillageReport.returned_at: moment, VillageReport.reason: text},
        moment,
    )


async def new_version(
    user: CurrentUser, report_id: int, reason: str, now: dt.datetime | None = None
) -> ReportOut:
    """Open a correction of accepted data: a new draft version that supersedes it.

    The accepted version stays as it was; the subject becomes editable again until
    the new version is submitted.
    """
    text = _clean_reason(reason)
    report = await _get(report_id)
    township_id = await _village_township(user, report.village_id)
    if not _may_enter(user, township_id):
        raise NotYourStep(step="new_version")
    if report.status is not ReportStatus.accepted:
        raise WrongReportStatus(step="new_version", status=report.status.value)
    async with db.write_transaction():
        latest = await _latest_row(report.kind, report.subject_id)
        if latest is None or latest["id"] != report.id:
            raise NotLatestVersion(version=report.version)
        rows = await VillageReport.insert(
            VillageReport(
                kind=report.kind,
                village=report.village_id,
                subject_id=report.subject_id,
                version=report.version + 1,
                status=ReportStatus.draft.value,
                reason=text,
                created_by=user.account_id,
                created_at=_now(now),
                updated_at=_now(now),
                supersedes=report.id,
            )
        ).returning(VillageReport.id)
        after = await _get(rows[0]["id"])
        await _event(user, "new_version", after, report.status.value)
    return after


async def latest_reports(
    kind: str, village_ids: Iterable[int] | None = None
) -> dict[int, ReportOut]:
    """Per village, its newest report of ``kind`` (highest id: the last subject, last version).

    For dashboards: ``status``, ``submitted_at``, ``accepted_at`` tell how far the
    village is. Villages without a report are absent from the answer.
    """
    query = VillageReport.select().where(VillageReport.kind == kind)
    if village_ids is not None:
        ids = list(village_ids)
        if not ids:
            return {}
        query = query.where(VillageReport.village.is_in(ids))
    result: dict[int, ReportOut] = {}
    for row in await query.order_by(VillageReport.id):
        result[row["village"]] = ReportOut.from_row(row)
    return result


async def history(kind: str, subject_id: int) -> list[ReportOut]:
    rows = (
        await VillageReport.select()
        .where((VillageReport.kind == kind) & (VillageReport.subject_id == subject_id))
        .order_by(VillageReport.version)
    )
    return [ReportOut.from_row(row) for row in rows]


async def allowed_steps(user: CurrentUser, report: ReportOut) -> list[str]:
    """The steps ``user`` may take on ``report`` now (buttons of the status block)."""
    village = await get_unit(report.village_id)
    township_id = village.parent_id or 0
    own = _is_township_of(user, township_id)
    county = user.role is Role.county_staff
    steps: list[str] = []
    status = report.status
    if status in (ReportStatus.draft, ReportStatus.returned) and (
        own or user.role in (Role.county_staff, Role.admin)
    ):
        steps.append("submit")
    if status is ReportStatus.submitted and own:
        steps += ["approve", "return"]
    if status is ReportStatus.submitted and county:
        steps.append("return")
    if status is ReportStatus.township_approved and county:
        steps += ["accept", "return"]
    if status is ReportStatus.accepted and (own or county):
        latest = await _latest_row(report.kind, report.subject_id)
        if latest is not None and latest["id"] == report.id:
            steps.append("new_version")
    return steps


async def report_view(user: CurrentUser, report: ReportOut | None) -> ReportView | None:
    """What the status include needs: the report and the viewer's allowed steps."""
    if report is None:
        return None
    village = await get_unit(report.village_id)
    return ReportView(
        report=report, actions=await allowed_steps(user, report), village_name=village.name
    )


async def queue(
    user: CurrentUser, status: ReportStatus | None = None, kind: str | None = None
) -> list[ReportView]:
    """Reports waiting at the viewer's level: for township staff their villages' drafts,
    returned and submitted reports; for the county the township-approved ones. With
    ``status`` given, exactly that status (within what the viewer may see)."""
    query = VillageReport.select()
    if status is not None:
        query = query.where(VillageReport.status == status.value)
    elif user.role is Role.township_staff:
        query = query.where(
            VillageReport.status.is_in(
                [ReportStatus.draft, ReportStatus.returned, ReportStatus.submitted]
            )
        )
    else:
        query = query.where(VillageReport.status == ReportStatus.township_approved.value)
    if kind:
        query = query.where(VillageReport.kind == kind)
    if not user.is_county_level:
        query = query.where(VillageReport.village.is_in(list(await visible_unit_ids(user))))
    rows = await query.order_by(VillageReport.updated_at, ascending=False).limit(500)
    names = {}
    views = []
    for row in rows:
        report = ReportOut.from_row(row)
        if report.village_id not in names:
            names[report.village_id] = (await get_unit(report.village_id)).name
        views.append(
            ReportView(
                report=report,
                actions=await allowed_steps(user, report),
                village_name=names[report.village_id],
            )
        )
    return views
