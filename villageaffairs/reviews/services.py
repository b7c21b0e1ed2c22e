"""Look-back reviews (回头看) of everyone in scope in a village.

Starting a review lists every person in scope on that day: sitting committee members
and holders of village posts (representatives, group leaders, hired staff,
accountant, bookkeeper). Each item is decided as "no issue" or "issue found" with
the issue and the action; a removal ends the membership (opening a vacancy) or the
post, in the same transaction. The township signs off when every item is decided,
and the review goes up the approval chain (report kind ``lookback``).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from tipline import db
from tipline.auth import CurrentUser, Role
from tipline.ledger.services import Actor, append_event
from tipline.orgunits.services import get_unit, require_visible, visible_unit_ids
from villageaffairs.committees import services as committees
from villageaffairs.committees.tables import EndReason
from villageaffairs.legal import raise_if
from villageaffairs.people import services as people
from villageaffairs.reports import services as reports
from villageaffairs.reports.schemas import ReportOut
from villageaffairs.reviews import rules
from villageaffairs.reviews.exceptions import (
    BadItem,
    ItemNotFound,
    NotTownshipStaff,
    ReviewClosed,
    ReviewExists,
    ReviewNotFound,
)
from villageaffairs.reviews.schemas import ItemOut, ReviewOut
from villageaffairs.reviews.tables import (
    Action,
    Issue,
    LookbackItem,
    LookbackReview,
    Outcome,
    ReviewStatus,
)

KIND = "lookback"
LEDGER_NO = re.compile(r"\d{4}-\d{3,8}")


def _item_out(row: dict[str, Any]) -> ItemOut:
    return ItemOut(
        id=row["id"],
        person_id=row["person"],
        name=row["name"],
        role=row["role"],
        outcome=row["outcome"],
        issue=row["issue"],
        action=row["action"],
        referral_ledger_no=row["referral_ledger_no"],
        document_ref=row["document_ref"],
        decided_on=row["decided_on"],
    )


def _is_handled(item: ItemOut) -> bool:
    return item.outcome == Outcome.no_issue or (
        item.outcome == Outcome.issue_found and bool(item.action)
    )


async def _out(row: dict[str, Any], with_items: bool = True) -> ReviewOut:
    rows = (
        await LookbackItem.select(
            *LookbackItem.all_columns(), LookbackItem.person.name.as_alias("name")
        )
        .where(LookbackItem.review == row["id"])
        .order_by(LookbackItem.id)
    )
    items = [_item_out(r) for r in rows]
    return ReviewOut(
        id=row["id"],
        village_id=row["village"],
        village_name=(await get_unit(row["village"])).name,
        campaign=row["campaign"],
        status=ReviewStatus(row["status"]),
        started_on=row["started_on"],
        signed_off_on=row["signed_off_on"],
        total=len(items),
        cleared=sum(1 for i in items if i.outcome == Outcome.no_issue),
        handled=sum(1 for i in items if i.outcome == Outcome.issue_found and i.action),
        pending=sum(1 for i in items if not _is_handled(i)),
        items=items if with_items else [],
    )


async def get_review(user: CurrentUser, review_id: int) -> ReviewOut:
    row = await LookbackReview.select().where(LookbackReview.id == review_id).first()
    if row is None:
        raise ReviewNotFound(review_id=review_id)
    await require_visible(user, row["village"])
    return await _out(row)


async def list_reviews(user: CurrentUser, village_id: int | None = None) -> list[ReviewOut]:
    query = LookbackReview.select()
    if village_id is not None:
        await require_visible(user, village_id)
        query = query.where(LookbackReview.village == village_id)
    elif not user.is_county_level:
        query = query.where(LookbackReview.village.is_in(list(await visible_unit_ids(user))))
    rows = await query.order_by(LookbackReview.id, ascending=False)
    return [await _out(row, with_items=False) for row in rows]


def _township_only(user: CurrentUser) -> None:
    if user.role is not Role.township_staff:
        raise NotTownshipStaff()


async def start_review(
    user: CurrentUser, village_id: int, campaign: str = "2020", on: dt.date | None = None
) -> ReviewOut:
    """Open the village's review with one item per person in scope on ``on``."""
    _township_only(user)
    await require_visible(user, village_id)
    day = on or dt.date.today()
    label = (campaign or "2020").strip()[:40]
    members = await committees.current_members(village_id, day)
    posts = await people.current_posts(village_id, on=day)
    async with db.write_transaction():
        if await LookbackReview.exists().where(
            (LookbackReview.village == village_id) & (LookbackReview.campaign == label)
        ):
            raise ReviewExists()
        inserted = await LookbackReview.insert(
            LookbackReview(
                village=village_id, campaign=label, started_on=day, created_by=user.account_id
            )
        ).returning(LookbackReview.id)
        review_id = inserted[0]["id"]
        items = [
            LookbackItem(
                review=review_id,
                person=m.person_id,
                role=m.post.value,
                membership_id=m.membership_id,
            )
            for m in members
        ] + [
            LookbackItem(review=review_id, person=p.person_id, role=p.kind.value, post_id=p.id)
            for p in posts
        ]
        if items:
            await LookbackItem.insert(*items)
        await append_event(
            Actor.account(user.account_id),
            "lookback.started",
            "lookback",
            review_id,
            {"village_id": village_id, "items": len(items)},
        )
    return await get_review(user, review_id)


async def decide(
    user: CurrentUser,
    item_id: int,
    outcome: str,
    issue: str = "",
    action: str = "",
    referral_ledger_no: str = "",
    document_ref: str = "",
    on: dt.date | None = None,
) -> ReviewOut:
    """Decide one person's item; "removed" or "resigned" ends their office at once."""
    _township_only(user)
    row = (
        await LookbackItem.select(
            *LookbackItem.all_columns(),
            LookbackItem.person.name.as_alias("name"),
            LookbackItem.review.village.as_alias("village"),
            LookbackItem.review.status.as_alias("review_status"),
        )
        .where(LookbackItem.id == item_id)
        .first()
    )
    if row is None:
        raise ItemNotFound(item_id=item_id)
    await require_visible(user, row["village"])
    await reports.require_editable(KIND, row["review"])
    if row["review_status"] != ReviewStatus.open.value:
        raise ReviewClosed()
    if row["outcome"] != Outcome.pending.value and not await _correcting(row):
        raise BadItem()
    if outcome not in (Outcome.no_issue, Outcome.issue_found):
        raise BadItem()
    if outcome == Outcome.no_issue:
        issue, action, referral_ledger_no = "", "", ""
    elif (issue and issue not in tuple(Issue)) or (action and action not in tuple(Action)):
        raise BadItem()
    ledger_no = referral_ledger_no.strip()
    if ledger_no and not LEDGER_NO.fullmatch(ledger_no):
        raise BadItem()
    raise_if(
        rules.issue_has_action(row["name"], outcome, issue, action)
        + rules.referral_names_ledger_no(row["name"], action, ledger_no)
    )
    day = on or dt.date.today()
    actor = Actor.account(user.account_id)
    async with db.write_transaction():
        await LookbackItem.update(
            {
                LookbackItem.outcome: outcome,
                LookbackItem.issue: issue,
                LookbackItem.action: action,
                LookbackItem.referral_ledger_no: ledger_no,
                LookbackItem.document_ref: document_ref.strip()[:100],
                LookbackItem.decided_on: day,
            }
        ).where(LookbackItem.id == item_id)
        if action in (Action.removed, Action.resigned):
            reason = EndReason.lookback_removed if action == Action.removed else EndReason.resigned
            if row["membership_id"] is not None:
                await committees.end_membership(actor, row["membership_id"], day, reason)
            elif row["post_id"] is not None:
                await people.end_post(actor, row["post_id"], day, reason.value)
        await append_event(
            actor,
            "lookback.decided",
            "lookback",
            row["review"],
            {"item_id": item_id, "outcome": outcome, "issue": issue, "action": action},
        )
    return await get_review(user, row["review"])


async def _correcting(row: dict[str, Any]) -> bool:
    """A decided item may be decided again only in a correction (a new report version
    opened with a reason after acceptance), and never once its office has ended."""
    if row["action"] in (Action.removed, Action.resigned):
        return False
    latest = await reports.latest_for_subject(KIND, row["review"])
    return latest is not None and latest.version > 1


async def _reopen_for_correction(report: ReportOut, step: str) -> None:
    """A new version of an accepted look-back reopens the review for the correction."""
    if step == "new_version":
        await LookbackReview.update(
            {LookbackReview.status: ReviewStatus.open.value, LookbackReview.signed_off_on: None}
        ).where(LookbackReview.id == report.subject_id)


async def sign_off(user: CurrentUser, review_id: int, on: dt.date | None = None) -> ReviewOut:
    """The township signs the village off once every item is cleared or handled."""
    _township_only(user)
    review = await get_review(user, review_id)
    if review.status is not ReviewStatus.open:
        raise ReviewClosed()
    raise_if(rules.everyone_handled([i.name for i in review.items if not _is_handled(i)]))
    async with db.write_transaction():
        await LookbackReview.update(
            {
                LookbackReview.status: ReviewStatus.signed_off.value,
                LookbackReview.signed_off_on: on or dt.date.today(),
                LookbackReview.signed_off_by: user.account_id,
            }
        ).where(LookbackReview.id == review_id)
        await append_event(
            Actor.account(user.account_id),
            "lookback.signed_off",
            "lookback",
            review_id,
            {"village_id": review.village_id},
        )
        await reports.create_report(user, KIND, review.village_id, review_id)
    return await get_review(user, review_id)


async def _submit_check(review_id: int) -> None:
    row = (
        await LookbackReview.select(LookbackReview.status)
        .where(LookbackReview.id == review_id)
        .first()
    )
    if row is None or row["status"] != ReviewStatus.signed_off.value:
        raise ReviewClosed()


reports.register_submit_check(KIND, _submit_check)
reports.on_step(KIND, _reopen_for_correction)
reports.register_subject_url(KIND, lambda subject_id: f"/villageaffairs/lookbacks/{subject_id}")
