"""What the public (阳光民政) pages show: names and posts only, nothing else personal.

No login, no JavaScript; a villager reaches their village's page through the QR code
on the notice board. Only published or accepted-to-record information appears:
the sitting committee members and their posts, the supervisory committee, published
appraisal results, recent disclosures and the published village rules.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from tipline.errors import NotFound
from tipline.orgunits.tables import TOWNSHIP_KINDS, VILLAGE_KINDS, OrgUnit

RECENT_DISCLOSURES = 12


class VillageNotFound(NotFound):
    message_key = "public.error.not_found"


class NamePost(msgspec.Struct, frozen=True):
    name: str
    post: str


class AppraisalLine(msgspec.Struct, frozen=True):
    name: str
    post: str
    verdict: str


class AppraisalRound(msgspec.Struct, frozen=True):
    year: int
    kind: str
    published_on: dt.date | None
    lines: list[AppraisalLine]


class DisclosureLine(msgspec.Struct, frozen=True):
    category: str
    period: str
    title: str
    posted_on: dt.date


class PublishedRules(msgspec.Struct, frozen=True):
    title: str
    kind: str
    version: int
    published_on: dt.date | None
    text: str


class PublicVillage(msgspec.Struct, frozen=True):
    code: str
    name: str
    township: str
    committee: list[NamePost]
    supervisory: list[NamePost]
    appraisals: list[AppraisalRound]
    disclosures: list[DisclosureLine]
    rules: PublishedRules | None


class TownshipVillages(msgspec.Struct, frozen=True):
    name: str
    villages: list[tuple[str, str]]  # (code, name)


async def county_page() -> tuple[str, list[TownshipVillages]]:
    rows = await OrgUnit.select(
        OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.kind, OrgUnit.parent
    ).order_by(OrgUnit.code)
    county = next((row["name"] for row in rows if row["kind"] == "county"), "")
    townships = {row["id"]: row for row in rows if row["kind"] in TOWNSHIP_KINDS}
    villages: dict[int, list[tuple[str, str]]] = {}
    for row in rows:
        if row["kind"] in VILLAGE_KINDS and row["parent"] in townships:
            villages.setdefault(row["parent"], []).append((row["code"], row["name"]))
    return county, [
        TownshipVillages(name=row["name"], villages=villages.get(tid, []))
        for tid, row in townships.items()
    ]


async def village_page(code: str) -> PublicVillage:
    from villageaffairs.noticeboards import services as noticeboards
    from villageaffairs.supervision import services as supervision
    from villageaffairs.villagerules import services as villagerules

    row = (
        await OrgUnit.select(OrgUnit.id, OrgUnit.name, OrgUnit.kind, OrgUnit.parent.name)
        .where(OrgUnit.code == code)
        .first()
    )
    if row is None or row["kind"] not in VILLAGE_KINDS:
        raise VillageNotFound(code=code[:32])
    village_id = row["id"]
    members = await _committee_members(village_id)
    sc = await supervision.public_committee(village_id)
    rules = await villagerules.published_rules(village_id)
    return PublicVillage(
        code=code,
        name=row["name"],
        township=row["parent.name"] or "",
        committee=members,
        supervisory=[NamePost(m.name, m.post.value) for m in (sc.members if sc else [])],
        appraisals=await _appraisals(village_id),
        disclosures=[
            DisclosureLine(d.category.value, d.period, d.title, d.posted_on)
            for d in await noticeboards.disclosures(village_id, RECENT_DISCLOSURES)
        ],
        rules=PublishedRules(
            rules.title, rules.kind.value, rules.version, rules.published_on, rules.text
        )
        if rules
        else None,
    )


async def _committee_members(village_id: int) -> list[NamePost]:
    """The latest recorded village committee's sitting members (its term may have ended
    while the next general election is not recorded yet: it still serves)."""
    from villageaffairs.committees import services as committees
    from villageaffairs.committees.tables import VillageCommittee

    latest = (
        await VillageCommittee.select(VillageCommittee.id)
        .where(VillageCommittee.village == village_id)
        .order_by(VillageCommittee.term_start, ascending=False)
        .first()
    )
    if latest is None:
        return []
    return [NamePost(m.name, m.post.value) for m in await committees.members_of(latest["id"])]


async def _appraisals(village_id: int) -> list[AppraisalRound]:
    """Published democratic appraisal results (Village affairs I), names, posts, verdicts."""
    try:
        from villageaffairs.appraisals import services as appraisals
    except ImportError:  # pragma: no cover - shipped together
        return []
    return [
        AppraisalRound(
            year=r.year,
            kind=r.kind.value,
            published_on=r.published_on,
            lines=[AppraisalLine(v.name, v.post, v.verdict) for v in r.votes],
        )
        for r in await appraisals.published_results(village_id)
    ]
