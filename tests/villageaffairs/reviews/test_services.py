"""Look-back: everyone in scope gets an item; removal ends the office and opens a
vacancy; sign-off only when every item is handled; referral by ledger number."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.villageaffairs.support import DAY, make_county, members_of, people, user
from tipline.auth import Role
from tipline.orgunits.exceptions import OutsideYourUnit
from tipline.settings import Settings
from villageaffairs.committees import services as committees
from villageaffairs.legal import RulesViolated
from villageaffairs.people.tables import Post
from villageaffairs.reports import services as reports
from villageaffairs.reports.exceptions import ReportLocked
from villageaffairs.reviews import services
from villageaffairs.reviews.exceptions import BadItem, ReviewClosed


async def test_lookback_removal_opens_vacancy_and_sign_off(tipline_db: Settings) -> None:
    c = await make_county()
    clerk = user(Role.township_staff, c.town_a, 1)
    stranger = user(Role.township_staff, c.town_b, 2)
    ids = await people(c.village_a1, [("甲", "female"), ("乙", "male"), ("丙", "male")])
    await committees.record_committee(clerk, c.village_a1, DAY, 3, members_of(ids))
    [rep] = await people(c.village_a1, [("代表丁", "male")])
    await Post.insert(
        Post(village=c.village_a1, person=rep, kind="village_representative", start=DAY)
    )
    with pytest.raises(OutsideYourUnit):
        await services.start_review(stranger, c.village_a1, on=dt.date(2020, 4, 1))
    review = await services.start_review(clerk, c.village_a1, on=dt.date(2020, 4, 1))
    assert review.total == 4 and review.pending == 4
    by_name = {i.name: i for i in review.items}

    with pytest.raises(RulesViolated) as caught:
        await services.decide(clerk, by_name["乙"].id, "issue_found", issue="gang")
    assert [f.rule for f in caught.value.failures] == ["issue_has_action"]
    with pytest.raises(RulesViolated):
        await services.decide(
            clerk, by_name["代表丁"].id, "issue_found", "village_bully", "referred"
        )
    with pytest.raises(BadItem):
        await services.decide(
            clerk, by_name["代表丁"].id, "issue_found", "village_bully", "referred", "abc"
        )
    await services.decide(
        clerk, by_name["代表丁"].id, "issue_found", "village_bully", "referred", "2020-000123"
    )
    await services.decide(
        clerk, by_name["乙"].id, "issue_found", "gang", "removed", on=dt.date(2020, 4, 5)
    )
    with pytest.raises(RulesViolated) as caught:
        await services.sign_off(clerk, review.id)
    assert {f.rule for f in caught.value.failures} == {"everyone_handled"}
    await services.decide(clerk, by_name["甲"].id, "no_issue")
    await services.decide(clerk, by_name["丙"].id, "no_issue")
    with pytest.raises(BadItem):
        await services.decide(clerk, by_name["丙"].id, "no_issue")

    [vacancy] = await committees.vacancies([c.village_a1])
    assert vacancy.cause_reason == "lookback_removed" and vacancy.post.value == "deputy"
    done = await services.sign_off(clerk, review.id, dt.date(2020, 5, 20))
    assert (done.cleared, done.handled, done.pending) == (2, 2, 0)
    with pytest.raises(ReviewClosed):
        await services.decide(clerk, by_name["甲"].id, "no_issue")
    report = await reports.latest_for_subject("lookback", review.id)
    assert report is not None and report.status.value == "draft"


async def test_accepted_review_is_locked_and_corrected_by_a_new_version(
    tipline_db: Settings,
) -> None:
    c = await make_county()
    clerk = user(Role.township_staff, c.town_a, 1)
    county = user(Role.county_staff, c.county, 2)
    ids = await people(c.village_a1, [("甲", "female"), ("乙", "male"), ("丙", "male")])
    await committees.record_committee(clerk, c.village_a1, DAY, 3, members_of(ids))
    review = await services.start_review(clerk, c.village_a1, on=dt.date(2020, 4, 1))
    for item in review.items:
        await services.decide(clerk, item.id, "no_issue")
    await services.sign_off(clerk, review.id)
    report = await reports.latest_for_subject("lookback", review.id)
    assert report is not None
    await reports.submit(clerk, report.id)
    await reports.approve(clerk, report.id)
    await reports.accept(county, report.id)
    item = review.items[1]
    with pytest.raises(ReportLocked):
        await services.decide(clerk, item.id, "issue_found", "discipline", "under_investigation")

    second = await reports.new_version(clerk, report.id, "乙 正在接受纪律审查，更正结论")
    reopened = await services.get_review(clerk, review.id)
    assert reopened.status.value == "open"
    await services.decide(clerk, item.id, "issue_found", "discipline", "under_investigation")
    again = await services.sign_off(clerk, review.id)
    assert (again.cleared, again.handled) == (2, 1)
    latest = await reports.latest_for_subject("lookback", review.id)
    assert latest is not None and latest.id == second.id and latest.version == 2
    await reports.submit(clerk, second.id)
    history = await reports.history("lookback", review.id)
    assert [(r.version, r.status.value) for r in history] == [(1, "accepted"), (2, "submitted")]
