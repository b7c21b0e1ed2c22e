"""Committee composition (3-7 seats, a woman, one director, relatives), the term by
law version, vacancies opening when a membership ends, and waivers."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.villageaffairs.support import (
    DAY,
    make_county,
    members_of,
    people,
    relate,
    user,
)
from tipline.auth import Role
from tipline.orgunits.exceptions import OutsideYourUnit
from tipline.settings import Settings
from villageaffairs.committees import rules, services
from villageaffairs.committees.exceptions import BadEndReason, MembershipAlreadyEnded
from villageaffairs.committees.tables import VacancyStatus
from villageaffairs.legal import RulesViolated
from villageaffairs.people.services import is_accountant_or_bookkeeper, near_relatives
from villageaffairs.people.tables import Post

FIVE = [("甲", "female"), ("乙", "male"), ("丙", "male"), ("丁", "male"), ("戊", "male")]


def _rules(error: RulesViolated) -> list[str]:
    return [f.rule for f in error.failures]


def test_seat_boundaries() -> None:
    assert [f.rule for f in rules.seats_in_range(2)] == ["seats_in_range"]
    assert rules.seats_in_range(3) == []
    assert rules.seats_in_range(7) == []
    assert [f.rule for f in rules.seats_in_range(8)] == ["seats_in_range"]


def test_term_is_five_years_from_2018_12_29_and_three_before() -> None:
    assert rules.term_years(dt.date(2018, 12, 28)) == 3
    assert rules.term_years(dt.date(2018, 12, 29)) == 5
    assert rules.term_end_for(dt.date(2017, 3, 1)) == dt.date(2020, 3, 1)
    assert rules.term_end_for(dt.date(2021, 3, 1)) == dt.date(2026, 3, 1)
    assert rules.term_length(dt.date(2021, 3, 1), dt.date(2024, 3, 1))[0].rule == "term_length"


def test_messages_cite_the_article_in_chinese() -> None:
    failure = rules.seats_in_range(8)[0]
    text = failure.message("zh-CN")
    assert "三至七人" in text and "第6条" in text and "村民委员会组织法" in text
    assert "Art. 6" in failure.message("en")


async def test_composition_rules_on_record(tipline_db: Settings) -> None:
    c = await make_county()
    clerk = user(Role.township_staff, c.town_a)
    men = await people(c.village_a1, [("男一", "male"), ("男二", "male"), ("男三", "male")])
    with pytest.raises(RulesViolated) as caught:
        await services.record_committee(clerk, c.village_a1, DAY, 3, members_of(men))
    assert _rules(caught.value) == ["has_woman"]
    assert "妇女" in caught.value.messages("zh-CN")[0]

    two = await people(c.village_a1, [("女一", "female"), ("男四", "male")])
    with pytest.raises(RulesViolated) as caught:
        await services.record_committee(clerk, c.village_a1, DAY, 2, members_of(two))
    assert _rules(caught.value) == ["seats_in_range"]

    eight = await people(
        c.village_a1, [("女二", "female")] + [(f"男{i}", "male") for i in range(7)]
    )
    with pytest.raises(RulesViolated) as caught:
        await services.record_committee(clerk, c.village_a1, DAY, 8, members_of(eight))
    assert _rules(caught.value) == ["seats_in_range"]

    seven = eight[:7]
    await relate(seven[0], seven[1], "spouse")
    with pytest.raises(RulesViolated) as caught:
        await services.record_committee(clerk, c.village_a1, DAY, 7, members_of(seven))
    assert _rules(caught.value) == ["no_spouses_or_lineal"]

    committee = await services.record_committee(
        clerk, c.village_a1, DAY, 7, members_of([seven[0], *seven[2:]])
    )
    assert committee.term_end == dt.date(2025, 3, 2) and committee.seats == 7
    three = await people(c.village_a2, [("女三", "female"), ("男八", "male"), ("男九", "male")])
    small = await services.record_committee(clerk, c.village_a2, DAY, 3, members_of(three))
    assert small.seats == 3
    members = await services.current_members(c.village_a1, DAY)
    assert len(members) == 6 and members[0].post.value == "director"
    assert [r.person.id for r in await near_relatives(seven[1])] == [seven[0]]


async def test_ending_a_membership_opens_a_vacancy(tipline_db: Settings) -> None:
    c = await make_county()
    clerk = user(Role.township_staff, c.town_a)
    other = user(Role.township_staff, c.town_b, 2)
    ids = await people(c.village_a1, FIVE)
    await services.record_committee(clerk, c.village_a1, DAY, 5, members_of(ids))
    member = (await services.current_members(c.village_a1, DAY))[2]
    with pytest.raises(OutsideYourUnit):
        await services.end_membership_by_hand(other, member.membership_id, DAY, "resigned")
    with pytest.raises(BadEndReason):
        await services.end_membership_by_hand(
            clerk, member.membership_id, DAY, "appraisal_twice_unfit"
        )
    later = DAY + dt.timedelta(days=30)
    vacancy = await services.end_membership_by_hand(clerk, member.membership_id, later, "resigned")
    assert vacancy is not None and vacancy.status is VacancyStatus.open
    assert vacancy.post is member.post and vacancy.cause_reason == "resigned"
    with pytest.raises(MembershipAlreadyEnded):
        await services.end_membership_by_hand(clerk, member.membership_id, later, "resigned")
    assert len(await services.current_members(c.village_a1, later)) == 4
    assert [v.id for v in await services.visible_vacancies(clerk)] == [vacancy.id]
    assert await services.visible_vacancies(other) == []

    with pytest.raises(RulesViolated) as caught:
        await services.waive_vacancy(clerk, vacancy.id, "")
    assert _rules(caught.value) == ["waiver_decision"]
    waived = await services.waive_vacancy(clerk, vacancy.id, "村民代表会议决定〔2020〕1号")
    assert waived.status is VacancyStatus.waived


async def test_accountant_post(tipline_db: Settings) -> None:
    c = await make_county()
    [a, b] = await people(c.village_a1, [("会计", "female"), ("村民", "male")])
    await Post.insert(Post(village=c.village_a1, person=a, kind="accountant", start=DAY))
    assert await is_accountant_or_bookkeeper(a, DAY)
    assert not await is_accountant_or_bookkeeper(b, DAY)


async def test_term_end_closes_memberships_and_vacancies_once(tipline_db: Settings) -> None:
    c = await make_county()
    clerk = user(Role.township_staff, c.town_a)
    ids = await people(c.village_a1, FIVE)
    committee = await services.record_committee(
        clerk, c.village_a1, dt.date(2017, 3, 1), 5, members_of(ids)
    )
    assert committee.term_end == dt.date(2020, 3, 1)
    member = (await services.current_members(c.village_a1, dt.date(2019, 1, 1)))[4]
    vacancy = await services.end_membership_by_hand(
        clerk, member.membership_id, dt.date(2019, 6, 1), "died"
    )
    assert vacancy is not None
    assert await services.close_terms(dt.date(2020, 2, 29)) == 0
    assert await services.close_terms(dt.date(2020, 3, 1)) == 4
    assert await services.close_terms(dt.date(2020, 3, 2)) == 0
    closed = await services.get_vacancy(vacancy.id)
    assert closed.status is VacancyStatus.closed_term_end
    assert closed.closed_on == dt.date(2020, 3, 1)
    view = await services.committee_view(clerk, c.village_a1, dt.date(2020, 1, 1))
    assert {m.end_reason for m in view.former} == {"term_end", "died"}
