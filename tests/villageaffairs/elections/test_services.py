"""A by-election from vacancy to filed result: township approval, nominations, vetting
per agency (a flag bars), the county joint review, publication 20 days ahead, tallies
at their boundaries, a further round, filing into the committee, the report chain."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.villageaffairs.support import DAY, make_county, members_of, people, user
from tipline.auth import Role
from tipline.orgunits.exceptions import OutsideYourUnit
from tipline.settings import Settings
from villageaffairs.committees import services as committees
from villageaffairs.committees.tables import VacancyStatus
from villageaffairs.elections import services
from villageaffairs.elections.exceptions import NotCountyStaff, NotFiled, WrongStage
from villageaffairs.elections.schemas import VoteIn
from villageaffairs.elections.tables import ByElectionStatus, Eligibility
from villageaffairs.legal import RulesViolated
from villageaffairs.reports import services as reports
from villageaffairs.reports.exceptions import ReportLocked
from villageaffairs.reports.tables import ReportStatus

ELECTION_DAY = dt.date(2020, 5, 21)
AGENCIES = ["public_security", "court", "procuratorate", "discipline", "political_legal"]


async def _vacancy(c, clerk) -> int:  # type: ignore[no-untyped-def]
    ids = await people(
        c.village_a1,
        [("甲", "female"), ("乙", "male"), ("丙", "male"), ("丁", "male"), ("戊", "male")],
    )
    await committees.record_committee(clerk, c.village_a1, DAY, 5, members_of(ids))
    member = (await committees.current_members(c.village_a1, DAY))[4]
    vacancy = await committees.end_membership_by_hand(
        clerk, member.membership_id, dt.date(2020, 3, 10), "resigned"
    )
    assert vacancy is not None
    return vacancy.id


async def _to_vetting(c, clerk, names):  # type: ignore[no-untyped-def]
    vacancy_id = await _vacancy(c, clerk)
    election = await services.plan(clerk, [vacancy_id], "villagers_meeting", ELECTION_DAY)
    assert (await committees.get_vacancy(vacancy_id)).status is VacancyStatus.by_election_planned
    await services.approve_plan(clerk, election.id)
    ids = await people(c.village_a1, names)
    candidates = [await services.nominate(clerk, election.id, pid, "member") for pid in ids]
    await services.start_vetting(clerk, election.id)
    return election, candidates, vacancy_id


async def _clear_all(clerk, election_id, candidate_ids, flagged=None):  # type: ignore[no-untyped-def]
    for cid in candidate_ids:
        for agency in AGENCIES:
            flag = flagged is not None and cid == flagged and agency == "political_legal"
            await services.record_check(
                clerk,
                election_id,
                cid,
                agency,
                "flagged" if flag else "clear",
                "village_bully" if flag else "",
                f"公复〔2020〕{cid}号",
            )


async def test_full_by_election_with_flag_tally_and_acceptance(tipline_db: Settings) -> None:
    c = await make_county()
    clerk = user(Role.township_staff, c.town_a, 1)
    county = user(Role.county_staff, c.county, 2)
    election, cands, vacancy_id = await _to_vetting(
        c, clerk, [("候选甲", "male"), ("候选乙", "female"), ("候选丙", "male")]
    )
    await _clear_all(clerk, election.id, [cands[0].id, cands[1].id])
    with pytest.raises(NotCountyStaff):
        await services.close_vetting(clerk, election.id, "联审〔2020〕1号")
    with pytest.raises(RulesViolated) as caught:
        await services.close_vetting(county, election.id, "联审〔2020〕1号")
    assert {f.rule for f in caught.value.failures} == {"vetting_complete"}

    # 候选丙 is flagged as a village bully by the political-legal committee: barred.
    await _clear_all(clerk, election.id, [cands[2].id], flagged=cands[2].id)
    await services.close_vetting(county, election.id, "联审〔2020〕1号")
    detail = await services.detail(clerk, election.id)
    assert [c_.eligibility for c_ in detail.candidates] == [
        Eligibility.clear,
        Eligibility.clear,
        Eligibility.barred,
    ]

    with pytest.raises(RulesViolated) as caught:
        await services.publish(clerk, election.id, 1000, dt.date(2020, 5, 2), dt.date(2020, 5, 10))
    assert [f.rule for f in caught.value.failures] == ["voter_list_published_in_time"]
    await services.publish(clerk, election.id, 1000, dt.date(2020, 5, 1), dt.date(2020, 5, 10))

    # Barred candidates get no votes; exactly half the register voting is invalid.
    with pytest.raises(Exception):
        await services.record_tally(clerk, election.id, ELECTION_DAY, 600, [VoteIn(cands[2].id, 1)])
    with pytest.raises(RulesViolated) as caught:
        await services.record_tally(
            clerk, election.id, ELECTION_DAY, 500, [VoteIn(cands[0].id, 300)]
        )
    assert [f.rule for f in caught.value.failures] == ["turnout_valid"]
    # Half plus one voted; exactly half of the ballots is not enough to be elected.
    outcome = await services.record_tally(
        clerk,
        election.id,
        ELECTION_DAY,
        600,
        [VoteIn(cands[0].id, 300), VoteIn(cands[1].id, 290)],
    )
    assert outcome.status is ByElectionStatus.further_round and outcome.elected == []
    assert outcome.unfilled == {"member": 1}
    assert {n.rule for n in outcome.notes} == {"elected_first_round"}
    with pytest.raises(WrongStage):
        await services.file(clerk, election.id)
    # Further round: at least a third of the ballots cast.
    outcome = await services.record_tally(
        clerk,
        election.id,
        ELECTION_DAY,
        510,
        [VoteIn(cands[0].id, 160), VoteIn(cands[1].id, 340)],
    )
    assert outcome.status is ByElectionStatus.tallied and outcome.elected == [cands[1].id]

    report = await reports.latest_for_subject("by_election", election.id)
    assert report is None
    await services.file(clerk, election.id, on=dt.date(2020, 5, 22))
    members = await committees.current_members(c.village_a1, dt.date(2020, 5, 22))
    assert "候选乙" in [m.name for m in members] and len(members) == 5
    new = next(m for m in members if m.name == "候选乙")
    assert new.source == "by_election" and new.start == ELECTION_DAY
    vacancy = await committees.get_vacancy(vacancy_id)
    assert vacancy.status is VacancyStatus.filled
    assert vacancy.filled_by_membership_id == new.membership_id

    report = await reports.latest_for_subject("by_election", election.id)
    assert report is not None and report.status is ReportStatus.draft
    await reports.submit(clerk, report.id)
    await reports.approve(clerk, report.id)
    await reports.accept(county, report.id)
    with pytest.raises(ReportLocked):
        await services.fail(clerk, election.id, "更正")


async def test_foreign_township_cannot_touch_and_unfiled_cannot_submit(
    tipline_db: Settings,
) -> None:
    c = await make_county()
    clerk = user(Role.township_staff, c.town_a, 1)
    stranger = user(Role.township_staff, c.town_b, 3)
    vacancy_id = await _vacancy(c, clerk)
    with pytest.raises(OutsideYourUnit):
        await services.plan(stranger, [vacancy_id], "villagers_meeting", ELECTION_DAY)
    election = await services.plan(clerk, [vacancy_id], "villagers_meeting", ELECTION_DAY)
    with pytest.raises(OutsideYourUnit):
        await services.approve_plan(stranger, election.id)
    assert await services.list_by_elections(stranger) == []
    report = await reports.create_report(clerk, "by_election", c.village_a1, election.id)
    with pytest.raises(NotFiled):
        await reports.submit(clerk, report.id)
    failed = await services.fail(clerk, election.id, "村民会议未达到法定人数")
    assert failed.status is ByElectionStatus.failed
    assert (await committees.get_vacancy(vacancy_id)).status is VacancyStatus.open


async def test_too_few_candidates_after_a_flag(tipline_db: Settings) -> None:
    c = await make_county()
    clerk = user(Role.township_staff, c.town_a, 1)
    county = user(Role.county_staff, c.county, 2)
    election, cands, _ = await _to_vetting(c, clerk, [("候选丁", "male"), ("候选戊", "male")])
    await _clear_all(clerk, election.id, [cands[0].id])
    await _clear_all(clerk, election.id, [cands[1].id], flagged=cands[1].id)
    with pytest.raises(RulesViolated) as caught:
        await services.close_vetting(county, election.id, "联审〔2020〕2号")
    assert [f.rule for f in caught.value.failures] == ["more_candidates_than_seats"]
    # A further nomination during vetting gets its own pending checks.
    [extra] = await people(c.village_a1, [("候选己", "female")])
    added = await services.nominate(clerk, election.id, extra, "member")
    assert {ch.result for ch in added.checks} == {"pending"}
    await _clear_all(clerk, election.id, [added.id])
    closed = await services.close_vetting(county, election.id, "联审〔2020〕2号")
    assert closed.status is ByElectionStatus.vetted
