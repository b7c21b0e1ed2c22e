"""Computed verdicts at the province threshold (exactly half vs half plus one), the
end of office and automatic vacancy after a second consecutive "not competent", and
publication only after township approval."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.villageaffairs.support import DAY, make_county, members_of, people, user
from tipline.auth import Role
from tipline.settings import Settings
from villageaffairs.appraisals import rules, services
from villageaffairs.appraisals.exceptions import NotApprovedYet, NotTownshipStaff
from villageaffairs.appraisals.schemas import VoteIn
from villageaffairs.committees import services as committees
from villageaffairs.committees.tables import EndReason, VacancyStatus
from villageaffairs.legal import RulesViolated, province_profile
from villageaffairs.reports import services as reports


def test_hunan_default_more_than_half() -> None:
    hunan = province_profile()
    assert hunan.code == "hunan"
    assert rules.verdict(50, 0, 50, 100, "villagers_meeting", hunan) == "basically_competent"
    assert rules.verdict(49, 0, 51, 100, "villagers_meeting", hunan) == "not_competent"
    assert rules.verdict(51, 49, 0, 100, "villagers_meeting", hunan) == "competent"
    assert rules.verdict(50, 50, 0, 100, "villagers_meeting", hunan) == "basically_competent"


def test_shaanxi_two_thirds_at_the_assembly() -> None:
    shaanxi = province_profile("shaanxi")
    assert not rules.is_not_competent(19, 30, "representatives_assembly", shaanxi)
    assert rules.is_not_competent(20, 30, "representatives_assembly", shaanxi)
    assert not rules.is_not_competent(15, 30, "villagers_meeting", shaanxi)
    assert rules.is_not_competent(16, 30, "villagers_meeting", shaanxi)


def test_office_ends_only_on_the_second_consecutive() -> None:
    assert not rules.office_ends(None, "not_competent")
    assert not rules.office_ends("basically_competent", "not_competent")
    assert rules.office_ends("not_competent", "not_competent")


async def test_second_not_competent_ends_office_and_opens_vacancy(tipline_db: Settings) -> None:
    c = await make_county()
    clerk = user(Role.township_staff, c.town_a, 1)
    county = user(Role.county_staff, c.county, 2)
    ids = await people(
        c.village_a1,
        [("主任甲", "female"), ("副乙", "male"), ("委丙", "male"), ("委丁", "male")],
    )
    await committees.record_committee(clerk, c.village_a1, DAY, 5, members_of(ids))
    target = (await committees.current_members(c.village_a1, DAY))[3]
    with pytest.raises(NotTownshipStaff):
        await services.create_round(
            county, c.village_a1, 2020, "special", "villagers_meeting", 100, dt.date(2020, 5, 1)
        )
    first = await services.create_round(
        clerk, c.village_a1, 2020, "special", "villagers_meeting", 100, dt.date(2020, 5, 1)
    )
    with pytest.raises(RulesViolated):
        await services.record_results(clerk, first.id, [VoteIn(target.membership_id, 40, 20, 41)])
    done = await services.record_results(
        clerk, first.id, [VoteIn(target.membership_id, 30, 19, 51, gang_involvement=True)]
    )
    assert done.votes[0].verdict == "not_competent" and not done.votes[0].office_ended
    assert len(await committees.current_members(c.village_a1, dt.date(2020, 5, 2))) == 4

    report = await reports.latest_for_subject("appraisal", first.id)
    assert report is not None
    with pytest.raises(NotApprovedYet):
        await services.publish(clerk, first.id)
    await reports.submit(clerk, report.id)
    await reports.approve(clerk, report.id)
    published = await services.publish(clerk, first.id, dt.date(2020, 5, 10))
    assert published.published_on == dt.date(2020, 5, 10)
    assert [r.id for r in await services.published_results(c.village_a1)] == [first.id]

    second = await services.create_round(
        clerk, c.village_a1, 2021, "annual", "villagers_meeting", 80, dt.date(2021, 1, 15)
    )
    after = await services.record_results(
        clerk, second.id, [VoteIn(target.membership_id, 20, 19, 41)]
    )
    assert after.votes[0].verdict == "not_competent" and after.votes[0].office_ended
    members = await committees.current_members(c.village_a1, dt.date(2021, 1, 16))
    assert target.membership_id not in [m.membership_id for m in members]
    [vacancy] = await committees.vacancies([c.village_a1])
    assert vacancy.status is VacancyStatus.open
    assert vacancy.cause_membership_id == target.membership_id
    assert vacancy.cause_reason == EndReason.appraisal_twice_unfit.value
