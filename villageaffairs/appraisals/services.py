"""Democratic appraisals: rounds, votes per cadre, computed verdicts, Art. 33's end of
office after a second consecutive "not competent", and publication after the
township's approval.

Entering results runs every rule of :mod:`villageaffairs.appraisals.rules`; a
member's second consecutive "not competent" ends the membership
(``appraisal_twice_unfit``) and opens a vacancy in the same transaction. The round
then goes up the approval chain (report kind ``appraisal``); results are published
once the township has approved.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tipline import db
from tipline.auth import CurrentUser, Role
from tipline.ledger.services import Actor, append_event
from tipline.orgunits.services import get_unit, require_visible, visible_unit_ids
from villageaffairs.appraisals import rules
from villageaffairs.appraisals.exceptions import (
    BadRound,
    NotAMember,
    NotApprovedYet,
    NotTownshipStaff,
    RoundNotFound,
    WrongRoundStatus,
)
from villageaffairs.appraisals.schemas import RoundOut, VoteIn, VoteOut
from villageaffairs.appraisals.tables import (
    AppraisalRound,
    AppraisalVote,
    Forum,
    RoundKind,
    RoundStatus,
)
from villageaffairs.committees import services as committees
from villageaffairs.committees.tables import EndReason
from villageaffairs.legal import RuleFailure, province_profile, raise_if
from villageaffairs.reports import services as reports
from villageaffairs.reports.tables import ReportStatus

KIND = "appraisal"


async def _out(row: dict[str, Any], with_votes: bool = True) -> RoundOut:
    votes: list[VoteOut] = []
    if with_votes:
        rows = (
            await AppraisalVote.select(
                *AppraisalVote.all_columns(),
                AppraisalVote.membership.person.name.as_alias("name"),  # type: ignore[union-attr]
                AppraisalVote.membership.post.as_alias("post"),
            )
            .where(AppraisalVote.round == row["id"])
            .order_by(AppraisalVote.id)
        )
        votes = [
            VoteOut(
                membership_id=v["membership"],
                name=v["name"],
                post=v["post"],
                competent=v["competent"],
                basically_competent=v["basically_competent"],
                not_competent=v["not_competent"],
                verdict=v["verdict"],
                gang_involvement=v["gang_involvement"],
                law_discipline_violation=v["law_discipline_violation"],
                office_ended=v["office_ended"],
            )
            for v in rows
        ]
    return RoundOut(
        id=row["id"],
        village_id=row["village"],
        village_name=(await get_unit(row["village"])).name,
        year=row["year"],
        kind=RoundKind(row["kind"]),
        host=row["host"],
        forum=Forum(row["forum"]),
        participants=row["participants"],
        held_on=row["held_on"],
        status=RoundStatus(row["status"]),
        province=row["province"],
        published_on=row["published_on"],
        votes=votes,
    )


async def get_round(user: CurrentUser, round_id: int) -> RoundOut:
    row = await AppraisalRound.select().where(AppraisalRound.id == round_id).first()
    if row is None:
        raise RoundNotFound(round_id=round_id)
    await require_visible(user, row["village"])
    return await _out(row)


async def list_rounds(user: CurrentUser, village_id: int | None = None) -> list[RoundOut]:
    query = AppraisalRound.select()
    if village_id is not None:
        await require_visible(user, village_id)
        query = query.where(AppraisalRound.village == village_id)
    elif not user.is_county_level:
        query = query.where(AppraisalRound.village.is_in(list(await visible_unit_ids(user))))
    rows = await query.order_by(AppraisalRound.held_on, ascending=False)
    return [await _out(row, with_votes=False) for row in rows]


def _township_only(user: CurrentUser) -> None:
    if user.role is not Role.township_staff:
        raise NotTownshipStaff()


async def create_round(
    user: CurrentUser,
    village_id: int,
    year: int,
    kind: str,
    forum: str,
    participants: int,
    held_on: dt.date,
    host: str = "",
) -> RoundOut:
    """Record an appraisal held by the villagers' meeting or representatives' assembly."""
    _township_only(user)
    await require_visible(user, village_id)
    if kind not in tuple(RoundKind) or forum not in tuple(Forum) or not 2000 <= year <= 2100:
        raise BadRound()
    raise_if(rules.participants_positive(participants))
    async with db.write_transaction():
        inserted = await AppraisalRound.insert(
            AppraisalRound(
                village=village_id,
                year=year,
                kind=kind,
                forum=forum,
                participants=participants,
                held_on=held_on,
                host=host.strip()[:100],
                province=province_profile().code,
                created_by=user.account_id,
            )
        ).returning(AppraisalRound.id)
        await append_event(
            Actor.account(user.account_id),
            "appraisal.created",
            "appraisal",
            inserted[0]["id"],
            {"village_id": village_id, "kind": kind},
        )
    return await get_round(user, inserted[0]["id"])


async def _previous_verdict(village_id: int, membership_id: int, before: dt.date) -> str | None:
    row = (
        await AppraisalVote.select(AppraisalVote.verdict)
        .where(
            (AppraisalVote.membership == membership_id)
            & (AppraisalVote.round.village == village_id)
            & (AppraisalVote.round.held_on < before)
            & (AppraisalVote.round.status != RoundStatus.draft.value)
        )
        .order_by(AppraisalVote.round.held_on, ascending=False)
        .first()
    )
    return row["verdict"] if row else None


async def record_results(user: CurrentUser, round_id: int, votes: list[VoteIn]) -> RoundOut:
    """Enter the votes for each sitting cadre; verdicts are computed. A second
    consecutive "not competent" ends that office at once (Art. 33) and opens a vacancy.
    A draft report for the approval chain is made."""
    _township_only(user)
    current = await get_round(user, round_id)
    await reports.require_editable(KIND, round_id)
    if current.status is not RoundStatus.draft:
        raise WrongRoundStatus(status=current.status.value)
    sitting = {
        m.membership_id: m
        for m in await committees.current_members(current.village_id, current.held_on)
    }
    if not votes or len({v.membership_id for v in votes}) != len(votes):
        raise BadRound()
    failures: list[RuleFailure] = []
    for vote in votes:
        if vote.membership_id not in sitting:
            raise NotAMember(membership_id=vote.membership_id)
        failures += rules.votes_within_participants(
            sitting[vote.membership_id].name,
            vote.competent,
            vote.basically_competent,
            vote.not_competent,
            current.participants,
        )
    raise_if(failures)
    profile = province_profile(current.province)
    actor = Actor.account(user.account_id)
    async with db.write_transaction():
        for vote in votes:
            verdict = rules.verdict(
                vote.competent,
                vote.basically_competent,
                vote.not_competent,
                current.participants,
                current.forum.value,
                profile,
            )
            previous = await _previous_verdict(
                current.village_id, vote.membership_id, current.held_on
            )
            ends = rules.office_ends(previous, verdict)
            await AppraisalVote.insert(
                AppraisalVote(
                    round=round_id,
                    membership=vote.membership_id,
                    competent=vote.competent,
                    basically_competent=vote.basically_competent,
                    not_competent=vote.not_competent,
                    verdict=verdict,
                    gang_involvement=vote.gang_involvement,
                    law_discipline_violation=vote.law_discipline_violation,
                    office_ended=ends,
                )
            )
            if ends:
                await committees.end_membership(
                    actor,
                    vote.membership_id,
                    current.held_on,
                    EndReason.appraisal_twice_unfit,
                    note=f"appraisal {round_id}",
                )
        await AppraisalRound.update({AppraisalRound.status: RoundStatus.results.value}).where(
            AppraisalRound.id == round_id
        )
        await append_event(
            actor,
            "appraisal.results_recorded",
            "appraisal",
            round_id,
            {"village_id": current.village_id, "cadres": len(votes)},
        )
        await reports.create_report(user, KIND, current.village_id, round_id)
    return await get_round(user, round_id)


async def publish(user: CurrentUser, round_id: int, on: dt.date | None = None) -> RoundOut:
    """Publish the results, once the township has approved the appraisal report."""
    _township_only(user)
    current = await get_round(user, round_id)
    if current.status is not RoundStatus.results:
        raise WrongRoundStatus(status=current.status.value)
    report = await reports.latest_for_subject(KIND, round_id)
    if report is None or report.status not in (
        ReportStatus.township_approved,
        ReportStatus.accepted,
    ):
        raise NotApprovedYet()
    async with db.write_transaction():
        await AppraisalRound.update(
            {
                AppraisalRound.status: RoundStatus.published.value,
                AppraisalRound.published_on: on or dt.date.today(),
            }
        ).where(AppraisalRound.id == round_id)
        await append_event(
            Actor.account(user.account_id),
            "appraisal.published",
            "appraisal",
            round_id,
            {"village_id": current.village_id},
        )
    return await get_round(user, round_id)


async def published_results(village_id: int) -> list[RoundOut]:
    """Published rounds of a village (for public pages: names, posts and verdicts)."""
    rows = (
        await AppraisalRound.select()
        .where(
            (AppraisalRound.village == village_id)
            & (AppraisalRound.status == RoundStatus.published.value)
        )
        .order_by(AppraisalRound.held_on, ascending=False)
    )
    return [await _out(row) for row in rows]


async def _submit_check(round_id: int) -> None:
    row = (
        await AppraisalRound.select(AppraisalRound.status)
        .where(AppraisalRound.id == round_id)
        .first()
    )
    if row is None or row["status"] == RoundStatus.draft.value:
        raise WrongRoundStatus(status="draft")


reports.register_submit_check(KIND, _submit_check)
reports.register_subject_url(KIND, lambda subject_id: f"/villageaffairs/appraisals/{subject_id}")
