"""Demo data of village affairs II: the county's 2020 campaign with a realistic spread.

For every village of the demo county: villagers (made-up names, check-digit-valid
identity numbers under the fictional prefix 6199, stored only as keyed hash and mask),
a village committee for 2019-2024 (the term before the 2026 general election that
Village affairs I seeds; skipped where one overlaps it), an
accountant and the director's spouse (who may not sit on the supervisory committee);
then, township by township with different diligence, village rules with the anti-gang
clause (due 15 April), by-election reports (due 31 May, only villages with a vacancy),
supervisory committees through the approval chain (due 30 June) and notice boards
with inspections and disclosures. Some villages are done on time, some late, some in
progress and some missing; the task statuses are then derived as always. Deterministic
(fixed seed) and run once: nothing happens when the campaign exists.
"""

from __future__ import annotations

import datetime as dt
import random

from tipline import db
from tipline.ledger.services import SYSTEM, append_event
from tipline.orgunits.tables import VILLAGE_KINDS, OrgUnit
from tipline.settings import Settings

CAMPAIGN_CODE = "2020-AG"
RULES_DUE = dt.date(2020, 4, 15)
ELECTIONS_DUE = dt.date(2020, 5, 31)
SC_DUE = dt.date(2020, 6, 30)
BOARDS_DUE = dt.date(2020, 6, 30)
VC_TERM = (dt.date(2019, 1, 15), dt.date(2024, 1, 15))
# How diligent each township is (share of villages done, of which most on time).
DILIGENCE = (0.85, 0.95, 0.55, 0.9, 0.8, 0.4, 0.92, 0.75, 0.7, 0.5, 0.88, 0.93, 0.8)
KEEP_OPEN_IN_FIRST_TOWNSHIP = 3  # villages left without a supervisory committee (to try it)

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"
_GIVEN_M = (
    "建国",
    "志强",
    "伟",
    "军",
    "海涛",
    "德明",
    "国华",
    "永生",
    "春生",
    "立新",
    "长青",
    "宏伟",
)
_GIVEN_F = ("秀英", "桂兰", "玉梅", "春花", "丽", "红梅", "淑芬", "晓燕", "彩霞", "金凤")
RULES_TEXT = (
    "{village}村规民约\n"
    "第一条 为推进村民自治，建设平安和谐美丽乡村，经村民会议讨论通过，制定本村规民约。\n"
    "第二条 村民应当遵守宪法、法律、法规和国家政策，自觉维护社会秩序。\n"
    "第三条 {clause}\n"
    "第四条 村民应当爱护公共财物，保护生态环境，移风易俗，反对铺张浪费。\n"
    "第五条 本村规民约经村民会议通过，报乡镇人民政府备案后公布施行。"
)
CLAUSE = (
    "村民不得参与、纵容、包庇涉黑涉恶活动，不得充当黑恶势力“保护伞”；发现涉黑涉恶线索，"
    "应当及时向公安机关或扫黑除恶举报平台举报。"
)


def _id_number(rng: random.Random, serial: int) -> str:
    from villageaffairs.people.services import check_digit

    birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(0, 18000))
    first17 = f"619901{birth:%Y%m%d}{serial % 1000:03d}"
    return first17 + check_digit(first17)


def _name(rng: random.Random, female: bool) -> str:
    return rng.choice(_SURNAMES) + rng.choice(_GIVEN_F if female else _GIVEN_M)


def _outcome(rng: random.Random, diligence: float) -> str:
    """on_time, late, progress or missing."""
    roll = rng.random()
    if roll < diligence * 0.8:
        return "on_time"
    if roll < diligence:
        return "late"
    if roll < diligence + (1 - diligence) * 0.5:
        return "progress"
    return "missing"


def _day(rng: random.Random, due: dt.date, outcome: str) -> dt.date:
    if outcome == "on_time":
        return due - dt.timedelta(days=rng.randrange(1, 40))
    return due + dt.timedelta(days=rng.randrange(1, 45))


def _moment(day: dt.date, hour: int = 2) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, 30, tzinfo=dt.UTC)


async def seed_demo(settings: Settings, *, seed: int = 2020) -> dict[str, int]:
    """Seed the 2020 campaign and its records; returns counts (empty if already there)."""
    from villageaffairs.campaigns.services import TaskSpec, create_campaign, refresh_all
    from villageaffairs.campaigns.tables import Campaign, TaskKind
    from villageaffairs.committees.tables import Membership, VillageCommittee
    from villageaffairs.noticeboards.services import CHECKLIST
    from villageaffairs.noticeboards.tables import Disclosure, Inspection, NoticeBoard
    from villageaffairs.people.services import hash_id_number, id_key, mask_id_number
    from villageaffairs.people.tables import Person, Post, Relation
    from villageaffairs.reports.tables import VillageReport
    from villageaffairs.supervision.tables import SupervisoryCommittee, SupervisoryMember
    from villageaffairs.villagerules.tables import RulesReview, RulesVersion

    if await Campaign.exists().where(Campaign.code == CAMPAIGN_CODE):
        return {}
    rng = random.Random(seed)  # noqa: S311 - demo data, not a secret
    key = id_key(settings)
    units = await OrgUnit.select(OrgUnit.id, OrgUnit.name, OrgUnit.kind, OrgUnit.parent).order_by(
        OrgUnit.code
    )
    villages = [u for u in units if u["kind"] in VILLAGE_KINDS and u["parent"] is not None]
    townships = sorted({u["parent"] for u in villages})
    diligence = {tid: DILIGENCE[i % len(DILIGENCE)] for i, tid in enumerate(townships)}
    # Village affairs I seeds the committees of the 2026 general election; the 2020
    # campaign needs the previous term's, seeded here unless one overlaps it.
    with_committee = {
        row["village"]
        for row in await VillageCommittee.select(VillageCommittee.village).where(
            (VillageCommittee.term_start < VC_TERM[1]) & (VillageCommittee.term_end > VC_TERM[0])
        )
    }
    counts = {"people": 0, "rules": 0, "by_elections": 0, "committees": 0, "boards": 0}
    by_election_villages: list[int] = []
    serial = 0
    first_township = townships[0] if townships else None
    first_township_villages = [v["id"] for v in villages if v["parent"] == first_township]
    keep_open = set(first_township_villages[-KEEP_OPEN_IN_FIRST_TOWNSHIP:])

    async def person(village_id: int, female: bool) -> tuple[int, str]:
        nonlocal serial
        serial += 1
        number = _id_number(rng, serial)
        name = _name(rng, female)
        rows = await Person.insert(
            Person(
                name=name,
                gender="female" if female else "male",
                id_hash=hash_id_number(key, number),
                id_masked=mask_id_number(number),
                village=village_id,
            )
        ).returning(Person.id)
        counts["people"] += 1
        return int(rows[0]["id"]), name

    async with db.write_transaction():
        for village in villages:
            vid, tid = village["id"], village["parent"]
            quality = diligence[tid]
            # The village committee and the people the supervisory rules care about.
            seats = rng.choice((3, 5, 5, 7))
            vc = [
                await person(vid, index == 1 or (index == 0 and rng.random() < 0.3))
                for index in range(seats)
            ]
            spouse = await person(vid, not (rng.random() < 0.5))
            accountant = await person(vid, rng.random() < 0.5)
            villagers = [await person(vid, rng.random() < 0.4) for _ in range(4)]
            await Relation.insert(Relation(person_a=spouse[0], person_b=vc[0][0], kind="spouse"))
            await Post.insert(
                Post(village=vid, person=accountant[0], kind="accountant", start=VC_TERM[0])
            )
            if vid not in with_committee:
                rows = await VillageCommittee.insert(
                    VillageCommittee(
                        village=vid,
                        term_start=VC_TERM[0],
                        term_end=VC_TERM[1],
                        seats=seats,
                        law_version="2018",
                    )
                ).returning(VillageCommittee.id)
                posts = ["director", "deputy"] + ["member"] * (seats - 2)
                await Membership.insert(
                    *(
                        Membership(committee=rows[0]["id"], person=pid, post=post, start=VC_TERM[0])
                        for (pid, _), post in zip(vc, posts, strict=True)
                    )
                )

            # 15 April: village rules with the anti-gang clause.
            outcome = _outcome(rng, quality)
            if outcome != "missing":
                published = _day(rng, RULES_DUE, outcome)
                done = outcome in ("on_time", "late")
                rows = await RulesVersion.insert(
                    RulesVersion(
                        village=vid,
                        kind="residents_convention"
                        if village["kind"] == "community"
                        else "village_rules",
                        version=1,
                        title=f"{village['name']}村规民约",
                        text=RULES_TEXT.format(village=village["name"], clause=CLAUSE),
                        anti_gang_marked=True,
                        anti_gang_excerpt=CLAUSE,
                        status="published"
                        if done
                        else rng.choice(("township_review", "county_review", "adoption")),
                        adoption_method="villagers_meeting" if done else None,
                        eligible_voters=800 if done else None,
                        attended=520 if done else None,
                        votes_for=480 if done else None,
                        adopted_on=published - dt.timedelta(days=6) if done else None,
                        filed_on=published - dt.timedelta(days=2) if done else None,
                        published_on=published if done else None,
                        created_by=0,
                    )
                ).returning(RulesVersion.id)
                if done:
                    await RulesReview.insert(
                        RulesReview(
                            rules=rows[0]["id"],
                            level="township",
                            approved=True,
                            reviewer_id=0,
                            reviewed_on=published - dt.timedelta(days=20),
                        ),
                        RulesReview(
                            rules=rows[0]["id"],
                            level="county_legal",
                            approved=True,
                            reviewer_id=0,
                            reviewed_on=published - dt.timedelta(days=12),
                        ),
                    )
                counts["rules"] += 1

            # 31 May: by-elections where a seat fell vacant (about one village in five).
            if rng.random() < 0.22:
                by_election_villages.append(vid)
                outcome = _outcome(rng, quality)
                if outcome != "missing":
                    held = _day(rng, ELECTIONS_DUE, outcome)
                    accepted = outcome in ("on_time", "late")
                    await VillageReport.insert(
                        VillageReport(
                            kind="by_election",
                            village=vid,
                            subject_id=900_000 + vid,
                            version=1,
                            status="accepted" if accepted else "submitted",
                            created_by=0,
                            submitted_at=_moment(held - dt.timedelta(days=4)),
                            approved_at=_moment(held - dt.timedelta(days=2)) if accepted else None,
                            accepted_at=_moment(held) if accepted else None,
                        )
                    )
                    counts["by_elections"] += 1

            # 30 June: the supervisory committee, through the approval chain.
            outcome = "missing" if vid in keep_open else _outcome(rng, quality)
            if outcome != "missing":
                accepted_on = _day(rng, SC_DUE, outcome)
                elected = accepted_on - dt.timedelta(days=rng.randrange(10, 25))
                rows = await SupervisoryCommittee.insert(
                    SupervisoryCommittee(
                        village=vid,
                        elected_on=elected,
                        forum="villagers_meeting",
                        term_start=elected,
                        term_end=VC_TERM[1],
                        status="active",
                        recorded_by=0,
                        recorded_at=_moment(elected + dt.timedelta(days=3)),
                    )
                ).returning(SupervisoryCommittee.id)
                committee_id = rows[0]["id"]
                await SupervisoryMember.insert(
                    *(
                        SupervisoryMember(
                            committee=committee_id,
                            person_id=pid,
                            name=name,
                            post="chair" if index == 0 else "member",
                            accounting_knowledge=index == 1,
                            management_knowledge=index == 0,
                            position=index,
                        )
                        for index, (pid, name) in enumerate(villagers[:3])
                    )
                )
                accepted = outcome in ("on_time", "late")
                status = "accepted" if accepted else rng.choice(("submitted", "township_approved"))
                report = await VillageReport.insert(
                    VillageReport(
                        kind="supervisory_committee",
                        village=vid,
                        subject_id=committee_id,
                        version=1,
                        status=status,
                        created_by=0,
                        submitted_at=_moment(elected + dt.timedelta(days=4)),
                        approved_at=_moment(accepted_on - dt.timedelta(days=2))
                        if status != "submitted"
                        else None,
                        accepted_at=_moment(accepted_on) if accepted else None,
                    )
                ).returning(VillageReport.id)
                await SupervisoryCommittee.update(
                    {SupervisoryCommittee.report_id: report[0]["id"]}
                ).where(SupervisoryCommittee.id == committee_id)
                counts["committees"] += 1

            # Notice boards: standardised and inspected, or to be fixed, or not yet.
            outcome = _outcome(rng, quality)
            if outcome != "missing":
                inspected = _day(rng, BOARDS_DUE, outcome)
                standardised = outcome != "progress"
                await NoticeBoard.insert(
                    NoticeBoard(
                        village=vid,
                        location=rng.choice(("村委会门口", "村文化广场", "村部院内", "村小学旁")),
                        standardised=standardised,
                        finance_monthly=rng.random() < 0.3,
                        updated_by=0,
                    )
                )
                await Inspection.insert(
                    Inspection(
                        village=vid,
                        inspected_on=inspected,
                        checklist={
                            item: standardised or item == "fixed_location" for item in CHECKLIST
                        },
                        findings="" if standardised else "公开栏未按统一标准制作，财务未逐笔公开",
                        fix_by=None if standardised else inspected + dt.timedelta(days=30),
                        status="passed" if standardised else "fix_required",
                        inspector_id=0,
                    )
                )
                for quarter in ("2020-Q1", "2020-Q2"):
                    await Disclosure.insert(
                        Disclosure(
                            village=vid,
                            category="general",
                            period=quarter,
                            title=f"{quarter} 村务公开",
                            posted_on=dt.date(2020, 4 if quarter.endswith("1") else 7, 8),
                            sc_signed=True,
                            sc_signed_by=villagers[0][1],
                            recorded_by=0,
                        )
                    )
                counts["boards"] += 1

        await create_campaign(
            SYSTEM,
            code=CAMPAIGN_CODE,
            title="2020年扫黑除恶专项斗争村务工作",
            year=2020,
            tasks=[
                TaskSpec(
                    code="rules",
                    title="村规民约增加扫黑除恶条款",
                    kind=TaskKind.village_rules,
                    due_on=RULES_DUE,
                    legal_basis="村民委员会组织法第27条；民政部等7部门指导意见（2018）",
                ),
                TaskSpec(
                    code="by_elections",
                    title="村（居）委会出缺补选",
                    kind=TaskKind.by_election,
                    due_on=ELECTIONS_DUE,
                    village_ids=by_election_villages,
                    legal_basis="村民委员会组织法第19条",
                ),
                TaskSpec(
                    code="supervisory",
                    title="建立村务监督委员会",
                    kind=TaskKind.supervisory_committee,
                    due_on=SC_DUE,
                    legal_basis="村民委员会组织法第32条；中办国办指导意见（2017）",
                ),
                TaskSpec(
                    code="boards",
                    title="村务公开栏规范化",
                    kind=TaskKind.notice_board,
                    due_on=BOARDS_DUE,
                    approval_levels=1,
                    legal_basis="村民委员会组织法第30条",
                ),
            ],
        )
        await append_event(SYSTEM, "campaign.demo_seeded", "campaign", CAMPAIGN_CODE, counts)
        await refresh_all()
    return counts
