"""Adoption thresholds (Art. 22 quorum and majority, household signatures), the marked
anti-gang clause, and the workflow with returns, filing, publication and versions."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from tests.villageaffairs.support import make_county, user
from tipline.auth import Role
from tipline.ledger.services import SYSTEM
from tipline.ledger.tables import CustodyEvent
from tipline.orgunits.exceptions import OutsideYourUnit
from tipline.settings import Settings
from villageaffairs.access import CountyOnly, TownshipOnly
from villageaffairs.campaigns import services as campaigns
from villageaffairs.campaigns.services import TaskSpec
from villageaffairs.campaigns.tables import TaskKind
from villageaffairs.legal import RulesViolated
from villageaffairs.villagerules import rules, services
from villageaffairs.villagerules.rules import AdoptionRules
from villageaffairs.villagerules.services import AdoptionIn, DraftIn, ReviewIn
from villageaffairs.villagerules.tables import AdoptionMethod, RulesStatus

CLAUSE = "第八条 村民不得参与涉黑涉恶活动，发现线索应当向公安机关举报。"
TEXT = "第一条 为推进村民自治……\n" + CLAUSE + "\n第九条 本村规民约自公布之日起施行。"


def _names(failures: list) -> list[str]:
    return [f.rule for f in failures]


def test_meeting_quorum_and_majority_boundaries() -> None:
    assert _names(rules.meeting_failures(100, 50, 40)) == ["quorum"]  # exactly half: no quorum
    assert rules.meeting_failures(100, 51, 26) == []
    assert _names(rules.meeting_failures(100, 51, 25)) == ["majority"]  # 25 of 51 is not > half
    assert _names(rules.meeting_failures(100, 60, 30)) == ["majority"]  # exactly half present
    # Two thirds of the households' representatives also make a quorum.
    assert rules.meeting_failures(300, 90, 60, households_total=90, attended_households=60) == []
    assert _names(
        rules.meeting_failures(300, 90, 60, households_total=90, attended_households=59)
    ) == ["quorum"]
    assert _names(rules.meeting_failures(100, 120, 60)) == ["meeting_numbers"]
    assert _names(rules.meeting_failures(100, 60, 61)) == ["meeting_numbers"]
    assert _names(rules.meeting_failures(None, 60, 40)) == ["meeting_numbers"]


def test_signature_threshold_is_configurable() -> None:
    assert _names(rules.signature_failures(200, 100)) == ["signatures"]  # exactly half
    assert rules.signature_failures(200, 101) == []
    two_thirds = AdoptionRules(signature_share=Fraction(2, 3), signature_strict=False)
    assert _names(rules.signature_failures(300, 199, two_thirds)) == ["signatures"]
    assert rules.signature_failures(300, 200, two_thirds) == []
    assert _names(rules.signature_failures(200, 201)) == ["signature_numbers"]


def test_anti_gang_clause_must_be_marked_with_its_text() -> None:
    assert _names(rules.anti_gang_failures(TEXT, False, CLAUSE)) == ["anti_gang_clause"]
    assert _names(rules.anti_gang_failures(TEXT, True, "")) == ["anti_gang_clause"]
    assert _names(rules.anti_gang_failures(TEXT, True, "不在正文里的话")) == ["anti_gang_excerpt"]
    assert rules.anti_gang_failures(TEXT, True, CLAUSE) == []


async def test_workflow_with_returns_to_publication(tipline_db: Settings) -> None:
    c = await make_county()
    clerk = user(Role.township_staff, c.town_a, 11)
    other = user(Role.township_staff, c.town_b, 12)
    county = user(Role.county_staff, c.county, 13)
    campaign_id = await campaigns.create_campaign(
        SYSTEM,
        code="R2020",
        title="2020",
        year=2020,
        tasks=[
            TaskSpec(
                code="rules",
                title="村规民约",
                kind=TaskKind.village_rules,
                due_on=dt.date(2020, 4, 15),
            )
        ],
    )
    with pytest.raises(OutsideYourUnit):
        await services.create_draft(other, c.village_a1, DraftIn(title="村规民约", text=TEXT))
    draft = await services.create_draft(clerk, c.village_a1, DraftIn(title="村规民约", text=TEXT))
    assert draft.status is RulesStatus.draft and draft.version == 1

    with pytest.raises(RulesViolated) as caught:
        await services.submit(clerk, draft.id)
    assert _names(caught.value.failures) == ["anti_gang_clause"]
    marked = DraftIn(title="村规民约", text=TEXT, anti_gang_marked=True, anti_gang_excerpt=CLAUSE)
    await services.update_draft(clerk, draft.id, marked)
    await services.submit(clerk, draft.id)

    with pytest.raises(services.CommentRequired):
        await services.review(clerk, draft.id, ReviewIn(approved=False))
    returned = await services.review(
        clerk, draft.id, ReviewIn(approved=False, comment="罚款条款违法")
    )
    assert returned.status is RulesStatus.draft and returned.returned
    await services.submit(clerk, draft.id)
    await services.review(clerk, draft.id, ReviewIn(approved=True))
    with pytest.raises(CountyOnly):
        await services.review(clerk, draft.id, ReviewIn(approved=True))
    back = await services.review(county, draft.id, ReviewIn(approved=False, comment="第三条需修改"))
    assert back.status is RulesStatus.draft and back.reviews[-1].level.value == "county_legal"
    await services.submit(clerk, draft.id)
    await services.review(clerk, draft.id, ReviewIn(approved=True))
    reviewed = await services.review(county, draft.id, ReviewIn(approved=True))
    assert reviewed.status is RulesStatus.adoption

    with pytest.raises(RulesViolated) as caught:
        await services.record_adoption(
            clerk,
            draft.id,
            AdoptionIn(
                method=AdoptionMethod.villagers_meeting,
                adopted_on=dt.date(2020, 4, 1),
                eligible_voters=800,
                attended=400,
                votes_for=300,
            ),
        )
    assert _names(caught.value.failures) == ["quorum"]
    with pytest.raises(RulesViolated):
        await services.record_adoption(
            clerk,
            draft.id,
            AdoptionIn(
                method=AdoptionMethod.household_signatures,
                adopted_on=dt.date(2020, 4, 1),
                households_total=300,
                households_signed=150,
            ),
        )
    adopted = await services.record_adoption(
        clerk,
        draft.id,
        AdoptionIn(
            method=AdoptionMethod.household_signatures,
            adopted_on=dt.date(2020, 4, 1),
            households_total=300,
            households_signed=151,
        ),
    )
    assert adopted.status is RulesStatus.adopted
    with pytest.raises(services.WrongStep):
        await services.publish(clerk, draft.id, dt.date(2020, 4, 10))
    await services.file_with_township(clerk, draft.id, dt.date(2020, 4, 8))
    with pytest.raises(TownshipOnly):
        await services.publish(county, draft.id, dt.date(2020, 4, 10))
    published = await services.publish(clerk, draft.id, dt.date(2020, 4, 10))
    assert published.status is RulesStatus.published
    assert (await services.published_rules(c.village_a1)).id == draft.id

    board = await campaigns.dashboard(campaign_id, today=dt.date(2020, 4, 20))
    row = next(r for r in board.townships if r.township_id == c.town_a)
    assert (row.cells[0].done, row.cells[0].on_time, row.cells[0].expected) == (1, 1, 2)

    with pytest.raises(services.ReasonRequired):
        await services.create_draft(clerk, c.village_a1, marked)
    second = await services.create_draft(
        clerk,
        c.village_a1,
        DraftIn(
            title="村规民约（修订）",
            text=TEXT,
            anti_gang_marked=True,
            anti_gang_excerpt=CLAUSE,
            version_reason="增加移风易俗条款",
        ),
    )
    assert second.version == 2
    actions = {
        row["action"]
        for row in await CustodyEvent.select(CustodyEvent.action).where(
            CustodyEvent.object_type == "village_rules"
        )
    }
    assert {
        "village_rules.drafted",
        "village_rules.township_returned",
        "village_rules.county_legal_returned",
        "village_rules.adopted",
        "village_rules.filed",
        "village_rules.published",
    } <= actions


def test_thresholds_are_data(tmp_path) -> None:
    from villageaffairs.supervision.rules import load_rules

    path = tmp_path / "adoption.json"
    path.write_text('{"signature_share": [2, 3], "signature_strict": false}', encoding="utf-8")
    assert rules.load_adoption(path) == AdoptionRules(Fraction(2, 3), False)
    assert rules.load_adoption() == AdoptionRules()  # the shipped file: more than half
    composition = tmp_path / "composition.json"
    composition.write_text('{"excluded_posts": ["accountant", "hired_staff"]}', encoding="utf-8")
    assert load_rules(composition).excluded_posts == {"accountant", "hired_staff"}
    assert load_rules().excluded_posts == {"accountant", "bookkeeper"}
