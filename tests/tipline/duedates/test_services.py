"""Due dates across the 2020 holidays, the sweep's warnings and escalations with frozen time,
idempotence, meeting deadlines, rule changes; on both databases."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from tests.conftest import make_account, run_cli
from tests.tipline.duedates.support import china, received_tip
from tipline.auth import Role
from tipline.cases.lifecycle import Action, Status, TransitionDone
from tipline.duedates import services
from tipline.duedates.services import NextDeadline, RuleInput
from tipline.duedates.tables import CaseDeadline
from tipline.ledger.services import Actor, append_event, events_for
from tipline.notifications.tables import Notification
from tipline.settings import Settings

ADMIN = Actor.account(1)


async def _due(tip_id: int) -> dict[str, dt.date]:
    return {item.kind: item.due_on for item in await services.deadlines_of(tip_id)}


async def _transition(
    tip_id: int, ledger_no: str, action: Action, source: Status, target: Status, at: dt.datetime
) -> None:
    """What apply_transition tells its hooks, at a past moment."""
    await services.on_tip_transition(
        TransitionDone(tip_id, ledger_no, action, source, target, Actor.account(99), at, {})
    )


async def _notices(key_prefix: str) -> list[dict[str, Any]]:
    return list(
        await Notification.select()
        .where(Notification.message_key.like(key_prefix + "%"))
        .order_by(Notification.id)
    )


async def test_labour_day_2020_due_dates_skip_the_holiday_and_count_the_saturday(
    tipline_db: Settings,
) -> None:
    # Received Wednesday 2020-04-29. 05-01..05 are off; Saturday 05-09 is a working day.
    tip_id, _ = await received_tip(china(2020, 4, 29))
    due = await _due(tip_id)
    assert due == {
        "assess": dt.date(2020, 4, 30),
        "transfer": dt.date(2020, 5, 9),
        "first_reply": dt.date(2020, 5, 9),
    }


async def test_feedback_is_counted_from_the_transfer_over_the_sunday_make_up_day(
    tipline_db: Settings,
) -> None:
    # Transferred Friday 2020-04-24; Sunday 04-26 is a make-up working day.
    tip_id, ledger_no = await received_tip(china(2020, 4, 22))
    await _transition(
        tip_id,
        ledger_no,
        Action.transfer,
        Status.registered,
        Status.transferred,
        china(2020, 4, 24, 16),
    )
    deadlines = {item.kind: item for item in await services.deadlines_of(tip_id)}
    assert deadlines["feedback"].due_on == dt.date(2020, 5, 18)
    assert deadlines["feedback"].outcome == "open"
    # The transfer met the transfer and assessment deadlines.
    assert deadlines["transfer"].outcome == "met"
    assert deadlines["assess"].outcome == "met"
    assert deadlines["first_reply"].outcome == "open"


async def test_national_day_2020_due_dates(tipline_db: Settings) -> None:
    # Received Friday 2020-09-25: Sunday 09-27 works, 10-01..08 off, Saturday 10-10 works.
    tip_id, _ = await received_tip(china(2020, 9, 25), real_name=True)
    assert await _due(tip_id) == {
        "assess": dt.date(2020, 9, 27),
        "transfer": dt.date(2020, 10, 9),
        "first_reply": dt.date(2020, 10, 9),
        "acceptance_notice": dt.date(2020, 10, 22),
    }


async def test_real_name_rules_apply_only_to_real_name_tips(tipline_db: Settings) -> None:
    anonymous, ledger_a = await received_tip(china(2020, 9, 25))
    named, ledger_n = await received_tip(china(2020, 9, 25), real_name=True)
    assert "acceptance_notice" not in await _due(anonymous)
    for tip_id, ledger_no in ((anonymous, ledger_a), (named, ledger_n)):
        await _transition(
            tip_id,
            ledger_no,
            Action.close_without_transfer,
            Status.registered,
            Status.closed,
            china(2020, 9, 30),
        )
    # Closing ends what is no longer owed and starts the real-name result notice.
    assert {item.kind: item.outcome for item in await services.deadlines_of(named)} == {
        "assess": "moot",
        "transfer": "moot",
        "first_reply": "moot",
        "acceptance_notice": "moot",
        "result_notice": "open",
    }
    assert (await _due(named))["result_notice"] == dt.date(2020, 10, 28)
    assert "result_notice" not in await _due(anonymous)


async def test_the_sweep_warns_at_each_threshold_once_and_escalates_at_breach(
    tipline_db: Settings,
) -> None:
    officer = await make_account(Role.officer)
    other_officer = await make_account(Role.officer)
    inspector = await make_account(Role.inspector)
    leader = await make_account(Role.leader)
    tip_id, ledger_no = await received_tip(china(2020, 9, 25), officer_id=officer["id"])
    # Only the transfer deadline matters here.
    await CaseDeadline.update({CaseDeadline.outcome: "moot"}).where(
        CaseDeadline.tip == tip_id, CaseDeadline.kind != "transfer"
    )

    async def run(day: dt.date) -> services.SweepResult:
        return await services.sweep(today=day, now=china(day.year, day.month, day.day, 9))

    def percents(rows: list[dict[str, Any]]) -> list[str]:
        import json

        return [json.loads(row["params"])["percent"] for row in rows]

    expected = [
        (dt.date(2020, 9, 27), []),  # 1 of 5 working days: 20 %
        (dt.date(2020, 9, 28), []),  # 40 %
        (dt.date(2020, 9, 29), ["50"]),  # 60 %
        (dt.date(2020, 9, 30), ["50", "75"]),  # 80 %
        (dt.date(2020, 10, 5), ["50", "75"]),  # the holiday: still 80 %
        (dt.date(2020, 10, 9), ["50", "75", "100"]),  # the due day
    ]
    for day, sent in expected:
        await run(day)
        await run(day)  # a second run sends nothing new
        warnings = await _notices("duedates.notice.warning.transfer")
        assert percents(warnings) == sent, day
        assert {row["account"] for row in warnings} <= {officer["id"]}
    state = await services.next_deadlines([tip_id], today=dt.date(2020, 10, 9))
    assert state == {tip_id: NextDeadline("transfer", dt.date(2020, 10, 9), "warning")}
    assert await services.open_escalations() == []

    # Saturday 10-10 is a make-up working day: the deadline is breached.
    first = await run(dt.date(2020, 10, 10))
    again = await run(dt.date(2020, 10, 10))
    assert (first.escalations, again.escalations) == (1, 0)
    escalated = await _notices("duedates.notice.escalated.transfer")
    assert sorted(row["account"] for row in escalated) == sorted([inspector["id"], leader["id"]])
    assert other_officer["id"] not in {row["account"] for row in escalated}
    events = [e for e in await events_for("tip", tip_id) if e["action"] == "tip.deadline_escalated"]
    assert len(events) == 1
    assert ledger_no in events[0]["payload"]
    [open_one] = await services.open_escalations()
    assert (open_one.ledger_no, open_one.kind, open_one.assigned_officer_id) == (
        ledger_no,
        "transfer",
        officer["id"],
    )
    state = await services.next_deadlines([tip_id], today=dt.date(2020, 10, 10))
    assert state[tip_id].state == "overdue"
    counts = await services.officer_counts(today=dt.date(2020, 10, 10))
    assert [(c.officer_id, c.on_time, c.warning, c.overdue) for c in counts] == [
        (officer["id"], 0, 0, 1)
    ]
    # Nothing more on later runs.
    await run(dt.date(2020, 10, 12))
    assert len(await _notices("duedates.notice.escalated")) == 2
    assert len(await _notices("duedates.notice.warning")) == 3


async def test_without_an_assigned_officer_every_officer_is_warned(tipline_db: Settings) -> None:
    first = await make_account(Role.officer)
    second = await make_account(Role.officer)
    await received_tip(china(2020, 4, 29))
    await services.sweep(today=dt.date(2020, 4, 30), now=china(2020, 4, 30))
    warned = {row["account"] for row in await _notices("duedates.notice.warning.assess")}
    assert warned == {first["id"], second["id"]}


async def test_acting_on_the_case_resolves_its_escalation(tipline_db: Settings) -> None:
    await make_account(Role.inspector)
    tip_id, ledger_no = await received_tip(china(2020, 4, 29))
    await services.sweep(today=dt.date(2020, 5, 11), now=china(2020, 5, 11))
    assert {e.kind for e in await services.open_escalations()} == {
        "assess",
        "transfer",
        "first_reply",
    }
    await _transition(
        tip_id,
        ledger_no,
        Action.transfer,
        Status.registered,
        Status.transferred,
        china(2020, 5, 11, 15),
    )
    assert [e.kind for e in await services.open_escalations()] == ["first_reply"]
    resolved = [
        e for e in await events_for("tip", tip_id) if e["action"] == "tip.escalation_resolved"
    ]
    assert len(resolved) == 2
    assert all('"resolution":"met"' in e["payload"] for e in resolved)


async def test_a_reply_to_the_tipster_meets_the_first_reply_deadline(tipline_db: Settings) -> None:
    tip_id, ledger_no = await received_tip(china(2020, 9, 25))
    await append_event(
        Actor.account(5), "tip.message_sent", "tip", tip_id, {"ledger_no": ledger_no}
    )
    result = await services.sweep(today=dt.date(2020, 9, 28), now=china(2020, 9, 28))
    assert result.met == 1
    outcomes = {item.kind: item.outcome for item in await services.deadlines_of(tip_id)}
    assert outcomes["first_reply"] == "met"
    assert outcomes["transfer"] == "open"
    assert (await services.sweep(today=dt.date(2020, 9, 28))).met == 0


async def test_a_rule_change_applies_to_later_tips_only_and_is_recorded(
    tipline_db: Settings,
) -> None:
    before, _ = await received_tip(china(2020, 4, 29))
    rules = {rule.kind: rule for rule in await services.list_rules()}
    transfer = rules["transfer"]
    await services.update_rule(
        ADMIN,
        transfer.id,
        RuleInput(trigger="received", working_days=3, satisfied_by=["tip.transferred"]),
    )
    after, _ = await received_tip(china(2020, 4, 29))
    assert (await _due(before))["transfer"] == dt.date(2020, 5, 9)
    assert (await _due(after))["transfer"] == dt.date(2020, 5, 7)
    [event] = await events_for("duedate_rule", transfer.id)
    assert event["action"] == "duedate_rule.changed"
    assert '"working_days":3' in event["payload"]


async def test_the_scheduler_runs_the_sweep_and_the_mail_jobs(tipline_db: Settings) -> None:
    from tipline.scheduler.services import run_job

    await received_tip(china(2020, 4, 29))
    assert await run_job("duedates-sweep") == "ok"
    assert await run_job("notifications-email") == "ok"
    # Today is long after 2020: every deadline of that tip is escalated.
    assert {e.kind for e in await services.open_escalations()} == {
        "assess",
        "transfer",
        "first_reply",
    }


async def test_the_sweep_command_escalates_and_lists_what_is_open(
    tipline_db: Settings, settings: Settings
) -> None:
    _, ledger_no = await received_tip(china(2020, 4, 29))
    result = await asyncio.to_thread(run_cli, settings, "duedates", "sweep")
    assert result.returncode == 0, result.stderr
    assert "3 new escalations; 3 open escalations" in result.stdout
    assert f"{ledger_no}  transfer  due 2020-05-09" in result.stdout
    again = await asyncio.to_thread(run_cli, settings, "duedates", "sweep")
    assert "0 warnings, 0 new escalations; 3 open escalations" in again.stdout
