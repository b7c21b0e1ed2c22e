"""Village committees: recording a general-election result, reading the sitting
members, ending a membership (which opens a vacancy), and vacancies.

Members are never typed into a committee freely: they come from a recorded election
result (:func:`record_committee`) or a filed by-election
(:func:`add_member_from_by_election`), as Art. 11 requires. A membership ends with
one of the reasons of :class:`EndReason`; any end before the term's end opens a
:class:`Vacancy` at once, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import msgspec

from tipline import db
from tipline.auth import CurrentUser
from tipline.ledger.services import SYSTEM, Actor, append_event
from tipline.orgunits.services import require_visible, visible_unit_ids
from tipline.orgunits.tables import VILLAGE_KINDS, OrgUnit
from villageaffairs.committees import rules
from villageaffairs.committees.exceptions import (
    BadEndReason,
    CommitteeNotFound,
    MembershipAlreadyEnded,
    MembershipNotFound,
    PersonOfOtherVillage,
    TermOverlaps,
    VacancyNotFound,
    VacancyNotOpen,
)
from villageaffairs.committees.schemas import (
    CommitteeOut,
    CommitteeView,
    MemberIn,
    MemberOut,
    VacancyOut,
)
from villageaffairs.committees.tables import (
    EndReason,
    MemberPost,
    Membership,
    MemberSource,
    Vacancy,
    VacancyStatus,
    VillageCommittee,
)
from villageaffairs.legal import province_profile, raise_if
from villageaffairs.people.tables import Gender, Person, Relation

# Reasons township staff record by hand; the others come from their own process.
MANUAL_END_REASONS = (
    EndReason.resigned,
    EndReason.recalled,
    EndReason.criminal_sentence,
    EndReason.incapacity,
    EndReason.died,
)


def _today(on: dt.date | None) -> dt.date:
    return on or dt.date.today()


def _committee_out(row: dict[str, Any]) -> CommitteeOut:
    return CommitteeOut(
        id=row["id"],
        village_id=row["village"],
        term_start=row["term_start"],
        term_end=row["term_end"],
        seats=row["seats"],
        law_version=row["law_version"],
    )


async def get_committee(committee_id: int) -> CommitteeOut:
    row = await VillageCommittee.select().where(VillageCommittee.id == committee_id).first()
    if row is None:
        raise CommitteeNotFound(committee_id=committee_id)
    return _committee_out(row)


async def committee_for(village_id: int, on: dt.date | None = None) -> CommitteeOut | None:
    """The committee whose term covers ``on`` (the latest one started by then)."""
    day = _today(on)
    row = (
        await VillageCommittee.select()
        .where(
            (VillageCommittee.village == village_id)
            & (VillageCommittee.term_start <= day)
            & (VillageCommittee.term_end > day)
        )
        .order_by(VillageCommittee.term_start, ascending=False)
        .first()
    )
    return _committee_out(row) if row else None


_MEMBER_COLUMNS = (
    Membership.id,
    Membership.committee,
    Membership.person,
    Membership.person.name.as_alias("name"),
    Membership.person.gender.as_alias("gender"),
    Membership.post,
    Membership.start,
    Membership.end,
    Membership.end_reason,
    Membership.source,
)


def _member_out(row: dict[str, Any]) -> MemberOut:
    return MemberOut(
        membership_id=row["id"],
        committee_id=row["committee"],
        person_id=row["person"],
        name=row["name"],
        gender=Gender(row["gender"]),
        post=MemberPost(row["post"]),
        start=row["start"],
        end=row["end"],
        end_reason=row["end_reason"],
        source=row["source"],
    )


_POST_ORDER = {MemberPost.director: 0, MemberPost.deputy: 1, MemberPost.member: 2}


async def members_of(committee_id: int, on: dt.date | None = None) -> list[MemberOut]:
    """Members sitting on ``on``; with ``on=None``, those whose membership has not ended."""
    query = Membership.select(*_MEMBER_COLUMNS).where(Membership.committee == committee_id)
    if on is None:
        query = query.where(Membership.end.is_null())
    else:
        query = query.where(
            (Membership.start <= on) & (Membership.end.is_null() | (Membership.end > on))
        )
    rows = await query.order_by(Membership.id)
    members = [_member_out(row) for row in rows]
    return sorted(members, key=lambda m: (_POST_ORDER[m.post], m.membership_id))


async def current_members(village_id: int, on: dt.date | None = None) -> list[MemberOut]:
    """The sitting members of the village's committee (director first), [] without one."""
    committee = await committee_for(village_id, on)
    if committee is None:
        return []
    return await members_of(committee.id, on)


async def _relations_among(person_ids: list[int]) -> list[tuple[str, str, str]]:
    if len(person_ids) < 2:
        return []
    rows = await Relation.select(
        Relation.person_a.name.as_alias("a"),
        Relation.person_b.name.as_alias("b"),
        Relation.kind,
    ).where(Relation.person_a.is_in(person_ids) & Relation.person_b.is_in(person_ids))
    return [(row["a"], row["b"], row["kind"]) for row in rows]


async def composition_failures(seats: int, person_posts: list[tuple[int, str]]) -> list[Any]:
    """The composition rules for ``seats`` and (person id, post) pairs."""
    ids = [pid for pid, _ in person_posts]
    people = {
        row["id"]: row
        for row in await Person.select(Person.id, Person.name, Person.gender).where(
            Person.id.is_in(ids or [0])
        )
    }
    members = [
        (people[pid]["name"], people[pid]["gender"], post)
        for pid, post in person_posts
        if pid in people
    ]
    return rules.composition(
        seats,
        members,
        await _relations_among(ids),
        province_profile().spouses_and_lineal_barred,
    )


async def record_committee(
    user: CurrentUser,
    village_id: int,
    term_start: dt.date,
    seats: int,
    members: list[MemberIn],
) -> CommitteeOut:
    """Record a general election's result: the committee with its elected members.

    Refused with every failing rule (seats 3-7, at least one woman, one director,
    relatives) before anything is written.
    """
    village = await require_visible(user, village_id)
    if village.kind not in VILLAGE_KINDS:
        raise CommitteeNotFound(committee_id=0)
    person_ids = [m.person_id for m in members]
    rows = await Person.select(Person.id, Person.village).where(Person.id.is_in(person_ids or [0]))
    villages = {row["id"]: row["village"] for row in rows}
    for pid in person_ids:
        if villages.get(pid) != village_id:
            raise PersonOfOtherVillage(person_id=pid)
    raise_if(await composition_failures(seats, [(m.person_id, m.post.value) for m in members]))
    term_end = rules.term_end_for(term_start)
    async with db.write_transaction():
        overlapping = await VillageCommittee.exists().where(
            (VillageCommittee.village == village_id)
            & (VillageCommittee.term_start < term_end)
            & (VillageCommittee.term_end > term_start)
        )
        if overlapping:
            raise TermOverlaps()
        inserted = await VillageCommittee.insert(
            VillageCommittee(
                village=village_id,
                term_start=term_start,
                term_end=term_end,
                seats=seats,
                law_version="2018" if term_start >= rules.FIVE_YEAR_TERMS_FROM else "2010",
                created_by=user.account_id,
            )
        ).returning(VillageCommittee.id)
        committee_id = inserted[0]["id"]
        await Membership.insert(
            *(
                Membership(
                    committee=committee_id,
                    person=m.person_id,
                    post=m.post.value,
                    start=term_start,
                    source=MemberSource.general_election.value,
                )
                for m in members
            )
        )
        await append_event(
            Actor.account(user.account_id),
            "va_committee.recorded",
            "va_committee",
            committee_id,
            {"village_id": village_id, "seats": seats, "members": len(members)},
        )
    return await get_committee(committee_id)


async def _membership_row(membership_id: int) -> dict[str, Any]:
    row = (
        await Membership.select(
            *_MEMBER_COLUMNS,
            Membership.committee.village.as_alias("village"),
            Membership.committee.term_end.as_alias("term_end"),
        )
        .where(Membership.id == membership_id)
        .first()
    )
    if row is None:
        raise MembershipNotFound(membership_id=membership_id)
    return row


async def end_membership(
    actor: Actor, membership_id: int, on: dt.date, reason: EndReason, note: str = ""
) -> VacancyOut | None:
    """End a membership and, unless the term itself ended, open a vacancy for its post.

    Joins the caller's write transaction (appraisals and look-backs end memberships as
    part of their own change).
    """
    async with db.write_transaction():
        row = await _membership_row(membership_id)
        changed = (
            await Membership.update({Membership.end: on, Membership.end_reason: reason.value})
            .where((Membership.id == membership_id) & Membership.end.is_null())
            .returning(Membership.id)
        )
        if not changed:
            raise MembershipAlreadyEnded(membership_id=membership_id)
        await append_event(
            actor,
            "va_membership.ended",
            "va_membership",
            membership_id,
            {"village_id": row["village"], "reason": reason.value},
        )
        if reason is EndReason.term_end or on >= row["term_end"]:
            return None
        inserted = await Vacancy.insert(
            Vacancy(
                committee=row["committee"],
                post=row["post"],
                opened_on=on,
                cause=membership_id,
                status=VacancyStatus.open.value,
                note=note[:500],
            )
        ).returning(Vacancy.id)
        await append_event(
            actor,
            "va_vacancy.opened",
            "va_vacancy",
            inserted[0]["id"],
            {"village_id": row["village"], "post": row["post"], "cause": membership_id},
        )
    return await get_vacancy(inserted[0]["id"])


async def end_membership_by_hand(
    user: CurrentUser, membership_id: int, on: dt.date, reason: str
) -> VacancyOut | None:
    """Township staff record a resignation, recall, sentence, incapacity or death."""
    row = await _membership_row(membership_id)
    await require_visible(user, row["village"])
    if reason not in tuple(r.value for r in MANUAL_END_REASONS):
        raise BadEndReason(reason=reason)
    return await end_membership(
        Actor.account(user.account_id), membership_id, on, EndReason(reason)
    )


_VACANCY_COLUMNS = (
    *Vacancy.all_columns(),
    Vacancy.committee.village.as_alias("village"),
    Vacancy.cause.end_reason.as_alias("cause_reason"),
    Vacancy.cause.person.name.as_alias("cause_name"),  # type: ignore[union-attr]
)


def _vacancy_out(row: dict[str, Any]) -> VacancyOut:
    return VacancyOut(
        id=row["id"],
        committee_id=row["committee"],
        village_id=row["village"],
        post=MemberPost(row["post"]),
        opened_on=row["opened_on"],
        status=VacancyStatus(row["status"]),
        cause_membership_id=row["cause"],
        cause_reason=row["cause_reason"] or "",
        cause_name=row["cause_name"] or "",
        filled_by_membership_id=row["filled_by"],
        closed_on=row["closed_on"],
        note=row["note"],
    )


async def get_vacancy(vacancy_id: int) -> VacancyOut:
    row = await Vacancy.select(*_VACANCY_COLUMNS).where(Vacancy.id == vacancy_id).first()
    if row is None:
        raise VacancyNotFound(vacancy_id=vacancy_id)
    return _vacancy_out(row)


async def require_vacancy(user: CurrentUser, vacancy_id: int) -> VacancyOut:
    vacancy = await get_vacancy(vacancy_id)
    await require_visible(user, vacancy.village_id)
    return vacancy


async def vacancies(
    village_ids: Iterable[int] | None = None, statuses: Iterable[VacancyStatus] | None = None
) -> list[VacancyOut]:
    query = Vacancy.select(*_VACANCY_COLUMNS)
    if village_ids is not None:
        query = query.where(Vacancy.committee.village.is_in(list(village_ids) or [0]))
    if statuses is not None:
        query = query.where(Vacancy.status.is_in([s.value for s in statuses]))
    rows = await query.order_by(Vacancy.opened_on, Vacancy.id)
    return [_vacancy_out(row) for row in rows]


async def visible_vacancies(
    user: CurrentUser, statuses: Iterable[VacancyStatus] | None = None
) -> list[VacancyOut]:
    ids = None if user.is_county_level else await visible_unit_ids(user)
    return await vacancies(ids, statuses)


async def set_vacancy_status(
    actor: Actor,
    vacancy_id: int,
    status: VacancyStatus,
    sources: Iterable[VacancyStatus],
    filled_by: int | None = None,
    on: dt.date | None = None,
) -> None:
    """Move a vacancy (joins the caller's transaction); refuses from an unexpected status."""
    values: dict[Any, Any] = {Vacancy.status: status.value}
    if filled_by is not None:
        values[Vacancy.filled_by] = filled_by
    if status in (VacancyStatus.filled, VacancyStatus.waived, VacancyStatus.closed_term_end):
        values[Vacancy.closed_on] = _today(on)
    async with db.write_transaction():
        changed = (
            await Vacancy.update(values)
            .where((Vacancy.id == vacancy_id) & Vacancy.status.is_in([s.value for s in sources]))
            .returning(Vacancy.id)
        )
        if not changed:
            raise VacancyNotOpen(vacancy_id=vacancy_id)
        await append_event(
            actor, f"va_vacancy.{status.value}", "va_vacancy", vacancy_id, {"status": status.value}
        )


async def waive_vacancy(
    user: CurrentUser, vacancy_id: int, decision_ref: str, on: dt.date | None = None
) -> VacancyOut:
    """Leave a seat empty by a meeting's decision, only while 3 or more members remain."""
    vacancy = await require_vacancy(user, vacancy_id)
    remaining = len(await members_of(vacancy.committee_id))
    raise_if(rules.waiver_allowed(remaining, decision_ref))
    async with db.write_transaction():
        await Vacancy.update({Vacancy.note: decision_ref.strip()[:500]}).where(
            Vacancy.id == vacancy_id
        )
        await set_vacancy_status(
            Actor.account(user.account_id),
            vacancy_id,
            VacancyStatus.waived,
            (VacancyStatus.open,),
            on=on,
        )
    return await get_vacancy(vacancy_id)


async def add_member_from_by_election(
    actor: Actor,
    committee_id: int,
    person_id: int,
    post: MemberPost,
    start: dt.date,
    by_election_id: int,
    vacancy_id: int | None,
) -> int:
    """The by-election's winner joins until the current term ends (Art. 19); the vacancy
    is filled. Joins the caller's transaction."""
    async with db.write_transaction():
        inserted = await Membership.insert(
            Membership(
                committee=committee_id,
                person=person_id,
                post=post.value,
                start=start,
                source=MemberSource.by_election.value,
                source_id=by_election_id,
            )
        ).returning(Membership.id)
        membership_id = int(inserted[0]["id"])
        if vacancy_id is not None:
            await set_vacancy_status(
                actor,
                vacancy_id,
                VacancyStatus.filled,
                (VacancyStatus.open, VacancyStatus.by_election_planned),
                filled_by=membership_id,
                on=start,
            )
        await append_event(
            actor,
            "va_membership.elected",
            "va_membership",
            membership_id,
            {"committee_id": committee_id, "by_election_id": by_election_id, "post": post.value},
        )
    return membership_id


async def committee_view(
    user: CurrentUser, village_id: int, on: dt.date | None = None
) -> CommitteeView:
    await require_visible(user, village_id)
    committee = await committee_for(village_id, on)
    if committee is None:
        return CommitteeView(committee=None, members=[], former=[], vacancies=[])
    all_rows = (
        await Membership.select(*_MEMBER_COLUMNS)
        .where(Membership.committee == committee.id)
        .order_by(Membership.id)
    )
    everyone = [_member_out(row) for row in all_rows]
    sitting = [m for m in everyone if m.end is None]
    return CommitteeView(
        committee=committee,
        members=sorted(sitting, key=lambda m: (_POST_ORDER[m.post], m.membership_id)),
        former=[m for m in everyone if m.end is not None],
        vacancies=[v for v in await vacancies([village_id]) if v.committee_id == committee.id],
    )


async def villages_of(user: CurrentUser, township_id: int | None = None) -> list[dict[str, Any]]:
    """The villages ``user`` may see (of one township if given), with their township."""
    query = OrgUnit.select(
        OrgUnit.id,
        OrgUnit.code,
        OrgUnit.name,
        OrgUnit.parent,
        OrgUnit.parent.name.as_alias("township"),
    ).where(OrgUnit.kind.is_in([k.value for k in VILLAGE_KINDS]))
    if not user.is_county_level:
        query = query.where(OrgUnit.parent == user.org_unit_id)
    if township_id is not None:
        query = query.where(OrgUnit.parent == township_id)
    return list(await query.order_by(OrgUnit.code))


class VillageRow(msgspec.Struct, frozen=True):
    village_id: int
    code: str
    name: str
    township_id: int
    township: str
    committee_id: int | None
    seats: int
    members: int
    women: int
    open_vacancies: int
    problems: list[str]


async def register_rows(
    user: CurrentUser, township_id: int | None = None, on: dt.date | None = None
) -> list[VillageRow]:
    """One row per visible village: its committee's size, women, open vacancies and the
    composition rules it fails now (bulk queries: a county has hundreds of villages)."""
    day = _today(on)
    villages = await villages_of(user, township_id)
    ids = [v["id"] for v in villages]
    committees_by_village: dict[int, dict[str, Any]] = {}
    if ids:
        rows = (
            await VillageCommittee.select()
            .where(
                VillageCommittee.village.is_in(ids)
                & (VillageCommittee.term_start <= day)
                & (VillageCommittee.term_end > day)
            )
            .order_by(VillageCommittee.term_start)
        )
        committees_by_village = {row["village"]: row for row in rows}
    committee_ids = [row["id"] for row in committees_by_village.values()]
    sitting: dict[int, list[dict[str, Any]]] = {}
    open_count: dict[int, int] = {}
    if committee_ids:
        members = await Membership.select(
            Membership.committee, Membership.post, Membership.person.gender.as_alias("gender")
        ).where(
            Membership.committee.is_in(committee_ids)
            & (Membership.start <= day)
            & (Membership.end.is_null() | (Membership.end > day))
        )
        for m in members:
            sitting.setdefault(m["committee"], []).append(m)
        for v in await Vacancy.select(Vacancy.committee).where(
            Vacancy.committee.is_in(committee_ids)
            & Vacancy.status.is_in(
                [VacancyStatus.open.value, VacancyStatus.by_election_planned.value]
            )
        ):
            open_count[v["committee"]] = open_count.get(v["committee"], 0) + 1
    result = []
    for v in villages:
        committee = committees_by_village.get(v["id"])
        members_here = sitting.get(committee["id"], []) if committee else []
        problems: list[str] = []
        if committee:
            problems = [
                f.rule
                for f in [
                    *rules.seats_in_range(committee["seats"]),
                    *rules.has_woman([m["gender"] for m in members_here]),
                ]
            ]
        result.append(
            VillageRow(
                village_id=v["id"],
                code=v["code"],
                name=v["name"],
                township_id=v["parent"],
                township=v["township"] or "",
                committee_id=committee["id"] if committee else None,
                seats=committee["seats"] if committee else 0,
                members=len(members_here),
                women=sum(1 for m in members_here if m["gender"] == Gender.female),
                open_vacancies=open_count.get(committee["id"], 0) if committee else 0,
                problems=problems,
            )
        )
    return result


async def sitting_members_by_village(
    village_ids: list[int], on: dt.date | None = None
) -> dict[int, tuple[CommitteeOut, list[MemberOut]]]:
    """Each village's current committee and sitting members, in two queries (exports)."""
    day = _today(on)
    if not village_ids:
        return {}
    rows = (
        await VillageCommittee.select()
        .where(
            VillageCommittee.village.is_in(village_ids)
            & (VillageCommittee.term_start <= day)
            & (VillageCommittee.term_end > day)
        )
        .order_by(VillageCommittee.term_start)
    )
    committees = {row["id"]: _committee_out(row) for row in rows}
    result: dict[int, tuple[CommitteeOut, list[MemberOut]]] = {
        c.village_id: (c, []) for c in committees.values()
    }
    if not committees:
        return {}
    members = (
        await Membership.select(*_MEMBER_COLUMNS)
        .where(
            Membership.committee.is_in(list(committees))
            & (Membership.start <= day)
            & (Membership.end.is_null() | (Membership.end > day))
        )
        .order_by(Membership.id)
    )
    for row in members:
        member = _member_out(row)
        village_id = committees[member.committee_id].village_id
        if result[village_id][0].id == member.committee_id:
            result[village_id][1].append(member)
    for _, listed in result.values():
        listed.sort(key=lambda m: (_POST_ORDER[m.post], m.membership_id))
    return result


async def close_terms(on: dt.date | None = None) -> int:
    """End the memberships of committees whose term is over (``term_end``) and close
    their open vacancies (``closed_term_end``): the general election takes over.

    Idempotent: a second run finds nothing to end. Returns how many memberships ended.
    """
    day = _today(on)
    actor = SYSTEM
    ended = 0
    async with db.write_transaction():
        with_open_members = await Membership.select(
            Membership.committee.as_alias("id"),
            Membership.committee.term_end.as_alias("term_end"),
        ).where(Membership.end.is_null() & (Membership.committee.term_end <= day))
        with_open_vacancies = await Vacancy.select(
            Vacancy.committee.as_alias("id"), Vacancy.committee.term_end.as_alias("term_end")
        ).where(
            Vacancy.status.is_in(
                [VacancyStatus.open.value, VacancyStatus.by_election_planned.value]
            )
            & (Vacancy.committee.term_end <= day)
        )
        over = {row["id"]: row for row in [*with_open_members, *with_open_vacancies]}.values()
        for committee in over:
            open_members = await Membership.select(Membership.id).where(
                (Membership.committee == committee["id"]) & Membership.end.is_null()
            )
            for m in open_members:
                await end_membership(actor, m["id"], committee["term_end"], EndReason.term_end)
                ended += 1
            for v in await Vacancy.select(Vacancy.id).where(
                (Vacancy.committee == committee["id"])
                & Vacancy.status.is_in(
                    [VacancyStatus.open.value, VacancyStatus.by_election_planned.value]
                )
            ):
                await set_vacancy_status(
                    actor,
                    v["id"],
                    VacancyStatus.closed_term_end,
                    (VacancyStatus.open, VacancyStatus.by_election_planned),
                    on=committee["term_end"],
                )
    return ended


async def close_terms_job() -> None:
    await close_terms()
