"""Supervisory committee composition (Art. 32 and the 2017 guidance): size, chair,
committee members and their near relatives, the accountant, expertise, the term; the
approval chain driving the campaign task; work reports and their overdue list."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.villageaffairs.support import make_county, members_of, people, relate, user
from tipline.auth import Role
from tipline.ledger.services import SYSTEM
from tipline.settings import Settings
from villageaffairs.access import TownshipOnly
from villageaffairs.campaigns import services as campaigns
from villageaffairs.campaigns.services import TaskSpec
from villageaffairs.campaigns.tables import TaskKind
from villageaffairs.committees import services as committees
from villageaffairs.legal import RulesViolated
from villageaffairs.people.tables import Post
from villageaffairs.reports import services as reports
from villageaffairs.supervision import rules, services
from villageaffairs.supervision.rules import CompositionRules
from villageaffairs.supervision.schemas import CommitteeIn, MemberIn, WorkReportIn
from villageaffairs.supervision.tables import Forum, ScPost

TERM_START = dt.date(2019, 1, 10)
ELECTED = dt.date(2020, 5, 20)


def _form(ids: list[int], expert: int | None = 0, reason: str = "") -> CommitteeIn:
    return CommitteeIn(
        elected_on=ELECTED,
        forum=Forum.villagers_meeting,
        members=[
            MemberIn(
                person_id=pid,
                post=ScPost.chair if index == 0 else ScPost.member,
                accounting_knowledge=index == expert,
            )
            for index, pid in enumerate(ids)
        ],
        reason=reason,
    )


def _rules(error: RulesViolated) -> list[str]:
    return [failure.rule for failure in error.failures]


async def _village_with_committee() -> tuple[Any, list[int]]:
    c = await make_county()
    clerk = user(Role.township_staff, c.town_a, 11)
    vc = await people(c.village_a1, [("主任", "female"), ("副主任", "male"), ("委员", "male")])
    await committees.record_committee(clerk, c.village_a1, TERM_START, 3, members_of(vc))
    return c, vc


async def test_two_and_six_members_and_one_chair(tipline_db: Settings) -> None:
    c, _ = await _village_with_committee()
    clerk = user(Role.township_staff, c.town_a, 11)
    six = await people(c.village_a1, [(f"村民{i}", "male") for i in range(6)])
    with pytest.raises(RulesViolated) as caught:
        await services.record_committee(clerk, c.village_a1, _form(six[:2]))
    assert _rules(caught.value) == ["size"]
    assert "3" in caught.value.messages("zh-CN")[0] and "5" in caught.value.messages("zh-CN")[0]
    with pytest.raises(RulesViolated) as caught:
        await services.record_committee(clerk, c.village_a1, _form(six))
    assert _rules(caught.value) == ["size"]
    no_chair = _form(six[:3])
    no_chair = CommitteeIn(
        elected_on=ELECTED,
        forum=Forum.villagers_meeting,
        members=[
            MemberIn(person_id=p, post=ScPost.member, accounting_knowledge=True) for p in six[:3]
        ],
    )
    with pytest.raises(RulesViolated) as caught:
        await services.record_committee(clerk, c.village_a1, no_chair)
    assert _rules(caught.value) == ["one_chair"]
    with pytest.raises(RulesViolated) as caught:
        await services.record_committee(clerk, c.village_a1, _form(six[:3], expert=None))
    assert _rules(caught.value) == ["expertise"]
    assert await services.active_committee(c.village_a1) is None

    three = await services.record_committee(clerk, c.village_a1, _form(six[:3]))
    assert [m.post for m in three.members] == [ScPost.chair, ScPost.member, ScPost.member]
    five = await services.record_committee(clerk, c.village_a1, _form(six[:5]))
    assert five.id == three.id and len(five.members) == 5  # a draft is replaced in place
    assert five.term_end == dt.date(2024, 1, 10)  # the village committee's term


async def test_committee_member_relative_and_accountant_are_barred(tipline_db: Settings) -> None:
    c, vc = await _village_with_committee()
    clerk = user(Role.township_staff, c.town_a, 11)
    others = await people(
        c.village_a1, [("配偶", "female"), ("会计", "male"), ("甲", "male"), ("乙", "male")]
    )
    spouse, accountant, a, b = others
    await relate(spouse, vc[0], "spouse")
    await Post.insert(
        Post(village=c.village_a1, person=accountant, kind="accountant", start=TERM_START)
    )

    with pytest.raises(RulesViolated) as caught:
        await services.record_committee(clerk, c.village_a1, _form([vc[1], a, b]))
    assert _rules(caught.value) == ["on_village_committee"]
    assert "第32条" in caught.value.messages("zh-CN")[0]

    with pytest.raises(RulesViolated) as caught:
        await services.record_committee(clerk, c.village_a1, _form([a, spouse, b]))
    assert _rules(caught.value) == ["relative_of_committee_member"]
    assert "主任" in caught.value.messages("zh-CN")[0]

    with pytest.raises(RulesViolated) as caught:
        await services.record_committee(clerk, c.village_a1, _form([a, b, accountant]))
    assert _rules(caught.value) == ["excluded_post"]

    # The bar on the accountant is configurable; the bar on relatives (Art. 32) is not.
    lenient = CompositionRules(excluded_posts=frozenset())
    recorded = await services.record_committee(
        clerk, c.village_a1, _form([a, b, accountant]), rules_in_force=lenient
    )
    assert {m.name for m in recorded.members} == {"会计", "甲", "乙"}


async def test_no_village_committee_means_no_matching_term(tipline_db: Settings) -> None:
    c = await make_county()
    clerk = user(Role.township_staff, c.town_a, 11)
    ids = await people(c.village_a2, [("甲", "male"), ("乙", "male"), ("丙", "female")])
    with pytest.raises(RulesViolated) as caught:
        await services.record_committee(clerk, c.village_a2, _form(ids))
    assert _rules(caught.value) == ["no_village_committee"]


async def test_only_the_villages_own_township_records(tipline_db: Settings) -> None:
    c, _ = await _village_with_committee()
    ids = await people(c.village_a1, [("甲", "male"), ("乙", "male"), ("丙", "female")])
    other_township = user(Role.township_staff, c.town_b, 12)
    county = user(Role.county_staff, c.county, 13)
    from tipline.orgunits.exceptions import OutsideYourUnit

    with pytest.raises(OutsideYourUnit):
        await services.record_committee(other_township, c.village_a1, _form(ids))
    with pytest.raises(TownshipOnly):
        await services.record_committee(county, c.village_a1, _form(ids))


async def test_accepted_committee_completes_the_task_on_time_or_late(tipline_db: Settings) -> None:
    c, _ = await _village_with_committee()
    clerk = user(Role.township_staff, c.town_a, 11)
    county = user(Role.county_staff, c.county, 13)
    campaign_id = await campaigns.create_campaign(
        SYSTEM,
        code="T2020",
        title="2020",
        year=2020,
        tasks=[
            TaskSpec(
                code="sc",
                title="监委会",
                kind=TaskKind.supervisory_committee,
                due_on=dt.date(2020, 6, 30),
            )
        ],
    )

    def cell(board: Any, township: int) -> tuple[int, int, int, int]:
        row = next(r for r in board.townships if r.township_id == township)
        return (
            row.cells[0].expected,
            row.cells[0].done,
            row.cells[0].on_time,
            row.cells[0].in_progress,
        )

    today = dt.date(2020, 7, 10)
    board = await campaigns.dashboard(campaign_id, today=today)
    assert cell(board, c.town_a) == (2, 0, 0, 0)

    ids = await people(c.village_a1, [("甲", "male"), ("乙", "male"), ("丙", "female")])
    committee = await services.record_committee(clerk, c.village_a1, _form(ids))
    board = await campaigns.dashboard(campaign_id, today=today)
    assert cell(board, c.town_a) == (2, 0, 0, 1)  # recorded, not yet accepted

    report = await services.report_of(committee.id)
    assert report is not None
    await reports.submit(clerk, report.id)
    await reports.approve(clerk, report.id)
    board = await campaigns.dashboard(campaign_id, today=today)
    assert cell(board, c.town_a) == (2, 0, 0, 1)  # the task needs the county's acceptance
    late = dt.datetime(2020, 7, 2, 3, 0, tzinfo=dt.UTC)
    await reports.accept(county, report.id, now=late)
    board = await campaigns.dashboard(campaign_id, today=today)
    assert cell(board, c.town_a) == (2, 1, 0, 0)  # done, two days late
    assert board.townships[0].cells[0].overdue == 1
    drill = await campaigns.drill_down(county, board.campaign.tasks[0].id, c.town_a, today=today)
    days = {v.village_id: (v.status.value, v.days_overdue) for v in drill.villages}
    assert days == {c.village_a1: ("done", 2), c.village_a2: ("missing", 10)}

    # An accepted record is corrected only by a new record with a reason.
    with pytest.raises(services.ReasonRequired):
        await services.record_committee(clerk, c.village_a1, _form(ids))
    newer = await services.record_committee(
        clerk, c.village_a1, _form(ids, reason="主任辞职后补选")
    )
    assert newer.id != committee.id and newer.version_reason == "主任辞职后补选"
    board = await campaigns.dashboard(campaign_id, today=today)
    assert cell(board, c.town_a) == (2, 0, 0, 1)


async def test_work_reports_are_quarterly_with_overdue_tracking(tipline_db: Settings) -> None:
    c, _ = await _village_with_committee()
    clerk = user(Role.township_staff, c.town_a, 11)
    county = user(Role.county_staff, c.county, 13)
    ids = await people(c.village_a1, [("甲", "male"), ("乙", "male"), ("丙", "female")])
    committee = await services.record_committee(clerk, c.village_a1, _form(ids))
    start = committee.recorded_at.date()
    periods = rules.expected_periods(start, start + dt.timedelta(days=200))
    assert len(periods) >= 2
    first, due = periods[0]
    assert due.day == 15  # 15 days after the quarter ended
    later = due + dt.timedelta(days=10)
    overdue = await services.overdue_work_reports(county, today=later)
    assert [(row.period, row.overdue_days) for row in overdue] == [(first, 10)]
    assert (
        await services.overdue_work_reports(user(Role.township_staff, c.town_b, 14), today=later)
        == []
    )

    report = await services.record_work_report(
        clerk, c.village_a1, WorkReportIn(period=first, submitted_on=due + dt.timedelta(days=3))
    )
    assert report.late and report.to_discipline_commission and report.to_civil_affairs
    assert await services.overdue_work_reports(county, today=later) == []
    with pytest.raises(services.BadPeriod):
        await services.record_work_report(
            clerk, c.village_a1, WorkReportIn(period=first, submitted_on=due)
        )
