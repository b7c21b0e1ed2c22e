"""Task status derived from the records, completeness and timeliness per township, and
the reminders (D-7, D-1, D+1) and escalation (D+3) around 15 April, 31 May and 30 June
2020 with frozen days, sent once however often the sweep runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.conftest import make_account
from tests.villageaffairs.support import make_county, user
from tipline.auth import Role
from tipline.ledger.services import SYSTEM
from tipline.notifications.tables import Notification
from tipline.settings import Settings
from villageaffairs.campaigns import services
from villageaffairs.campaigns.services import TaskSpec
from villageaffairs.campaigns.tables import InstanceStatus, TaskInstance, TaskKind
from villageaffairs.reports.tables import VillageReport
from villageaffairs.villagerules.tables import RulesStatus, RulesVersion

RULES_DUE = dt.date(2020, 4, 15)
ELECTIONS_DUE = dt.date(2020, 5, 31)
SC_DUE = dt.date(2020, 6, 30)


async def _campaign(c: Any) -> int:
    return await services.create_campaign(
        SYSTEM,
        code="2020",
        title="2020年村务扫黑除恶",
        year=2020,
        tasks=[
            TaskSpec(code="rules", title="村规民约", kind=TaskKind.village_rules, due_on=RULES_DUE),
            TaskSpec(
                code="by",
                title="补选",
                kind=TaskKind.by_election,
                due_on=ELECTIONS_DUE,
                village_ids=[c.village_a1, c.village_b1],
            ),
            TaskSpec(
                code="sc",
                title="监委会",
                kind=TaskKind.supervisory_committee,
                due_on=SC_DUE,
            ),
        ],
    )


async def _publish_rules(village: int, on: dt.date) -> None:
    await RulesVersion.insert(
        RulesVersion(
            village=village,
            kind="village_rules",
            version=1,
            title="村规民约",
            text="……不得参与涉黑涉恶活动……",
            anti_gang_marked=True,
            anti_gang_excerpt="不得参与涉黑涉恶活动",
            status=RulesStatus.published.value,
            published_on=on,
            created_by=1,
        )
    )
    await services.refresh_for(TaskKind.village_rules, village)


async def _inbox(account: dict[str, Any]) -> list[tuple[str, str]]:
    rows = (
        await Notification.select(Notification.message_key, Notification.dedupe)
        .where(Notification.account == account["id"])
        .order_by(Notification.id)
    )
    return [(row["message_key"], row["dedupe"].rsplit(":", 1)[1]) for row in rows]


async def test_status_comes_from_the_records(tipline_db: Settings) -> None:
    c = await make_county()
    campaign_id = await _campaign(c)
    board = await services.dashboard(campaign_id, today=dt.date(2020, 4, 1))
    by_township = {row.township_id: row for row in board.townships}
    assert [cell.expected for cell in by_township[c.town_a].cells] == [2, 1, 2]
    assert [cell.expected for cell in by_township[c.town_b].cells] == [1, 1, 1]
    assert {cell.colour for cell in by_township[c.town_a].cells} == {"pending"}

    await _publish_rules(c.village_a1, dt.date(2020, 4, 10))
    await _publish_rules(c.village_b1, dt.date(2020, 4, 20))
    county = user(Role.county_staff, c.county, 13)
    # A by-election report accepted by the county (the by-election itself is another
    # package's record; its report is what the task reads).
    await VillageReport.insert(
        VillageReport(
            kind="by_election",
            village=c.village_a1,
            subject_id=501,
            status="accepted",
            created_by=11,
            accepted_at=dt.datetime(2020, 5, 29, 2, tzinfo=dt.UTC),
        )
    )
    await services.refresh_all()

    board = await services.dashboard(campaign_id, today=dt.date(2020, 6, 1))
    by_township = {row.township_id: row for row in board.townships}
    rules_a, by_a, _ = by_township[c.town_a].cells
    rules_b, by_b, _ = by_township[c.town_b].cells
    assert (rules_a.done, rules_a.on_time, rules_a.completeness) == (1, 1, 0.5)
    assert (rules_b.done, rules_b.on_time, rules_b.timeliness) == (1, 0, 0.0)
    assert rules_a.colour == "warn" and rules_b.colour == "good"
    assert (by_a.done, by_a.on_time, by_a.colour) == (1, 1, "good")
    assert (by_b.done, by_b.overdue, by_b.colour) == (0, 1, "bad")
    assert board.totals[0].completeness == pytest.approx(2 / 3)
    assert board.totals[0].timeliness == pytest.approx(1 / 3)

    rows = await TaskInstance.select().where(TaskInstance.village == c.village_b1)
    assert {row["status"] for row in rows} == {"done", "missing"}
    # Nothing but the records moves a status: re-deriving changes nothing.
    await services.refresh_all()
    again = await services.dashboard(campaign_id, today=dt.date(2020, 6, 1))
    assert again.townships == board.townships

    drill = await services.drill_down(county, board.campaign.tasks[0].id, c.town_a)
    assert {v.village_id: v.status for v in drill.villages} == {
        c.village_a1: InstanceStatus.done,
        c.village_a2: InstanceStatus.missing,
    }
    with pytest.raises(services.NotYourTownship):
        await services.drill_down(
            user(Role.township_staff, c.town_b, 12), board.campaign.tasks[0].id, c.town_a
        )


async def test_reminders_and_escalation_around_the_three_deadlines(tipline_db: Settings) -> None:
    c = await make_county()
    await _campaign(c)
    staff_a = await make_account(Role.township_staff, org_unit_id=c.town_a)
    staff_b = await make_account(Role.township_staff, org_unit_id=c.town_b)
    county = await make_account(Role.county_staff, org_unit_id=c.county)

    # 15 April: village rules. D-8 is quiet, D-7 reminds both townships, once.
    result = await services.sweep(dt.date(2020, 4, 7))
    assert (result.reminders, result.escalations) == (0, 0)
    result = await services.sweep(dt.date(2020, 4, 8))
    assert (result.reminders, result.escalations) == (2, 0)
    assert (await services.sweep(dt.date(2020, 4, 8))).reminders == 0
    assert (await services.sweep(dt.date(2020, 4, 9))).reminders == 0  # still the D-7 window
    assert await _inbox(staff_a) == [("campaigns.notify.reminder", "D-7")]
    assert (await services.sweep(dt.date(2020, 4, 14))).reminders == 2  # D-1
    assert (await services.sweep(dt.date(2020, 4, 15))).reminders == 0  # due day: D-1 sent
    # Township B finishes on the due day; only A is reminded after it and escalated.
    await _publish_rules(c.village_b1, dt.date(2020, 4, 15))
    assert (await services.sweep(dt.date(2020, 4, 16))).reminders == 1  # D+1
    assert (await services.sweep(dt.date(2020, 4, 17))).escalations == 0
    result = await services.sweep(dt.date(2020, 4, 18))  # D+3
    assert (result.reminders, result.escalations) == (0, 1)
    assert (await services.sweep(dt.date(2020, 4, 19))).escalations == 0
    assert await _inbox(staff_a) == [
        ("campaigns.notify.reminder", "D-7"),
        ("campaigns.notify.reminder", "D-1"),
        ("campaigns.notify.reminder", "D+1"),
    ]
    assert await _inbox(staff_b) == [
        ("campaigns.notify.reminder", "D-7"),
        ("campaigns.notify.reminder", "D-1"),
    ]
    assert await _inbox(county) == [("campaigns.notify.escalation", "D+3")]

    # 31 May: by-elections in two listed villages, one per township.
    result = await services.sweep(dt.date(2020, 5, 30))
    assert (result.reminders, result.escalations) == (2, 0)
    result = await services.sweep(dt.date(2020, 6, 3))
    assert (result.reminders, result.escalations) == (2, 2)  # D+1 missed: sent late, and D+3

    # 30 June: supervisory committees, D-7 on 23 June.
    result = await services.sweep(dt.date(2020, 6, 23))
    assert result.reminders == 2
    result = await services.sweep(dt.date(2020, 7, 3))
    assert result.escalations == 2
    # Long after, nothing more is sent however often the sweep runs.
    result = await services.sweep(dt.date(2020, 12, 1))
    assert (result.reminders, result.escalations) == (0, 0)
    assert len(await _inbox(county)) == 5
    escalations = await services.reminders_sent((await services.get_campaign()).tasks[2].id)
    assert {(row["township_id"], row["step"]) for row in escalations} >= {
        (c.town_a, "D-7"),
        (c.town_a, "D+3"),
    }
