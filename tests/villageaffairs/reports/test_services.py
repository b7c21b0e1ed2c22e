"""The approval chain: submit, township approval, county acceptance, return with a
reason, the lock on accepted data, correction by a new version, and who may do what."""

from __future__ import annotations

import pytest

from tests.villageaffairs.support import make_county, user
from tipline.auth import Role
from tipline.ledger.tables import CustodyEvent
from tipline.orgunits.exceptions import OutsideYourUnit
from tipline.settings import Settings
from villageaffairs.reports import services
from villageaffairs.reports.exceptions import (
    NotYourStep,
    ReasonRequired,
    ReportLocked,
    WrongReportStatus,
)
from villageaffairs.reports.tables import ReportStatus


async def test_chain_with_return_and_correction(tipline_db: Settings) -> None:
    c = await make_county()
    clerk = user(Role.township_staff, c.town_a, 11)
    county = user(Role.county_staff, c.county, 12)
    report = await services.create_report(clerk, "test_report", c.village_a1, 7)
    assert report.status is ReportStatus.draft and report.version == 1
    await services.require_editable("test_report", 7)

    await services.submit(clerk, report.id)
    with pytest.raises(ReportLocked):
        await services.require_editable("test_report", 7)
    with pytest.raises(ReasonRequired):
        await services.return_report(clerk, report.id, "  ")
    returned = await services.return_report(clerk, report.id, "候选人名单缺页")
    assert returned.status is ReportStatus.returned and returned.reason == "候选人名单缺页"
    await services.require_editable("test_report", 7)

    await services.submit(clerk, report.id)
    with pytest.raises(WrongReportStatus):
        await services.accept(county, report.id)
    await services.approve(clerk, report.id)
    back = await services.return_report(county, report.id, "计票表不清")
    assert back.status is ReportStatus.returned
    await services.submit(clerk, report.id)
    await services.approve(clerk, report.id)
    accepted = await services.accept(county, report.id)
    assert accepted.status is ReportStatus.accepted and accepted.accepted_by == 12
    with pytest.raises(ReportLocked):
        await services.require_editable("test_report", 7)
    with pytest.raises(ReportLocked):
        await services.create_report(clerk, "test_report", c.village_a1, 7)

    with pytest.raises(ReasonRequired):
        await services.new_version(clerk, report.id, "")
    second = await services.new_version(clerk, report.id, "票数录入错误，更正")
    assert (second.version, second.status, second.supersedes_id) == (
        2,
        ReportStatus.draft,
        report.id,
    )
    await services.require_editable("test_report", 7)
    history = await services.history("test_report", 7)
    assert [(r.version, r.status) for r in history] == [
        (1, ReportStatus.accepted),
        (2, ReportStatus.draft),
    ]
    latest = await services.latest_reports("test_report", [c.village_a1, c.village_b1])
    assert list(latest) == [c.village_a1] and latest[c.village_a1].version == 2

    actions = [
        row["action"]
        for row in await CustodyEvent.select()
        .where(CustodyEvent.object_type == "village_report")
        .order_by(CustodyEvent.seq)
    ]
    assert actions == [
        "village_report.created",
        "village_report.submitted",
        "village_report.returned",
        "village_report.submitted",
        "village_report.township_approved",
        "village_report.returned",
        "village_report.submitted",
        "village_report.township_approved",
        "village_report.accepted",
        "village_report.new_version",
    ]


async def test_who_may_take_which_step(tipline_db: Settings) -> None:
    c = await make_county()
    clerk_a = user(Role.township_staff, c.town_a, 1)
    clerk_b = user(Role.township_staff, c.town_b, 2)
    county = user(Role.county_staff, c.county, 3)
    officer = user(Role.officer, c.county, 4)
    with pytest.raises(OutsideYourUnit):
        await services.create_report(clerk_b, "test_other", c.village_a1, 1)
    report = await services.create_report(clerk_a, "test_other", c.village_a1, 1)
    with pytest.raises(OutsideYourUnit):
        await services.submit(clerk_b, report.id)
    await services.submit(clerk_a, report.id)
    with pytest.raises(NotYourStep):
        await services.approve(county, report.id)
    with pytest.raises(OutsideYourUnit):
        await services.approve(clerk_b, report.id)
    await services.approve(clerk_a, report.id)
    with pytest.raises(NotYourStep):
        await services.accept(clerk_a, report.id)
    with pytest.raises(NotYourStep):
        await services.accept(officer, report.id)
    with pytest.raises(WrongReportStatus):
        await services.return_report(clerk_a, report.id, "晚了")
    assert await services.allowed_steps(clerk_a, report) == ["submit"]
    approved = await services.get_report(county, report.id)
    assert await services.allowed_steps(county, approved) == ["accept", "return"]
    await services.accept(county, report.id)
    queue_a = await services.queue(clerk_a)
    assert queue_a == []
    assert [v.report.id for v in await services.queue(clerk_a, ReportStatus.accepted)] == [
        report.id
    ]
    assert await services.queue(clerk_b, ReportStatus.accepted) == []
