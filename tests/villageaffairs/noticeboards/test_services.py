"""Notice boards: the disclosure schedule (Art. 30), missing disclosures flagged, the
supervisory committee's sign-off, inspections with fix-by dates and re-inspection, and
the board task derived from them."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.villageaffairs.support import make_county, user
from tipline.auth import Role
from tipline.ledger.services import SYSTEM
from tipline.settings import Settings
from villageaffairs.access import TownshipOnly
from villageaffairs.campaigns import services as campaigns
from villageaffairs.campaigns.services import TaskSpec
from villageaffairs.campaigns.tables import TaskKind
from villageaffairs.noticeboards import services
from villageaffairs.noticeboards.services import CHECKLIST
from villageaffairs.noticeboards.tables import Cadence, Category, InspectionStatus


def test_cadence_follows_article_30() -> None:
    assert services.cadence(Category.finance, finance_monthly=True) is Cadence.monthly
    assert services.cadence(Category.finance, finance_monthly=False) is Cadence.quarterly
    assert services.cadence(Category.general, finance_monthly=True) is Cadence.quarterly
    assert services.cadence(Category.major, finance_monthly=False) is Cadence.event
    assert services.valid_period(Category.finance, "2020-05", True)
    assert not services.valid_period(Category.finance, "2020-05", False)
    assert services.valid_period(Category.general, "2020-Q2", False)
    assert not services.valid_period(Category.general, "2020-Q5", False)
    periods = services.periods_between(Cadence.quarterly, dt.date(2020, 1, 1), dt.date(2020, 7, 11))
    assert periods == [("2020-Q1", dt.date(2020, 4, 10)), ("2020-Q2", dt.date(2020, 7, 10))]
    assert services.periods_between(
        Cadence.quarterly, dt.date(2020, 1, 1), dt.date(2020, 7, 10)
    ) == [("2020-Q1", dt.date(2020, 4, 10))]


async def test_missing_disclosures_sign_off_and_inspections(
    tipline_db: Settings, settings: Settings
) -> None:
    c = await make_county()
    clerk = user(Role.township_staff, c.town_a, 11)
    county = user(Role.county_staff, c.county, 13)
    campaign_id = await campaigns.create_campaign(
        SYSTEM,
        code="B",
        title="公开栏",
        year=2020,
        tasks=[
            TaskSpec(
                code="board",
                title="公开栏",
                kind=TaskKind.notice_board,
                due_on=dt.date(2020, 6, 30),
                approval_levels=1,
            )
        ],
    )
    with pytest.raises(TownshipOnly):
        await services.save_board(
            county,
            c.village_a1,
            location="村部",
            standardised=True,
            finance_monthly=True,
            photo_data=None,
            settings=settings,
        )
    await services.save_board(
        clerk,
        c.village_a1,
        location="村部门口",
        standardised=True,
        finance_monthly=True,
        photo_data=None,
        settings=settings,
    )
    today = dt.date(2020, 5, 20)
    missing = await services.missing_disclosures(
        c.village_a1, since=dt.date(2020, 1, 1), today=today
    )
    assert [(m.category.value, m.period) for m in missing] == [
        ("finance", "2020-01"),
        ("finance", "2020-02"),
        ("finance", "2020-03"),
        ("general", "2020-Q1"),
        ("finance", "2020-04"),
    ]
    assert missing[0].overdue_days == (today - dt.date(2020, 2, 10)).days

    with pytest.raises(services.SignOffRequired):
        await services.post_disclosure(
            clerk,
            c.village_a1,
            category=Category.finance,
            period="2020-01",
            title="1月收支",
            posted_on=dt.date(2020, 2, 5),
            sc_signed_by="",
            photo_data=None,
            settings=settings,
        )
    with pytest.raises(services.BadDisclosure):
        await services.post_disclosure(
            clerk,
            c.village_a1,
            category=Category.finance,
            period="2020-Q1",
            title="一季度收支",
            posted_on=dt.date(2020, 4, 5),
            sc_signed_by="赵监督",
            photo_data=None,
            settings=settings,
        )
    await services.post_disclosure(
        clerk,
        c.village_a1,
        category=Category.finance,
        period="2020-01",
        title="1月收支",
        posted_on=dt.date(2020, 2, 5),
        sc_signed_by="赵监督",
        photo_data=None,
        settings=settings,
    )
    missing = await services.missing_disclosures(
        c.village_a1, since=dt.date(2020, 1, 1), today=today
    )
    assert ("finance", "2020-01") not in [(m.category.value, m.period) for m in missing]

    def cell() -> tuple[int, int]:
        return (board.townships[0].cells[0].done, board.townships[0].cells[0].in_progress)

    board = await campaigns.dashboard(campaign_id, today=today)
    assert cell() == (0, 1)  # recorded, not yet inspected by the township

    failing = {key: key != "finance_detailed" for key in CHECKLIST}
    with pytest.raises(services.BadInspection):
        await services.inspect(
            clerk,
            c.village_a1,
            inspected_on=dt.date(2020, 6, 1),
            checklist=failing,
            findings="",
            fix_by=None,
        )
    inspection = await services.inspect(
        clerk,
        c.village_a1,
        inspected_on=dt.date(2020, 6, 1),
        checklist=failing,
        findings="财务未逐笔公开",
        fix_by=dt.date(2020, 6, 20),
    )
    assert inspection.status is InspectionStatus.fix_required
    assert [i.id for i in await services.overdue_fixes(county, dt.date(2020, 6, 21))] == [
        inspection.id
    ]
    board = await campaigns.dashboard(campaign_id, today=today)
    assert cell() == (0, 1)  # returned: to be fixed
    fixed = await services.reinspect(
        clerk, inspection.id, on=dt.date(2020, 6, 25), fixed=True, note="已整改"
    )
    assert fixed.status is InspectionStatus.fixed
    assert await services.overdue_fixes(county, dt.date(2020, 6, 26)) == []
    board = await campaigns.dashboard(campaign_id, today=dt.date(2020, 7, 1))
    assert cell() == (1, 0)
    assert board.townships[0].cells[0].on_time == 1  # fixed on 25 June, due 30 June
