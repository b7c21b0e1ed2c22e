"""Recording a village's supervisory committee, its work reports, and their overdue list.

A committee is checked against every rule of :mod:`villageaffairs.supervision.rules`
before anything is written, then reported through the approval chain
(``villageaffairs.reports``, kind ``supervisory_committee``): the township approves,
the county accepts, and the campaign task of the village follows from that. An
accepted record is never edited: a new record with a reason supersedes it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tipline import db
from tipline.auth import CurrentUser
from tipline.ledger.services import Actor, append_event
from tipline.orgunits.services import require_visible
from tipline.orgunits.tables import OrgUnit
from tipline.workdays.services import today_local
from villageaffairs.access import require_township_writer, require_village
from villageaffairs.committees import services as committees
from villageaffairs.hooks import VillageHooks
from villageaffairs.legal import raise_if
from villageaffairs.people import services as people
from villageaffairs.people.tables import Person
from villageaffairs.reports import services as reports
from villageaffairs.reports.schemas import ReportOut
from villageaffairs.reports.tables import ReportStatus
from villageaffairs.supervision import rules
from villageaffairs.supervision.exceptions import (
    BadPeriod,
    CommitteeNotFound,
    NotActive,
    PersonNotOfVillage,
    ReasonRequired,
    RecordLocked,
)
from villageaffairs.supervision.rules import DEFAULT_RULES, CompositionRules, ProposedMember
from villageaffairs.supervision.schemas import (
    CommitteeIn,
    CommitteeOut,
    MemberOut,
    OverdueRow,
    PeriodDue,
    WorkReportIn,
    WorkReportOut,
)
from villageaffairs.supervision.tables import (
    CommitteeStatus,
    Forum,
    ScPost,
    SupervisoryCommittee,
    SupervisoryMember,
    WorkReport,
)

CHANGED = VillageHooks("supervisory committee")
"""Run when a village's supervisory committee is recorded (``campaigns`` re-derives its
task; the approval chain's steps reach it through :func:`reports.on_step`)."""
REPORT_KIND = "supervisory_committee"
MAX_REASON = 2000
MAX_SUMMARY = 4000


# --- reading --------------------------------------------------------------------------


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


async def _members(committee_id: int) -> list[MemberOut]:
    rows = (
        await SupervisoryMember.select()
        .where(SupervisoryMember.committee == committee_id)
        .order_by(SupervisoryMember.position)
    )
    return [
        MemberOut(
            person_id=row["person_id"],
            name=row["name"],
            post=ScPost(row["post"]),
            accounting_knowledge=bool(row["accounting_knowledge"]),
            management_knowledge=bool(row["management_knowledge"]),
        )
        for row in rows
    ]


async def _out(row: dict[str, Any]) -> CommitteeOut:
    recorded_at = row["recorded_at"]
    if isinstance(recorded_at, dt.datetime) and recorded_at.tzinfo is None:
        recorded_at = recorded_at.replace(tzinfo=dt.UTC)
    return CommitteeOut(
        id=row["id"],
        village_id=row["village"],
        elected_on=_date(row["elected_on"]),
        forum=Forum(row["forum"]),
        term_start=_date(row["term_start"]),
        term_end=_date(row["term_end"]),
        recorded_at=recorded_at,
        version_reason=row["version_reason"],
        members=await _members(row["id"]),
    )


async def active_committee(village_id: int) -> CommitteeOut | None:
    row = (
        await SupervisoryCommittee.select()
        .where(
            (SupervisoryCommittee.village == village_id)
            & (SupervisoryCommittee.status == CommitteeStatus.active.value)
        )
        .order_by(SupervisoryCommittee.id, ascending=False)
        .first()
    )
    return await _out(row) if row else None


async def get_committee(committee_id: int) -> CommitteeOut:
    row = await SupervisoryCommittee.select().where(SupervisoryCommittee.id == committee_id).first()
    if row is None:
        raise CommitteeNotFound(committee_id=committee_id)
    return await _out(row)


async def visible_committee(user: CurrentUser, committee_id: int) -> CommitteeOut:
    """The committee, if ``user`` may see its village (no id from another township)."""
    committee = await get_committee(committee_id)
    await require_visible(user, committee.village_id)
    return committee


async def report_of(committee_id: int) -> ReportOut | None:
    return await reports.latest_for_subject(REPORT_KIND, committee_id)


# --- recording ------------------------------------------------------------------------


async def _roster(
    village_id: int, person_ids: list[int], on: dt.date
) -> tuple[dict[int, str], dict[int, set[int]], dict[int, set[str]]]:
    """The village committee's members, each proposed member's near relatives, and the
    village posts (accountant, bookkeeper, ...) each proposed member holds."""
    sitting = {m.person_id: m.name for m in await committees.current_members(village_id, on)}
    relatives = {
        person_id: {r.person.id for r in await people.near_relatives(person_id)}
        for person_id in person_ids
    }
    posts: dict[int, set[str]] = {}
    for post in await people.current_posts(village_id, on=on):
        posts.setdefault(post.person_id, set()).add(post.kind.value)
    return sitting, relatives, posts


async def _proposed(village_id: int, data: CommitteeIn) -> list[ProposedMember]:
    ids = [m.person_id for m in data.members]
    rows = await Person.select(Person.id, Person.name, Person.village).where(
        Person.id.is_in(ids or [0])
    )
    found = {row["id"]: row for row in rows}
    proposed = []
    for member in data.members:
        row = found.get(member.person_id)
        if row is None or row["village"] != village_id:
            raise PersonNotOfVillage(person_id=member.person_id)
        proposed.append(
            ProposedMember(
                person_id=member.person_id,
                name=row["name"],
                post=member.post.value,
                accounting_knowledge=member.accounting_knowledge,
                management_knowledge=member.management_knowledge,
            )
        )
    return proposed


async def check_committee(
    village_id: int, data: CommitteeIn, *, rules_in_force: CompositionRules = DEFAULT_RULES
) -> tuple[list[ProposedMember], tuple[dt.date, dt.date] | None, list[Any]]:
    """The proposed members, the village committee's term, and every failing rule."""
    proposed = await _proposed(village_id, data)
    committee = await committees.committee_for(village_id, data.elected_on)
    term = (committee.term_start, committee.term_end) if committee else None
    sitting, relatives, posts = await _roster(
        village_id, [m.person_id for m in proposed], data.elected_on
    )
    failures = [
        *rules.term_failures(data.elected_on, term[1] if term else data.elected_on, term),
        *rules.composition_failures(
            proposed,
            committee_person_ids=sitting,
            near_relatives=relatives,
            posts=posts,
            rules=rules_in_force,
        ),
    ]
    return proposed, term, failures


async def record_committee(
    user: CurrentUser,
    village_id: int,
    data: CommitteeIn,
    *,
    rules_in_force: CompositionRules = DEFAULT_RULES,
) -> CommitteeOut:
    """Record the committee the villagers elected (township staff of the village's township).

    Every rule is checked first; any failure refuses the whole record
    (:class:`villageaffairs.legal.RulesViolated`, listing each with its article).
    A record still in draft or returned is replaced in place; one with the township
    or the county is locked; an accepted one is superseded by this record, which
    then needs a reason.
    """
    await require_township_writer(user, village_id)
    proposed, term, failures = await check_committee(
        village_id, data, rules_in_force=rules_in_force
    )
    raise_if(failures)
    assert term is not None
    reason = data.reason.strip()[:MAX_REASON]
    actor = Actor.account(user.account_id)
    async with db.write_transaction():
        current = await active_committee(village_id)
        report = await report_of(current.id) if current else None
        replace_id: int | None = None
        if current is not None:
            if report is not None and report.status.value in (
                ReportStatus.submitted.value,
                ReportStatus.township_approved.value,
            ):
                raise RecordLocked(status=report.status.value)
            if report is not None and report.status is ReportStatus.accepted:
                if not reason:
                    raise ReasonRequired()
                await SupervisoryCommittee.update(
                    {SupervisoryCommittee.status: CommitteeStatus.superseded.value}
                ).where(SupervisoryCommittee.id == current.id)
            else:
                replace_id = current.id
        values: dict[Any, Any] = {
            SupervisoryCommittee.elected_on: data.elected_on,
            SupervisoryCommittee.forum: data.forum.value,
            SupervisoryCommittee.term_start: data.elected_on,
            SupervisoryCommittee.term_end: term[1],
            SupervisoryCommittee.recorded_by: user.account_id,
            SupervisoryCommittee.recorded_at: dt.datetime.now(dt.UTC),
            SupervisoryCommittee.version_reason: reason,
        }
        if replace_id is not None:
            await SupervisoryCommittee.update(values).where(SupervisoryCommittee.id == replace_id)
            await SupervisoryMember.delete().where(SupervisoryMember.committee == replace_id)
            committee_id = replace_id
        else:
            fields: dict[str, Any] = {column._meta.name: value for column, value in values.items()}
            rows = await SupervisoryCommittee.insert(
                SupervisoryCommittee(
                    village=village_id, status=CommitteeStatus.active.value, **fields
                )
            ).returning(SupervisoryCommittee.id)
            committee_id = int(rows[0]["id"])
        await SupervisoryMember.insert(
            *(
                SupervisoryMember(
                    committee=committee_id,
                    person_id=member.person_id,
                    name=member.name,
                    post=member.post,
                    accounting_knowledge=member.accounting_knowledge,
                    management_knowledge=member.management_knowledge,
                    position=position,
                )
                for position, member in enumerate(
                    sorted(proposed, key=lambda m: m.post != ScPost.chair.value)
                )
            )
        )
        new_report = await reports.create_report(user, REPORT_KIND, village_id, committee_id)
        await SupervisoryCommittee.update({SupervisoryCommittee.report_id: new_report.id}).where(
            SupervisoryCommittee.id == committee_id
        )
        await append_event(
            actor,
            "supervisory_committee.recorded",
            "supervisory_committee",
            committee_id,
            {
                "village_id": village_id,
                "members": len(proposed),
                "replaces": current.id if current and replace_id is None else None,
            },
        )
        await CHANGED.changed(village_id)
    return await get_committee(committee_id)


async def _submit_check(committee_id: int) -> None:
    row = (
        await SupervisoryCommittee.select(SupervisoryCommittee.status)
        .where(SupervisoryCommittee.id == committee_id)
        .first()
    )
    if row is None or row["status"] != CommitteeStatus.active.value:
        raise NotActive()


reports.register_submit_check(REPORT_KIND, _submit_check)
reports.register_subject_url(
    REPORT_KIND, lambda cid: f"/villageaffairs/supervision/committees/{cid}"
)


# --- work reports -----------------------------------------------------------------------


async def work_reports(committee_id: int) -> list[WorkReportOut]:
    rows = (
        await WorkReport.select()
        .where(WorkReport.committee == committee_id)
        .order_by(WorkReport.period)
    )
    return [
        WorkReportOut(
            id=row["id"],
            period=row["period"],
            due_on=_date(row["due_on"]),
            submitted_on=_date(row["submitted_on"]),
            late=_date(row["submitted_on"]) > _date(row["due_on"]),
            to_discipline_commission=bool(row["to_discipline_commission"]),
            to_civil_affairs=bool(row["to_civil_affairs"]),
            summary=row["summary"],
        )
        for row in rows
    ]


async def periods_due(
    committee: CommitteeOut,
    *,
    today: dt.date | None = None,
    rules_in_force: CompositionRules = DEFAULT_RULES,
) -> list[PeriodDue]:
    """Every period the committee owes a work report for, and whether it reported."""
    today = today or today_local()
    submitted = {r.period: r.submitted_on for r in await work_reports(committee.id)}
    start = committee.recorded_at.date()
    answer = []
    for period, due_on in rules.expected_periods(start, today, rules_in_force):
        done = submitted.get(period)
        overdue = (today - due_on).days if done is None and today > due_on else 0
        answer.append(PeriodDue(period, due_on, done, overdue))
    return answer


async def record_work_report(
    user: CurrentUser,
    village_id: int,
    data: WorkReportIn,
    *,
    rules_in_force: CompositionRules = DEFAULT_RULES,
) -> WorkReportOut:
    """Log a work report the committee sent to the county discipline commission and
    the civil affairs bureau (township staff record it for their villages)."""
    await require_township_writer(user, village_id)
    committee = await active_committee(village_id)
    if committee is None:
        raise CommitteeNotFound(committee_id=0)
    # Periods that have ended by the report's date, and the one it falls in.
    horizon = data.submitted_on + dt.timedelta(days=31 * rules_in_force.report_every_months)
    owed = {
        p.period: p
        for p in await periods_due(committee, today=horizon, rules_in_force=rules_in_force)
    }
    period = data.period.strip()
    if period not in owed:
        raise BadPeriod(field="period", period=period[:16])
    if not (data.to_discipline_commission or data.to_civil_affairs):
        raise BadPeriod(field="period", period=period)
    async with db.write_transaction():
        existing = await WorkReport.exists().where(
            (WorkReport.committee == committee.id) & (WorkReport.period == period)
        )
        if existing:
            raise BadPeriod(field="period", period=period)
        rows = await WorkReport.insert(
            WorkReport(
                committee=committee.id,
                period=period,
                due_on=owed[period].due_on,
                submitted_on=data.submitted_on,
                to_discipline_commission=data.to_discipline_commission,
                to_civil_affairs=data.to_civil_affairs,
                summary=data.summary.strip()[:MAX_SUMMARY],
                recorded_by=user.account_id,
            )
        ).returning(WorkReport.id)
        await append_event(
            Actor.account(user.account_id),
            "supervisory_committee.work_report",
            "supervisory_committee",
            committee.id,
            {"period": period, "submitted_on": data.submitted_on.isoformat()},
        )
    return next(r for r in await work_reports(committee.id) if r.id == rows[0]["id"])


async def overdue_work_reports(
    user: CurrentUser,
    *,
    today: dt.date | None = None,
    rules_in_force: CompositionRules = DEFAULT_RULES,
) -> list[OverdueRow]:
    """Every active committee's overdue work reports the user may see, longest first."""
    from tipline.orgunits.services import visible_unit_ids

    today = today or today_local()
    visible = await visible_unit_ids(user)
    rows = await SupervisoryCommittee.select(
        SupervisoryCommittee.id,
        SupervisoryCommittee.village,
        SupervisoryCommittee.village.name.as_alias("village_name"),
        SupervisoryCommittee.village.parent.as_alias("township_id"),
    ).where(SupervisoryCommittee.status == CommitteeStatus.active.value)
    townships = {
        row["id"]: row["name"]
        for row in await OrgUnit.select(OrgUnit.id, OrgUnit.name).where(
            OrgUnit.id.is_in(list({r["township_id"] for r in rows}) or [0])
        )
    }
    answer = []
    for row in rows:
        if row["village"] not in visible:
            continue
        committee = await get_committee(row["id"])
        for due in await periods_due(committee, today=today, rules_in_force=rules_in_force):
            if due.overdue_days:
                answer.append(
                    OverdueRow(
                        village_id=row["village"],
                        village_name=row["village_name"],
                        township_name=townships.get(row["township_id"], ""),
                        period=due.period,
                        due_on=due.due_on,
                        overdue_days=due.overdue_days,
                    )
                )
    return sorted(answer, key=lambda r: (-r.overdue_days, r.village_name))


# --- pages ------------------------------------------------------------------------------


async def village_page(
    user: CurrentUser, village_id: int, today: dt.date | None = None
) -> dict[str, Any]:
    """What the township's page of one village shows."""
    village = await require_village(user, village_id)
    committee = await active_committee(village_id)
    report = await report_of(committee.id) if committee else None
    village_committee = await committees.committee_for(village_id, today or today_local())
    return {
        "village": village,
        "committee": committee,
        "report_view": await reports.report_view(user, report),
        "people": await people.people_of_village(village_id),
        "village_committee": village_committee,
        "work_reports": await work_reports(committee.id) if committee else [],
        "periods": await periods_due(committee, today=today) if committee else [],
        "record_deadline": (
            rules.record_deadline(committee.elected_on.year) if committee else None
        ),
    }


async def public_committee(village_id: int) -> CommitteeOut | None:
    """The committee shown on the public page: names and posts only (the caller shows
    nothing else of :class:`CommitteeOut`)."""
    return await active_committee(village_id)
