"""The village rules workflow: draft → township review → county legal review → adoption
→ filed with the township → published.

The draft comes from the two committees (township staff enter it for their village);
the township and then the county legal affairs office review it and may return it with
comments (it goes back to draft); adoption is recorded with the meeting's or the
signatures' numbers and checked by :mod:`villageaffairs.villagerules.rules`; the
adopted rules are filed with the township (Art. 27: 报乡、民族乡、镇的人民政府备案) and
published. Each step is a custody event; a published version is replaced only by a new
version with a reason, and the campaign task of the village follows the records.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from tipline import db
from tipline.auth import CurrentUser, Role
from tipline.ledger.services import Actor, append_event
from tipline.workdays.services import today_local
from villageaffairs.access import (
    require_county,
    require_township_writer,
    require_village,
)
from villageaffairs.hooks import VillageHooks
from villageaffairs.legal import raise_if
from villageaffairs.villagerules import rules
from villageaffairs.villagerules.exceptions import (
    CommentRequired,
    OpenVersionExists,
    ReasonRequired,
    RulesNotFound,
    TextRequired,
    WrongStep,
)
from villageaffairs.villagerules.rules import DEFAULT_ADOPTION, AdoptionRules
from villageaffairs.villagerules.schemas import AdoptionIn, DraftIn, ReviewIn
from villageaffairs.villagerules.tables import (
    AdoptionMethod,
    ReviewLevel,
    RulesKind,
    RulesReview,
    RulesStatus,
    RulesVersion,
)

CHANGED = VillageHooks("village rules")
"""Run when a village's rules change status (``campaigns`` re-derives its task)."""
MAX_TEXT = 100_000
MAX_TITLE = 200
MAX_COMMENT = 4000


class ReviewOut(msgspec.Struct, frozen=True):
    level: ReviewLevel
    approved: bool
    comment: str
    reviewed_on: dt.date


class RulesOut(msgspec.Struct, frozen=True):
    id: int
    village_id: int
    kind: RulesKind
    version: int
    title: str
    text: str
    version_reason: str
    anti_gang_marked: bool
    anti_gang_excerpt: str
    status: RulesStatus
    adoption_method: AdoptionMethod | None
    adopted_on: dt.date | None
    filed_on: dt.date | None
    published_on: dt.date | None
    reviews: list[ReviewOut]

    @property
    def returned(self) -> bool:
        return (
            self.status is RulesStatus.draft
            and bool(self.reviews)
            and not self.reviews[-1].approved
        )


def _date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


async def get_rules(rules_id: int) -> RulesOut:
    row = await RulesVersion.select().where(RulesVersion.id == rules_id).first()
    if row is None:
        raise RulesNotFound(rules_id=rules_id)
    reviews = (
        await RulesReview.select().where(RulesReview.rules == rules_id).order_by(RulesReview.id)
    )
    return RulesOut(
        id=row["id"],
        village_id=row["village"],
        kind=RulesKind(row["kind"]),
        version=row["version"],
        title=row["title"],
        text=row["text"],
        version_reason=row["version_reason"],
        anti_gang_marked=bool(row["anti_gang_marked"]),
        anti_gang_excerpt=row["anti_gang_excerpt"],
        status=RulesStatus(row["status"]),
        adoption_method=AdoptionMethod(row["adoption_method"]) if row["adoption_method"] else None,
        adopted_on=_date(row["adopted_on"]),
        filed_on=_date(row["filed_on"]),
        published_on=_date(row["published_on"]),
        reviews=[
            ReviewOut(
                level=ReviewLevel(r["level"]),
                approved=bool(r["approved"]),
                comment=r["comment"],
                reviewed_on=_date(r["reviewed_on"]) or dt.date.min,
            )
            for r in reviews
        ],
    )


async def versions_of(village_id: int) -> list[RulesOut]:
    rows = await RulesVersion.select(RulesVersion.id).where(RulesVersion.village == village_id)
    return sorted(
        [await get_rules(row["id"]) for row in rows], key=lambda r: r.version, reverse=True
    )


async def published_rules(village_id: int) -> RulesOut | None:
    """The village's rules in force (for the public page)."""
    row = (
        await RulesVersion.select(RulesVersion.id)
        .where(
            (RulesVersion.village == village_id)
            & (RulesVersion.status == RulesStatus.published.value)
        )
        .order_by(RulesVersion.version, ascending=False)
        .first()
    )
    return await get_rules(row["id"]) if row else None


async def _event(user: CurrentUser, step: str, rules_id: int, payload: dict[str, Any]) -> None:
    await append_event(
        Actor.account(user.account_id), f"village_rules.{step}", "village_rules", rules_id, payload
    )


async def _move(
    user: CurrentUser,
    current: RulesOut,
    step: str,
    source: RulesStatus,
    target: RulesStatus,
    values: dict[Any, Any] | None = None,
    payload: dict[str, Any] | None = None,
) -> RulesOut:
    if current.status is not source:
        raise WrongStep(step=step, status=current.status.value)
    async with db.write_transaction():
        changed = (
            await RulesVersion.update({**(values or {}), RulesVersion.status: target.value})
            .where((RulesVersion.id == current.id) & (RulesVersion.status == source.value))
            .returning(RulesVersion.id)
        )
        if not changed:
            raise WrongStep(step=step, status=current.status.value)
        await _event(user, step, current.id, {"village_id": current.village_id, **(payload or {})})
        await CHANGED.changed(current.village_id)
    return await get_rules(current.id)


def _clean_draft(data: DraftIn) -> tuple[str, str]:
    title, text = data.title.strip()[:MAX_TITLE], data.text.strip()
    if not title or not text or len(text) > MAX_TEXT:
        raise TextRequired()
    return title, text


async def create_draft(user: CurrentUser, village_id: int, data: DraftIn) -> RulesOut:
    """A new version drafted by the two committees; one after a published version needs a
    reason, and only one version may be open at a time."""
    await require_township_writer(user, village_id)
    title, text = _clean_draft(data)
    reason = data.version_reason.strip()[:MAX_COMMENT]
    async with db.write_transaction():
        existing = await versions_of(village_id)
        if any(v.status not in (RulesStatus.published, RulesStatus.superseded) for v in existing):
            raise OpenVersionExists()
        if any(v.status is RulesStatus.published for v in existing) and not reason:
            raise ReasonRequired()
        version = max((v.version for v in existing), default=0) + 1
        rows = await RulesVersion.insert(
            RulesVersion(
                village=village_id,
                kind=data.kind.value,
                version=version,
                title=title,
                text=text,
                version_reason=reason,
                anti_gang_marked=data.anti_gang_marked,
                anti_gang_excerpt=data.anti_gang_excerpt.strip()[:MAX_COMMENT],
                status=RulesStatus.draft.value,
                created_by=user.account_id,
            )
        ).returning(RulesVersion.id)
        rules_id = int(rows[0]["id"])
        await _event(user, "drafted", rules_id, {"village_id": village_id, "version": version})
        await CHANGED.changed(village_id)
    return await get_rules(rules_id)


async def update_draft(user: CurrentUser, rules_id: int, data: DraftIn) -> RulesOut:
    """Change a draft (a returned one too); nothing else is edited in place."""
    current = await get_rules(rules_id)
    await require_township_writer(user, current.village_id)
    if current.status is not RulesStatus.draft:
        raise WrongStep(step="edit", status=current.status.value)
    title, text = _clean_draft(data)
    async with db.write_transaction():
        await RulesVersion.update(
            {
                RulesVersion.title: title,
                RulesVersion.text: text,
                RulesVersion.kind: data.kind.value,
                RulesVersion.anti_gang_marked: data.anti_gang_marked,
                RulesVersion.anti_gang_excerpt: data.anti_gang_excerpt.strip()[:MAX_COMMENT],
            }
        ).where((RulesVersion.id == rules_id) & (RulesVersion.status == RulesStatus.draft.value))
        await _event(user, "edited", rules_id, {"village_id": current.village_id})
    return await get_rules(rules_id)


async def submit(user: CurrentUser, rules_id: int) -> RulesOut:
    """Send the draft to the township for review (提请审核)."""
    current = await get_rules(rules_id)
    await require_township_writer(user, current.village_id)
    raise_if(
        rules.anti_gang_failures(current.text, current.anti_gang_marked, current.anti_gang_excerpt)
    )
    return await _move(user, current, "submitted", RulesStatus.draft, RulesStatus.township_review)


async def review(
    user: CurrentUser, rules_id: int, data: ReviewIn, *, today: dt.date | None = None
) -> RulesOut:
    """The township's review, then the county legal affairs office's; either approves or
    returns the draft with comments (a return needs a comment)."""
    current = await get_rules(rules_id)
    comment = data.comment.strip()[:MAX_COMMENT]
    if current.status is RulesStatus.township_review:
        await require_township_writer(user, current.village_id)
        level, target = ReviewLevel.township, RulesStatus.county_review
    elif current.status is RulesStatus.county_review:
        await require_village(user, current.village_id)
        require_county(user)
        level, target = ReviewLevel.county_legal, RulesStatus.adoption
    else:
        raise WrongStep(step="review", status=current.status.value)
    if not data.approved and not comment:
        raise CommentRequired()
    async with db.write_transaction():
        await RulesReview.insert(
            RulesReview(
                rules=rules_id,
                level=level.value,
                approved=data.approved,
                comment=comment,
                reviewer_id=user.account_id,
                reviewed_on=today or today_local(),
            )
        )
        return await _move(
            user,
            current,
            f"{level.value}_{'approved' if data.approved else 'returned'}",
            current.status,
            target if data.approved else RulesStatus.draft,
        )


async def record_adoption(
    user: CurrentUser,
    rules_id: int,
    data: AdoptionIn,
    *,
    adoption_rules: AdoptionRules = DEFAULT_ADOPTION,
) -> RulesOut:
    """The villagers' meeting's vote or the households' signatures, checked (Art. 22;
    the county's signature threshold) together with the marked anti-gang clause."""
    current = await get_rules(rules_id)
    await require_township_writer(user, current.village_id)
    if current.status is not RulesStatus.adoption:
        raise WrongStep(step="adopt", status=current.status.value)
    failures = rules.anti_gang_failures(
        current.text, current.anti_gang_marked, current.anti_gang_excerpt
    )
    if data.method is AdoptionMethod.villagers_meeting:
        failures += rules.meeting_failures(
            data.eligible_voters,
            data.attended,
            data.votes_for,
            data.households_total,
            data.attended_households,
        )
    else:
        failures += rules.signature_failures(
            data.households_total, data.households_signed, adoption_rules
        )
    raise_if(failures)
    values = {
        RulesVersion.adoption_method: data.method.value,
        RulesVersion.adopted_on: data.adopted_on,
        RulesVersion.eligible_voters: data.eligible_voters,
        RulesVersion.attended: data.attended,
        RulesVersion.votes_for: data.votes_for,
        RulesVersion.households_total: data.households_total,
        RulesVersion.attended_households: data.attended_households,
        RulesVersion.households_signed: data.households_signed,
    }
    return await _move(
        user,
        current,
        "adopted",
        RulesStatus.adoption,
        RulesStatus.adopted,
        values,
        {"method": data.method.value, "adopted_on": data.adopted_on.isoformat()},
    )


async def file_with_township(user: CurrentUser, rules_id: int, filed_on: dt.date) -> RulesOut:
    """Filed with the township government (备案, Art. 27)."""
    current = await get_rules(rules_id)
    await require_township_writer(user, current.village_id)
    return await _move(
        user,
        current,
        "filed",
        RulesStatus.adopted,
        RulesStatus.filed,
        {RulesVersion.filed_on: filed_on},
        {"filed_on": filed_on.isoformat()},
    )


async def publish(user: CurrentUser, rules_id: int, published_on: dt.date) -> RulesOut:
    """Published (公布) to the villagers; the version it replaces is superseded."""
    current = await get_rules(rules_id)
    await require_township_writer(user, current.village_id)
    async with db.write_transaction():
        await RulesVersion.update({RulesVersion.status: RulesStatus.superseded.value}).where(
            (RulesVersion.village == current.village_id)
            & (RulesVersion.status == RulesStatus.published.value)
        )
        return await _move(
            user,
            current,
            "published",
            RulesStatus.filed,
            RulesStatus.published,
            {RulesVersion.published_on: published_on},
            {"published_on": published_on.isoformat()},
        )


async def review_queue(user: CurrentUser) -> list[tuple[RulesOut, str]]:
    """Versions waiting for this user's review: the township's own, or the county's."""
    from tipline.orgunits.services import visible_unit_ids

    status = (
        RulesStatus.township_review
        if user.role is Role.township_staff
        else RulesStatus.county_review
    )
    visible = await visible_unit_ids(user)
    rows = await RulesVersion.select(
        RulesVersion.id, RulesVersion.village, RulesVersion.village.name.as_alias("village_name")
    ).where(RulesVersion.status == status.value)
    return [
        (await get_rules(row["id"]), row["village_name"])
        for row in rows
        if row["village"] in visible
    ]
