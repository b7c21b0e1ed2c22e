"""Demo data for "Village affairs I": people, committees, posts, a few vacancies and
by-elections for the demo county's villages (called by ``tipline demo``).

Deterministic (a fixed seed), so every demo county looks the same. Committees are of
the 2026 general election (term 2026-01-10 to 2031-01-10); a few members resigned in
2026, a few of those seats were filled by a by-election that went through vetting,
publication, tally, filing and the approval chain.
"""

from __future__ import annotations

import datetime as dt
import random

from tipline.auth import CurrentUser, Role
from tipline.orgunits.tables import TOWNSHIP_KINDS, VILLAGE_KINDS, OrgUnit
from tipline.settings import Settings
from villageaffairs.committees.tables import (
    MemberPost,
    Membership,
    MemberSource,
    VillageCommittee,
)
from villageaffairs.people.services import check_digit, hash_id_number, id_key, mask_id_number
from villageaffairs.people.tables import Person, Post

SEED = 20200531
TERM_START = dt.date(2026, 1, 10)
TERM_END = dt.date(2031, 1, 10)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
FEMALE = [
    "秀英",
    "桂英",
    "玉兰",
    "丽",
    "娟",
    "敏",
    "静",
    "艳",
    "芳",
    "红梅",
    "海燕",
    "春花",
    "小红",
]
MALE = [
    "建国",
    "志强",
    "国华",
    "伟",
    "军",
    "勇",
    "明",
    "德生",
    "建军",
    "海涛",
    "永福",
    "长春",
    "文斌",
]


def _person_rows(
    rng: random.Random, key: bytes, village_id: int, serial: int, count: int
) -> list[Person]:
    rows = []
    for i in range(count):
        female = i in (0, 5, 8) or rng.random() < 0.25
        name = rng.choice(SURNAMES) + rng.choice(FEMALE if female else MALE)
        first = (
            f"43{village_id % 10000:04d}19{60 + rng.randrange(35):02d}{rng.randrange(1, 13):02d}"
        )
        first += f"{rng.randrange(1, 29):02d}{(serial + i) % 1000:03d}"
        number = first + check_digit(first)
        rows.append(
            Person(
                name=name,
                gender="female" if female else "male",
                id_hash=hash_id_number(key, number),
                id_masked=mask_id_number(number),
                village=village_id,
            )
        )
    return rows


def _clerk(township_id: int) -> CurrentUser:
    return CurrentUser(
        account_id=0,
        username="demo",
        display_name="demo",
        role=Role.township_staff,
        org_unit_id=township_id,
        org_unit_name="",
        session_id=0,
        totp_enrolled=True,
    )


async def seed_demo(settings: Settings) -> dict[str, int]:
    """Seed people, committees and posts for every village; idempotent (skips if any
    committee exists). Joins the caller's transaction."""
    if await VillageCommittee.exists():
        return {}
    rng = random.Random(SEED)  # noqa: S311 - deterministic demo names, no secret
    key = id_key(settings)
    villages = (
        await OrgUnit.select(OrgUnit.id, OrgUnit.parent)
        .where(OrgUnit.kind.is_in([k.value for k in VILLAGE_KINDS]))
        .order_by(OrgUnit.code)
    )
    county = await OrgUnit.select(OrgUnit.id).where(OrgUnit.parent.is_null()).first()
    townships = {
        row["id"]
        for row in await OrgUnit.select(OrgUnit.id).where(
            OrgUnit.kind.is_in([k.value for k in TOWNSHIP_KINDS])
        )
    }
    people_per_village = 12
    for index, village in enumerate(villages):
        persons = _person_rows(
            rng, key, village["id"], index * people_per_village, people_per_village
        )
        inserted = await Person.insert(*persons).returning(Person.id)
        ids = [row["id"] for row in inserted]
        seats = (3, 5, 5, 7, 5)[index % 5]
        committee = await VillageCommittee.insert(
            VillageCommittee(
                village=village["id"],
                term_start=TERM_START,
                term_end=TERM_END,
                seats=seats,
                law_version="2018",
            )
        ).returning(VillageCommittee.id)
        posts = [MemberPost.director, MemberPost.deputy] + [MemberPost.member] * (seats - 2)
        await Membership.insert(
            *(
                Membership(
                    committee=committee[0]["id"],
                    person=person_id,
                    post=post.value,
                    start=TERM_START,
                    source=MemberSource.general_election.value,
                )
                for person_id, post in zip(ids, posts, strict=False)
            )
        )
        others = ids[seats:]
        kinds = ["village_representative", "village_representative", "group_leader", "accountant"]
        await Post.insert(
            *(
                Post(village=village["id"], person=pid, kind=kind, start=TERM_START)
                for pid, kind in zip(others, kinds, strict=False)
            )
        )
    vacancies, by_elections = await _vacancies_and_by_elections(
        villages, county["id"] if county else 0, townships
    )
    return {"villages": len(villages), "vacancies": vacancies, "by_elections": by_elections}


async def _vacancies_and_by_elections(
    villages: list[dict[str, int]], county_id: int, townships: set[int]
) -> tuple[int, int]:
    from tipline.ledger.services import Actor
    from villageaffairs.committees import services as committees
    from villageaffairs.committees.tables import EndReason
    from villageaffairs.elections import services as elections
    from villageaffairs.elections.schemas import VoteIn
    from villageaffairs.reports import services as reports

    county = CurrentUser(
        account_id=0,
        username="demo",
        display_name="demo",
        role=Role.county_staff,
        org_unit_id=county_id,
        org_unit_name="",
        session_id=0,
        totp_enrolled=True,
    )
    chosen = [v for i, v in enumerate(villages) if i % 23 == 7 and v["parent"] in townships]
    vacancies = by_elections = 0
    for n, village in enumerate(chosen):
        members = await committees.current_members(village["id"], dt.date(2026, 4, 1))
        vacancy = await committees.end_membership(
            Actor.account(0),
            members[-1].membership_id,
            dt.date(2026, 3, 20),
            EndReason.resigned,
        )
        vacancies += 1
        if vacancy is None or n % 2:
            continue
        clerk = _clerk(village["parent"])
        election = await elections.plan(
            clerk, [vacancy.id], "representatives_assembly", dt.date(2026, 5, 20)
        )
        await elections.approve_plan(clerk, election.id, dt.date(2026, 4, 2))
        sitting = {m.person_id for m in await committees.current_members(village["id"])}
        posts = await Post.select(Post.person).where(Post.village == village["id"])
        busy = sitting | {p["person"] for p in posts}
        free = [
            p["id"]
            for p in await Person.select(Person.id).where(Person.village == village["id"])
            if p["id"] not in busy
        ][:2]
        candidates = [
            await elections.nominate(clerk, election.id, pid, vacancy.post.value) for pid in free
        ]
        await elections.start_vetting(clerk, election.id)
        for c in candidates:
            for agency in elections.required_agencies():
                await elections.record_check(
                    clerk,
                    election.id,
                    c.id,
                    agency,
                    "clear",
                    document_ref=f"联审〔2026〕{village['id']}-{c.id}号",
                    on=dt.date(2026, 4, 15),
                )
        await elections.close_vetting(
            county, election.id, f"县联审〔2026〕{n + 1}号", dt.date(2026, 4, 20)
        )
        await elections.publish(clerk, election.id, 620, dt.date(2026, 4, 25), dt.date(2026, 4, 28))
        await elections.record_tally(
            clerk,
            election.id,
            dt.date(2026, 5, 20),
            540,
            [VoteIn(candidates[0].id, 351), VoteIn(candidates[1].id, 170)],
        )
        await elections.file(clerk, election.id, dt.date(2026, 5, 21))
        report = await reports.latest_for_subject(elections.KIND, election.id)
        if report is not None and n % 4 == 0:
            await reports.submit(clerk, report.id)
            await reports.approve(clerk, report.id)
            await reports.accept(county, report.id)
        by_elections += 1
    return vacancies, by_elections
