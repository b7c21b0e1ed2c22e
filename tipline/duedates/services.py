"""Deadlines of cases: rules, due dates stored on the case, the sweep and escalations.

Rules and where they come from (defaults in :data:`DEFAULT_RULES`, editable by the admin):

- 纪检监察机关处理检举控告工作规则 (2020) Art. 15–16: a tip is registered and handed
  over (transferred) within 5 working days of receipt; 不得瞒报、漏报、迟报.
- Art. 18: a real-name tipster is told of acceptance within 15 working days and of the
  result within 15 working days of closing.
- Local 快速移送、快速反馈 rules (see ../shared/domain/tip-handling.md): assessment
  within 1 working day, the authority's feedback within 15 working days of transfer,
  a first reply to the tipster within 5 working days. No national rule fixes these, so
  every number is a row the admin may change.

Due dates are counted in working days with the county's calendar
(:mod:`tipline.workdays.services`: statutory holidays, make-up working days and the
county's overrides) when the triggering event happens, and stored
(docs/ARCHITECTURE.md principle 5).
The sweep only reads the stored rows: it warns at 50/75/90/100 % of each window and,
at breach, escalates to the discipline inspectors and the bureau leader. Every step
is idempotent (compare-and-set on the row, dedupe keys on the notifications), so a
sweep repeated, or run by two processes, sends nothing twice.

An escalation is a custody event (``tip.deadline_escalated``). The officer cannot
dismiss it: it resolves itself when the deadline is met, or the inspector resolves it
with a reason (``tip.escalation_resolved``), which is itself in the ledger.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any, Literal

import msgspec

from tipline import db
from tipline.accounts.tables import Account
from tipline.auth import CurrentUser, Role
from tipline.cases import lifecycle
from tipline.cases import services as cases
from tipline.cases.lifecycle import FINAL, Action, Status, TransitionDone
from tipline.cases.schemas import NextDeadlineOut
from tipline.cases.tables import CaseFile
from tipline.duedates.tables import CaseDeadline, DeadlineRule
from tipline.errors import Forbidden, Invalid, NotFound
from tipline.intake.tables import Tip
from tipline.ledger.services import SYSTEM, Actor, append_event
from tipline.ledger.tables import CustodyEvent
from tipline.notifications import services as notifications
from tipline.workdays.services import LOCAL_TIMEZONE, WorkingCalendar, load_calendar

State = Literal["ok", "warning", "overdue"]


class Trigger(StrEnum):
    """The moment a deadline starts from: its tip reaching one of these statuses."""

    received = Status.received.value
    transferred = Status.transferred.value
    closed = Status.closed.value


TRIGGERS: tuple[str, ...] = tuple(Trigger)
WARNING_THRESHOLDS = (50, 75, 90, 100)
WARNING_STATE_FROM = 75
MAX_WORKING_DAYS = 120
MAX_REASON_CHARS = 500

SATISFYING_EVENTS: tuple[str, ...] = (
    "tip.registered",
    "tip.assessment_started",
    "tip.transferred",
    "tip.feedback_recorded",
    "tip.closed",
    "tip.message_sent",
)
"""The custody events a rule may name as meeting it (lifecycle steps and a reply)."""


class RuleDefault(msgspec.Struct, frozen=True):
    kind: str
    trigger: Trigger
    working_days: int
    satisfied_by: tuple[str, ...]
    real_name_only: bool = False


DEFAULT_RULES: tuple[RuleDefault, ...] = (
    RuleDefault("assess", Trigger.received, 1, ("tip.assessment_started", "tip.transferred")),
    # 检举控告工作规则 Art. 15–16: handed over within 5 working days.
    RuleDefault("transfer", Trigger.received, 5, ("tip.transferred",)),
    RuleDefault("feedback", Trigger.transferred, 15, ("tip.feedback_recorded",)),
    RuleDefault("first_reply", Trigger.received, 5, ("tip.message_sent",)),
    # 检举控告工作规则 Art. 18: real-name tipsters, acceptance and result.
    RuleDefault(
        "acceptance_notice", Trigger.received, 15, ("tip.message_sent",), real_name_only=True
    ),
    RuleDefault("result_notice", Trigger.closed, 15, ("tip.message_sent",), real_name_only=True),
)
KINDS = tuple(rule.kind for rule in DEFAULT_RULES)


class RuleNotFound(NotFound):
    message_key = "duedates.error.rule_not_found"


class BadRule(Invalid):
    message_key = "duedates.error.bad_rule"


class EscalationNotFound(NotFound):
    message_key = "duedates.error.escalation_not_found"


class OnlyInspectorResolves(Forbidden):
    """An officer cannot make an escalation go away except by acting on the case."""

    message_key = "duedates.error.only_inspector"


class ReasonRequired(Invalid):
    message_key = "duedates.error.reason_required"


# --- structs other packages use ------------------------------------------------------------


class NextDeadline(msgspec.Struct, frozen=True):
    """A tip's earliest open deadline, as the ledger list shows it."""

    kind: str
    due_on: dt.date
    state: State


class OfficerDeadlineCounts(msgspec.Struct, frozen=True):
    """Open deadlines of one assigned officer by state (``officer_id`` None: unassigned)."""

    officer_id: int | None
    officer_name: str | None
    on_time: int
    warning: int
    overdue: int


class EscalationOut(msgspec.Struct, frozen=True):
    id: int
    tip_id: int
    ledger_no: str
    kind: str
    due_on: dt.date
    escalated_at: dt.datetime
    assigned_officer_id: int | None
    officer_name: str | None
    resolved_at: dt.datetime | None = None
    resolution: str | None = None
    resolution_reason: str = ""
    escalated_local: str = ""
    """``escalated_at`` in China time, as pages show it."""


class DeadlineOut(msgspec.Struct, frozen=True):
    id: int
    kind: str
    start_day: dt.date
    due_on: dt.date
    outcome: str
    met_at: dt.datetime | None
    state: State | None
    percent: int
    escalated: bool


class RuleOut(msgspec.Struct, frozen=True):
    id: int
    kind: str
    trigger: str
    working_days: int
    satisfied_by: list[str]
    real_name_only: bool
    active: bool


class RuleInput(msgspec.Struct, forbid_unknown_fields=True):
    trigger: str
    working_days: int
    satisfied_by: list[str]
    real_name_only: bool = False
    active: bool = True


class SweepResult(msgspec.Struct, frozen=True):
    met: int
    warnings: int
    escalations: int


# --- helpers -------------------------------------------------------------------------------


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def local_day(moment: dt.datetime) -> dt.date:
    """The day in China of a moment (deadlines count local days)."""
    return _aware(moment).astimezone(LOCAL_TIMEZONE).date()


def today_local(now: dt.datetime | None = None) -> dt.date:
    return local_day(now or utcnow())


def working_days_between(calendar: WorkingCalendar, start: dt.date, end: dt.date) -> int:
    """Working days in ``(start, end]`` (0 when ``end <= start``)."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        if calendar.is_working_day(day):
            count += 1
    return count


def percent_elapsed(
    calendar: WorkingCalendar, start: dt.date, due_on: dt.date, n: int, today: dt.date
) -> int:
    """How much of the window has gone, in whole percent of its working days.

    The window is the ``n`` working days after ``start``; the due day itself reaches
    100 %, any day after it is 101 % (how far past is not counted: for a deadline
    overdue since years that walk over the calendar cost milliseconds per row, and the
    ledger lists every open deadline).
    """
    if today > due_on:
        return 101
    if n <= 0:
        return 100
    return working_days_between(calendar, start, min(today, due_on)) * 100 // n


def state_of(percent: int, due_on: dt.date, today: dt.date) -> State:
    if today > due_on:
        return "overdue"
    return "warning" if percent >= WARNING_STATE_FROM else "ok"


def _satisfied(row: dict[str, Any]) -> list[str]:
    return [item for item in str(row["satisfied_by"]).split(",") if item]


# --- rules ---------------------------------------------------------------------------------


_rules_ensured_for: list[Any] = []


async def ensure_default_rules() -> None:
    """Insert the default rules that are missing (the first time, or a new default kind).

    Rules are never deleted, so once a process has seen them all for a database it does
    not ask again (this runs in the tip box's transaction).
    """
    engine = db.engine()
    if any(seen is engine for seen in _rules_ensured_for):
        return
    existing = {row["kind"] for row in await DeadlineRule.select(DeadlineRule.kind)}
    missing = [rule for rule in DEFAULT_RULES if rule.kind not in existing]
    if not missing:
        _rules_ensured_for[:] = [engine]
        return
    async with db.write_transaction():
        for rule in missing:
            await DeadlineRule.insert(
                DeadlineRule(
                    kind=rule.kind,
                    trigger=rule.trigger,
                    working_days=rule.working_days,
                    satisfied_by=",".join(rule.satisfied_by),
                    real_name_only=rule.real_name_only,
                    active=True,
                )
            ).on_conflict(action="DO NOTHING")


def _rule_out(row: dict[str, Any]) -> RuleOut:
    return RuleOut(
        id=row["id"],
        kind=row["kind"],
        trigger=row["trigger"],
        working_days=row["working_days"],
        satisfied_by=_satisfied(row),
        real_name_only=bool(row["real_name_only"]),
        active=bool(row["active"]),
    )


async def list_rules() -> list[RuleOut]:
    await ensure_default_rules()
    rows = await DeadlineRule.select().order_by(DeadlineRule.id)
    order = {kind: index for index, kind in enumerate(KINDS)}
    return sorted((_rule_out(row) for row in rows), key=lambda r: order.get(r.kind, 99))


async def update_rule(actor: Actor, rule_id: int, data: RuleInput) -> RuleOut:
    """Change one rule; recorded as ``duedate_rule.changed`` with the old and new values.

    Stored due dates stay as they were computed: the change applies from the next
    triggering event on.
    """
    if data.trigger not in TRIGGERS:
        raise BadRule(field="trigger")
    if not 0 <= data.working_days <= MAX_WORKING_DAYS:
        raise BadRule(field="working_days")
    events = [event for event in SATISFYING_EVENTS if event in set(data.satisfied_by)]
    if not events or len(events) != len(set(data.satisfied_by)):
        raise BadRule(field="satisfied_by")
    async with db.write_transaction():
        row = await DeadlineRule.select().where(DeadlineRule.id == rule_id).first()
        if row is None:
            raise RuleNotFound()
        values = {
            "trigger": data.trigger,
            "working_days": data.working_days,
            "satisfied_by": ",".join(events),
            "real_name_only": data.real_name_only,
            "active": data.active,
        }
        await DeadlineRule.update(
            {
                DeadlineRule.trigger: data.trigger,
                DeadlineRule.working_days: data.working_days,
                DeadlineRule.satisfied_by: values["satisfied_by"],
                DeadlineRule.real_name_only: data.real_name_only,
                DeadlineRule.active: data.active,
                DeadlineRule.updated_at: utcnow(),
            }
        ).where(DeadlineRule.id == rule_id)
        await append_event(
            actor,
            "duedate_rule.changed",
            "duedate_rule",
            rule_id,
            {
                "kind": row["kind"],
                "before": {
                    "trigger": row["trigger"],
                    "working_days": row["working_days"],
                    "satisfied_by": row["satisfied_by"],
                    "real_name_only": bool(row["real_name_only"]),
                    "active": bool(row["active"]),
                },
                "after": values,
            },
        )
    return _rule_out({**row, **values, "id": rule_id})


# --- starting and meeting deadlines (inside the transition's transaction) --------------------


async def _resolve(
    row: dict[str, Any],
    ledger_no: str,
    actor: Actor,
    resolution: str,
    at: dt.datetime,
    reason: str = "",
    resolved_by: int | None = None,
) -> bool:
    changed = (
        await CaseDeadline.update(
            {
                CaseDeadline.resolved_at: at,
                CaseDeadline.resolution: resolution,
                CaseDeadline.resolved_by: resolved_by,
                CaseDeadline.resolution_reason: reason,
            }
        )
        .where(CaseDeadline.id == row["id"], CaseDeadline.resolved_at.is_null())
        .returning(CaseDeadline.id)
    )
    if not changed:
        return False
    payload: dict[str, Any] = {
        "ledger_no": ledger_no,
        "deadline_id": row["id"],
        "kind": row["kind"],
        "resolution": resolution,
    }
    if reason:
        payload["reason"] = reason
    await append_event(actor, "tip.escalation_resolved", "tip", row["tip"], payload)
    return True


async def _meet(
    row: dict[str, Any], ledger_no: str, at: dt.datetime, event_seq: int | None, actor: Actor
) -> bool:
    changed = (
        await CaseDeadline.update(
            {
                CaseDeadline.outcome: "met",
                CaseDeadline.met_at: at,
                CaseDeadline.met_by_event: event_seq,
            }
        )
        .where(CaseDeadline.id == row["id"], CaseDeadline.outcome == "open")
        .returning(CaseDeadline.id)
    )
    if not changed:
        return False
    if row["escalated_at"] is not None and row["resolved_at"] is None:
        await _resolve(row, ledger_no, actor, "met", at)
    return True


_due_memo: tuple[WorkingCalendar | None, dict[tuple[dt.date, int], dt.date]] = (None, {})


def _due_on(calendar: WorkingCalendar, start: dt.date, n: int) -> dt.date:
    """``calendar.add_working_days`` remembered for this calendar snapshot: the tip box asks
    the same few questions (today, 1/5/15 working days) for every tip of the day."""
    global _due_memo
    if _due_memo[0] is not calendar or len(_due_memo[1]) > 10_000:
        _due_memo = (calendar, {})
    memo = _due_memo[1]
    key = (start, n)
    if key not in memo:
        memo[key] = calendar.add_working_days(start, n)
    return memo[key]


_RULES_SQL = (
    "SELECT kind, working_days, satisfied_by, real_name_only FROM deadline_rule "
    "WHERE trigger = {} AND active = {} ORDER BY id"
)
_HAS_IDENTITY_SQL = "SELECT has_identity FROM tip WHERE id = {}"
_DEADLINE_COLUMNS = (
    "tip",
    "kind",
    "rule_working_days",
    "satisfied_by",
    "started_at",
    "start_day",
    "due_on",
    "outcome",
    "warned_percent",
    "resolution_reason",
)


async def _start(tip_id: int, trigger: str, at: dt.datetime) -> int:
    """Store the due dates of every active rule triggered by ``trigger`` for this tip."""
    await ensure_default_rules()
    # Plain statements: on receipt this runs in the tip box's transaction.
    rules = await db.fetch(DeadlineRule, _RULES_SQL, trigger, True)
    if not rules:
        return 0
    tips = await db.fetch(Tip, _HAS_IDENTITY_SQL, tip_id)
    real_name = bool(tips and tips[0]["has_identity"])
    # A tip just received has no deadline yet; later triggers keep an open one running.
    open_kinds = (
        set()
        if trigger == Trigger.received
        else {
            row["kind"]
            for row in await CaseDeadline.select(CaseDeadline.kind).where(
                CaseDeadline.tip == tip_id, CaseDeadline.outcome == "open"
            )
        }
    )
    calendar = await load_calendar()
    start_day = local_day(at)
    rows = [
        (
            tip_id,
            rule["kind"],
            rule["working_days"],
            rule["satisfied_by"],
            at,
            start_day,
            _due_on(calendar, start_day, int(rule["working_days"])),
            "open",
            0,
            "",
        )
        for rule in rules
        if (real_name or not rule["real_name_only"]) and rule["kind"] not in open_kinds
    ]
    await db.insert_values(CaseDeadline, _DEADLINE_COLUMNS, rows)
    return len(rows)


async def _event_seq(tip_id: int, action: str, at: dt.datetime) -> int | None:
    row = (
        await CustodyEvent.select(CustodyEvent.seq)
        .where(
            CustodyEvent.object_type == "tip",
            CustodyEvent.object_id == str(tip_id),
            CustodyEvent.action == action,
        )
        .order_by(CustodyEvent.seq, ascending=False)
        .first()
    )
    return int(row["seq"]) if row else None


async def on_tip_transition(done: TransitionDone) -> None:
    """The :func:`tipline.cases.lifecycle.on_transition` hook: meet, end and start deadlines.

    Runs inside the transition's transaction, so a due date is stored with the event
    that set it, and a met deadline with the step that met it.
    """
    if done.action is not Action.receive:
        open_rows = await CaseDeadline.select().where(
            CaseDeadline.tip == done.tip_id, CaseDeadline.outcome == "open"
        )
        event = lifecycle.TRANSITIONS[done.action].event
        seq = await _event_seq(done.tip_id, event, done.at)
        for row in open_rows:
            if event in _satisfied(row):
                await _meet(row, done.ledger_no, done.at, seq, done.actor)
        if done.target in FINAL:
            # Closed, merged or voided: the remaining steps are no longer owed; an open
            # escalation ends with the officer's (approved) decision, which is on record.
            for row in await CaseDeadline.select().where(
                CaseDeadline.tip == done.tip_id, CaseDeadline.outcome == "open"
            ):
                await CaseDeadline.update({CaseDeadline.outcome: "moot"}).where(
                    CaseDeadline.id == row["id"], CaseDeadline.outcome == "open"
                )
                if row["escalated_at"] is not None and row["resolved_at"] is None:
                    await _resolve(row, done.ledger_no, done.actor, done.target.value, done.at)
    if done.action is Action.receive:
        await _start(done.tip_id, Trigger.received, done.at)
    elif done.action is Action.transfer:
        await _start(done.tip_id, Trigger.transferred, done.at)
    elif done.target is Status.closed:
        await _start(done.tip_id, Trigger.closed, done.at)


def install() -> None:
    """Register the transition hook, and the ledger list's reader of each tip's nearest
    due date (called by ``create_app``; registering twice is harmless)."""
    lifecycle.on_transition(on_tip_transition)
    cases.read_next_deadlines_from(next_deadlines_for_cases)


# --- reading -------------------------------------------------------------------------------


async def _open_rows(
    tip_ids: Sequence[int] | None = None, *, due_from: dt.date | None = None
) -> list[dict[str, Any]]:
    query = CaseDeadline.select(
        *CaseDeadline.all_columns(), CaseDeadline.tip.ledger_no.as_alias("ledger_no")
    ).where(CaseDeadline.outcome == "open")
    if due_from is not None:
        query = query.where(CaseDeadline.due_on >= due_from)
    if tip_ids is not None:
        if not tip_ids:
            return []
        query = query.where(CaseDeadline.tip.is_in(list(tip_ids)))
    return await query.order_by(CaseDeadline.due_on)


async def next_deadlines(
    tip_ids: Sequence[int], *, today: dt.date | None = None
) -> dict[int, NextDeadline]:
    """Each tip's earliest open deadline with its state (warning from 75 % of the window)."""
    today = today or today_local()
    calendar = await load_calendar()
    found: dict[int, NextDeadline] = {}
    for row in await _open_rows(list(tip_ids)):
        tip_id = int(row["tip"])
        if tip_id in found:
            continue
        due_on = _date(row["due_on"])
        percent = percent_elapsed(
            calendar, _date(row["start_day"]), due_on, row["rule_working_days"], today
        )
        found[tip_id] = NextDeadline(row["kind"], due_on, state_of(percent, due_on, today))
    return found


async def next_deadlines_for_cases(
    tip_ids: Sequence[int], today: dt.date | None
) -> dict[int, NextDeadlineOut]:
    """:func:`next_deadlines` as the ledger list of ``tipline.cases`` shows them."""
    found = await next_deadlines(tip_ids, today=today)
    return {
        tip_id: NextDeadlineOut(kind=item.kind, due_on=item.due_on, state=item.state)
        for tip_id, item in found.items()
    }


async def deadlines_of(tip_id: int, *, today: dt.date | None = None) -> list[DeadlineOut]:
    """Every deadline of one tip, open or not, by due date (for the case page)."""
    today = today or today_local()
    calendar = await load_calendar()
    rows = (
        await CaseDeadline.select()
        .where(CaseDeadline.tip == tip_id)
        .order_by(CaseDeadline.due_on)
        .order_by(CaseDeadline.id)
    )
    result = []
    for row in rows:
        due_on, start = _date(row["due_on"]), _date(row["start_day"])
        percent = percent_elapsed(calendar, start, due_on, row["rule_working_days"], today)
        is_open = row["outcome"] == "open"
        result.append(
            DeadlineOut(
                id=row["id"],
                kind=row["kind"],
                start_day=start,
                due_on=due_on,
                outcome=row["outcome"],
                met_at=_aware(row["met_at"]) if row["met_at"] else None,
                state=state_of(percent, due_on, today) if is_open else None,
                percent=min(percent, 100) if is_open else 100,
                escalated=row["escalated_at"] is not None,
            )
        )
    return result


async def _officers(tip_ids: Iterable[int]) -> dict[int, int | None]:
    """The assigned officer of each tip, asked 10,000 tips at a time (a database takes
    at most 32,767 arguments to one statement)."""
    ids = sorted(set(tip_ids))
    found: dict[int, int | None] = {}
    for start in range(0, len(ids), 10_000):
        rows = await CaseFile.select(CaseFile.tip, CaseFile.assigned_officer_id).where(
            CaseFile.tip.is_in(ids[start : start + 10_000])
        )
        found.update({int(row["tip"]): row["assigned_officer_id"] for row in rows})
    return found


async def _names(account_ids: Iterable[int | None]) -> dict[int, str]:
    ids = [i for i in set(account_ids) if i is not None]
    if not ids:
        return {}
    rows = await Account.select(Account.id, Account.display_name).where(Account.id.is_in(ids))
    return {int(row["id"]): row["display_name"] for row in rows}


async def officer_counts(*, today: dt.date | None = None) -> list[OfficerDeadlineCounts]:
    """Open deadlines per assigned officer: on time, warning (≥ 75 %), overdue."""
    today = today or today_local()
    calendar = await load_calendar()
    counts: dict[int | None, dict[str, int]] = {}
    # Past their due day: overdue whatever the calendar says, counted by the database
    # (years of breaches need not come back row by row); hand-written: Piccolo's builder
    # cannot join case_file by its tip (not a foreign key of case_deadline).
    for row in await db.fetch(
        CaseDeadline,
        "SELECT case_file.assigned_officer_id AS officer, count(*) AS n"
        " FROM case_deadline LEFT JOIN case_file ON case_file.tip = case_deadline.tip"
        " WHERE case_deadline.outcome = 'open' AND case_deadline.due_on < {}"
        " GROUP BY case_file.assigned_officer_id",
        today,
    ):
        officer_id = None if row["officer"] is None else int(row["officer"])
        bucket = counts.setdefault(officer_id, {"ok": 0, "warning": 0, "overdue": 0})
        bucket["overdue"] += int(row["n"])
    # Still running: on time or warning by the working days gone, one by one.
    rows = await _open_rows(due_from=today)
    officers = await _officers(int(row["tip"]) for row in rows)
    for row in rows:
        due_on = _date(row["due_on"])
        percent = percent_elapsed(
            calendar, _date(row["start_day"]), due_on, row["rule_working_days"], today
        )
        state = state_of(percent, due_on, today)
        officer = officers.get(int(row["tip"]))
        bucket = counts.setdefault(officer, {"ok": 0, "warning": 0, "overdue": 0})
        bucket[state] += 1
    names = await _names(counts)
    return sorted(
        (
            OfficerDeadlineCounts(
                officer_id=officer,
                officer_name=names.get(officer) if officer is not None else None,
                on_time=bucket["ok"],
                warning=bucket["warning"],
                overdue=bucket["overdue"],
            )
            for officer, bucket in counts.items()
        ),
        key=lambda item: (item.officer_id is None, item.officer_name or "", item.officer_id or 0),
    )


async def _escalations(where: Any, limit: int | None = None) -> list[EscalationOut]:
    query = (
        CaseDeadline.select(
            *CaseDeadline.all_columns(), CaseDeadline.tip.ledger_no.as_alias("ledger_no")
        )
        .where(CaseDeadline.escalated_at.is_not_null())
        .where(where)
        .order_by(CaseDeadline.escalated_at, ascending=limit is None)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = await query
    officers = await _officers(int(row["tip"]) for row in rows)
    names = await _names(officers.values())
    result = []
    for row in rows:
        officer = officers.get(int(row["tip"]))
        result.append(
            EscalationOut(
                id=row["id"],
                tip_id=int(row["tip"]),
                ledger_no=row["ledger_no"],
                kind=row["kind"],
                due_on=_date(row["due_on"]),
                escalated_at=_aware(row["escalated_at"]),
                assigned_officer_id=officer,
                officer_name=names.get(officer) if officer is not None else None,
                resolved_at=_aware(row["resolved_at"]) if row["resolved_at"] else None,
                resolution=row["resolution"],
                resolution_reason=row["resolution_reason"] or "",
                escalated_local=_aware(row["escalated_at"])
                .astimezone(LOCAL_TIMEZONE)
                .strftime("%Y-%m-%d %H:%M"),
            )
        )
    return result


async def open_escalations() -> list[EscalationOut]:
    """Breached deadlines not yet resolved, oldest escalation first."""
    return await _escalations(CaseDeadline.resolved_at.is_null())


async def resolved_escalations(limit: int = 50) -> list[EscalationOut]:
    return await _escalations(CaseDeadline.resolved_at.is_not_null(), limit)


async def resolve_escalation(
    user: CurrentUser, deadline_id: int, reason: str, *, now: dt.datetime | None = None
) -> None:
    """The inspector closes an escalation with a reason (督办 on record); nobody else may.

    An officer who wants it gone must act on the case: meeting the deadline resolves it.
    """
    if user.role is not Role.inspector:
        raise OnlyInspectorResolves()
    text = reason.strip()
    if not text:
        raise ReasonRequired()
    if len(text) > MAX_REASON_CHARS:
        raise BadRule(field="reason")
    async with db.write_transaction():
        row = (
            await CaseDeadline.select(
                *CaseDeadline.all_columns(), CaseDeadline.tip.ledger_no.as_alias("ledger_no")
            )
            .where(
                CaseDeadline.id == deadline_id,
                CaseDeadline.escalated_at.is_not_null(),
                CaseDeadline.resolved_at.is_null(),
            )
            .first()
        )
        if row is None:
            raise EscalationNotFound()
        await _resolve(
            row,
            row["ledger_no"],
            Actor.account(user.account_id),
            "inspector",
            now or utcnow(),
            text,
            user.account_id,
        )


# --- the sweep -----------------------------------------------------------------------------


async def mark_met_from_events() -> int:
    """Meet open deadlines whose satisfying event is in the ledger but not from a transition
    (a reply to the tipster, ``tip.message_sent``); the event's time is the met time."""
    rows = await _open_rows()
    if not rows:
        return 0
    wanted = {event for row in rows for event in _satisfied(row)}
    tips = sorted({str(row["tip"]) for row in rows})
    events: list[dict[str, Any]] = []
    for start in range(0, len(tips), 500):
        events += (
            await CustodyEvent.select(
                CustodyEvent.seq,
                CustodyEvent.occurred_at,
                CustodyEvent.action,
                CustodyEvent.object_id,
                CustodyEvent.actor_type,
                CustodyEvent.actor_id,
            )
            .where(
                CustodyEvent.object_type == "tip",
                CustodyEvent.object_id.is_in(tips[start : start + 500]),
                CustodyEvent.action.is_in(sorted(wanted)),
            )
            .order_by(CustodyEvent.seq)
        )
    by_tip: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_tip.setdefault(event["object_id"], []).append(event)
    met = 0
    for row in rows:
        started = _aware(row["started_at"])
        satisfied = _satisfied(row)
        match = next(
            (
                event
                for event in by_tip.get(str(row["tip"]), [])
                if event["action"] in satisfied and _aware(event["occurred_at"]) >= started
            ),
            None,
        )
        if match is None:
            continue
        actor = Actor(match["actor_type"], match["actor_id"])
        async with db.write_transaction():
            if await _meet(
                row, row["ledger_no"], _aware(match["occurred_at"]), match["seq"], actor
            ):
                met += 1
    return met


def _link(ledger_no: str) -> str:
    return f"/cases/{ledger_no}"


async def _warn(
    row: dict[str, Any], threshold: int, officer: int | None, all_officers: list[int]
) -> int:
    params = {
        "ledger_no": row["ledger_no"],
        "due_on": _date(row["due_on"]).isoformat(),
        "percent": str(threshold),
    }
    key = f"duedates.notice.warning.{row['kind']}"
    dedupe = f"deadline:{row['id']}:{threshold}"
    receivers = [officer] if officer is not None else all_officers
    return await notifications.notify(
        receivers, "deadline", key, params, _link(row["ledger_no"]), dedupe_key=dedupe
    )


async def _escalate(row: dict[str, Any], now: dt.datetime, overseers: list[int]) -> bool:
    changed = (
        await CaseDeadline.update({CaseDeadline.escalated_at: now})
        .where(
            CaseDeadline.id == row["id"],
            CaseDeadline.escalated_at.is_null(),
            CaseDeadline.outcome == "open",
        )
        .returning(CaseDeadline.id)
    )
    if not changed:
        return False
    due_on = _date(row["due_on"]).isoformat()
    await append_event(
        SYSTEM,
        "tip.deadline_escalated",
        "tip",
        row["tip"],
        {
            "ledger_no": row["ledger_no"],
            "deadline_id": row["id"],
            "kind": row["kind"],
            "due_on": due_on,
        },
    )
    await notifications.notify(
        overseers,
        "escalation",
        f"duedates.notice.escalated.{row['kind']}",
        {"ledger_no": row["ledger_no"], "due_on": due_on},
        "/escalations",
        dedupe_key=f"escalation:{row['id']}",
    )
    return True


async def sweep(*, today: dt.date | None = None, now: dt.datetime | None = None) -> SweepResult:
    """One idempotent pass: meet from the ledger, warn at 50/75/90/100 %, escalate at breach.

    Each deadline is handled in its own transaction with compare-and-set updates, and
    every message has a dedupe key: a second run, or a second process, sends nothing new.
    """
    now = now or utcnow()
    today = today or today_local(now)
    met = await mark_met_from_events()
    calendar = await load_calendar()
    rows = await _open_rows()
    officers = await _officers(int(row["tip"]) for row in rows)
    all_officers = await notifications.accounts_with_role(Role.officer)
    overseers = await notifications.accounts_with_role(
        Role.inspector
    ) + await notifications.accounts_with_role(Role.leader)
    warnings = escalations = 0
    for row in rows:
        due_on = _date(row["due_on"])
        percent = percent_elapsed(
            calendar, _date(row["start_day"]), due_on, row["rule_working_days"], today
        )
        reached = max((t for t in WARNING_THRESHOLDS if percent >= t), default=0)
        breached = today > due_on
        if reached <= row["warned_percent"] and not (breached and row["escalated_at"] is None):
            continue
        async with db.write_transaction():
            if reached > row["warned_percent"]:
                changed = (
                    await CaseDeadline.update({CaseDeadline.warned_percent: reached})
                    .where(
                        CaseDeadline.id == row["id"],
                        CaseDeadline.warned_percent < reached,
                        CaseDeadline.outcome == "open",
                    )
                    .returning(CaseDeadline.id)
                )
                if changed:
                    await _warn(row, reached, officers.get(int(row["tip"])), all_officers)
                    warnings += 1
            if breached and row["escalated_at"] is None and await _escalate(row, now, overseers):
                escalations += 1
    return SweepResult(met=met, warnings=warnings, escalations=escalations)


async def sweep_job() -> None:
    """The scheduler's ``duedates-sweep`` job."""
    await sweep()
