"""The by-election workflow (补选), Art. 19 with the procedure of Art. 15.

vacancy -> planned (date; villagers' meeting or representatives' assembly) -> the
township approves (nomination opens) -> nominations -> vetting (each agency's
clear/flagged/pending with a document reference; the county joint review closes it;
a flag bars the candidate) -> voter list and candidates published -> tally (round 1,
and a further round for unfilled seats) -> filed: the winners become members until the
current term ends, and the by-election is reported up the approval chain
(``villageaffairs.reports``, kind ``by_election``).

Every rule lives in :mod:`villageaffairs.elections.rules`; this module only applies
them and refuses with every failing rule before anything is written.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any

from tipline import db
from tipline.auth import CurrentUser, Role
from tipline.ledger.services import Actor, append_event
from tipline.orgunits.services import get_unit, require_visible, visible_unit_ids
from villageaffairs.committees import services as committees
from villageaffairs.committees.tables import MemberPost, VacancyStatus
from villageaffairs.elections import rules
from villageaffairs.elections.exceptions import (
    BadCandidate,
    BadCheck,
    BadTally,
    ByElectionNotFound,
    CandidateNotFound,
    NotCountyStaff,
    NotFiled,
    NotTownshipStaff,
    NoVacancies,
    VacancyNotAvailable,
    WrongStage,
)
from villageaffairs.elections.schemas import (
    ByElectionDetail,
    ByElectionOut,
    CandidateOut,
    CheckOut,
    RoundOut,
    SeatOut,
    TallyLineOut,
    TallyOutcome,
    VoteIn,
)
from villageaffairs.elections.tables import (
    ByElection,
    ByElectionSeat,
    ByElectionStatus,
    Candidate,
    CheckResult,
    Eligibility,
    FlagKind,
    Method,
    TallyLine,
    TallyRound,
    VettingCheck,
)
from villageaffairs.legal import RuleFailure, failures_out, raise_if
from villageaffairs.people.tables import Person
from villageaffairs.reports import services as reports
from villageaffairs.reports.exceptions import ReasonRequired

KIND = "by_election"
CONTEXT = "by_election"
VETTING_FILE = Path(__file__).resolve().parent / "vetting.json"


@functools.cache
def vetting_config() -> dict[str, list[str]]:
    data: dict[str, list[str]] = json.loads(VETTING_FILE.read_text(encoding="utf-8"))
    return data


def required_agencies() -> list[str]:
    return list(vetting_config()["required_agencies"])


def all_agencies() -> list[str]:
    return required_agencies() + list(vetting_config()["optional_agencies"])


def _today(on: dt.date | None) -> dt.date:
    return on or dt.date.today()


# --- reading ---------------------------------------------------------------------------


async def _out(row: dict[str, Any]) -> ByElectionOut:
    seats = await ByElectionSeat.select().where(ByElectionSeat.by_election == row["id"])
    village = await get_unit(row["village"])
    return ByElectionOut(
        id=row["id"],
        village_id=row["village"],
        village_name=village.name,
        committee_id=row["committee"],
        method=Method(row["method"]),
        status=ByElectionStatus(row["status"]),
        election_date=row["election_date"],
        registered_voters=row["registered_voters"],
        voter_list_published_on=row["voter_list_published_on"],
        candidates_published_on=row["candidates_published_on"],
        township_approved_on=row["township_approved_on"],
        vetting_closed_on=row["vetting_closed_on"],
        joint_review_ref=row["joint_review_ref"],
        held_on=row["held_on"],
        filed_on=row["filed_on"],
        failed_reason=row["failed_reason"],
        seats=[SeatOut(vacancy_id=s["vacancy"], post=s["post"]) for s in seats],
    )


async def get_by_election(by_election_id: int) -> ByElectionOut:
    row = await ByElection.select().where(ByElection.id == by_election_id).first()
    if row is None:
        raise ByElectionNotFound(by_election_id=by_election_id)
    return await _out(row)


async def require_by_election(user: CurrentUser, by_election_id: int) -> ByElectionOut:
    election = await get_by_election(by_election_id)
    await require_visible(user, election.village_id)
    return election


async def _for_change(
    user: CurrentUser, by_election_id: int, stages: tuple[ByElectionStatus, ...]
) -> ByElectionOut:
    """The by-election, if ``user`` is township staff of its township, it is in one of
    ``stages`` and its report does not lock it."""
    election = await require_by_election(user, by_election_id)
    if user.role is not Role.township_staff:
        raise NotTownshipStaff()
    await reports.require_editable(KIND, by_election_id)
    if election.status not in stages:
        raise WrongStage(status=election.status.value)
    return election


async def _set_status(
    by_election_id: int,
    source: ByElectionStatus | tuple[ByElectionStatus, ...],
    target: ByElectionStatus,
    values: dict[Any, Any] | None = None,
) -> None:
    sources = [s.value for s in (source if isinstance(source, tuple) else (source,))]
    changed = (
        await ByElection.update({ByElection.status: target.value, **(values or {})})
        .where((ByElection.id == by_election_id) & ByElection.status.is_in(sources))
        .returning(ByElection.id)
    )
    if not changed:
        raise WrongStage(status=target.value)


async def _event(
    user: CurrentUser, step: str, election: ByElectionOut, extra: dict[str, Any] | None = None
) -> None:
    await append_event(
        Actor.account(user.account_id),
        f"by_election.{step}",
        "by_election",
        election.id,
        {"village_id": election.village_id, **(extra or {})},
    )


async def _candidates(by_election_id: int) -> list[CandidateOut]:
    rows = (
        await Candidate.select(
            *Candidate.all_columns(),
            Candidate.person.name.as_alias("name"),
            Candidate.person.gender.as_alias("gender"),
        )
        .where(Candidate.by_election == by_election_id)
        .order_by(Candidate.id)
    )
    checks = (
        await VettingCheck.select()
        .where((VettingCheck.context == CONTEXT) & (VettingCheck.context_id == by_election_id))
        .order_by(VettingCheck.id)
    )
    by_person: dict[int, list[CheckOut]] = {}
    for c in checks:
        by_person.setdefault(c["person"], []).append(
            CheckOut(
                id=c["id"],
                agency=c["agency"],
                result=c["result"],
                flag=c["flag"],
                document_ref=c["document_ref"],
                checked_on=c["checked_on"],
            )
        )
    return [
        CandidateOut(
            id=r["id"],
            person_id=r["person"],
            name=r["name"],
            gender=r["gender"],
            post=r["post"],
            eligibility=Eligibility(r["eligibility"]),
            elected=r["elected"],
            checks=by_person.get(r["person"], []),
        )
        for r in rows
    ]


async def _rounds(by_election_id: int, candidates: list[CandidateOut]) -> list[RoundOut]:
    names = {c.id: c for c in candidates}
    rounds = (
        await TallyRound.select()
        .where(TallyRound.by_election == by_election_id)
        .order_by(TallyRound.round_no)
    )
    result = []
    for r in rounds:
        lines = (
            await TallyLine.select()
            .where(TallyLine.round == r["id"])
            .order_by(TallyLine.votes, ascending=False)
        )
        result.append(
            RoundOut(
                round_no=r["round_no"],
                held_on=r["held_on"],
                registered_voters=r["registered_voters"],
                ballots_cast=r["ballots_cast"],
                lines=[
                    TallyLineOut(
                        candidate_id=line["candidate"],
                        name=names[line["candidate"]].name,
                        post=names[line["candidate"]].post,
                        votes=line["votes"],
                        elected=line["elected"],
                    )
                    for line in lines
                ],
            )
        )
    return result


async def detail(user: CurrentUser, by_election_id: int) -> ByElectionDetail:
    election = await require_by_election(user, by_election_id)
    candidates = await _candidates(by_election_id)
    return ByElectionDetail(
        by_election=election,
        candidates=candidates,
        rounds=await _rounds(by_election_id, candidates),
        agencies=all_agencies(),
    )


async def list_by_elections(
    user: CurrentUser, village_id: int | None = None, township_id: int | None = None
) -> list[ByElectionOut]:
    query = ByElection.select()
    if village_id is not None:
        await require_visible(user, village_id)
        query = query.where(ByElection.village == village_id)
    elif not user.is_county_level:
        query = query.where(ByElection.village.is_in(list(await visible_unit_ids(user))))
    if township_id is not None:
        query = query.where(ByElection.village.parent == township_id)
    rows = await query.order_by(ByElection.election_date, ascending=False)
    return [await _out(row) for row in rows]


# --- the workflow ----------------------------------------------------------------------


async def plan(
    user: CurrentUser,
    vacancy_ids: list[int],
    method: str,
    election_date: dt.date,
) -> ByElectionOut:
    """Plan a by-election for open vacancies of one committee."""
    if user.role is not Role.township_staff:
        raise NotTownshipStaff()
    if not vacancy_ids:
        raise NoVacancies()
    raise_if(rules.method_allowed(method))
    found = [await committees.require_vacancy(user, vid) for vid in dict.fromkeys(vacancy_ids)]
    committee_ids = {v.committee_id for v in found}
    if len(committee_ids) != 1 or any(v.status is not VacancyStatus.open for v in found):
        raise VacancyNotAvailable()
    actor = Actor.account(user.account_id)
    async with db.write_transaction():
        inserted = await ByElection.insert(
            ByElection(
                village=found[0].village_id,
                committee=found[0].committee_id,
                method=method,
                election_date=election_date,
                created_by=user.account_id,
            )
        ).returning(ByElection.id)
        election_id = inserted[0]["id"]
        for vacancy in found:
            await ByElectionSeat.insert(
                ByElectionSeat(by_election=election_id, vacancy=vacancy.id, post=vacancy.post.value)
            )
            await committees.set_vacancy_status(
                actor,
                vacancy.id,
                VacancyStatus.by_election_planned,
                (VacancyStatus.open,),
            )
        election = await get_by_election(election_id)
        await _event(user, "planned", election, {"seats": len(found), "method": method})
    return election


async def approve_plan(
    user: CurrentUser, by_election_id: int, on: dt.date | None = None
) -> ByElectionOut:
    """The township approves holding the by-election; nominations open."""
    election = await _for_change(user, by_election_id, (ByElectionStatus.planned,))
    async with db.write_transaction():
        await _set_status(
            election.id,
            ByElectionStatus.planned,
            ByElectionStatus.nomination,
            {ByElection.township_approved_on: _today(on)},
        )
        await _event(user, "township_approved", election)
    return await get_by_election(by_election_id)


async def nominate(
    user: CurrentUser, by_election_id: int, person_id: int, post: str
) -> CandidateOut:
    """Add a nominated candidate (during nominations or vetting, e.g. after a flag)."""
    election = await _for_change(
        user, by_election_id, (ByElectionStatus.nomination, ByElectionStatus.vetting)
    )
    person = await Person.select().where(Person.id == person_id).first()
    posts = {s.post for s in election.seats}
    if person is None or person["village"] != election.village_id or post not in posts:
        raise BadCandidate()
    if await Candidate.exists().where(
        (Candidate.by_election == by_election_id) & (Candidate.person == person_id)
    ):
        raise BadCandidate()
    async with db.write_transaction():
        inserted = await Candidate.insert(
            Candidate(by_election=by_election_id, person=person_id, post=post)
        ).returning(Candidate.id)
        if election.status is ByElectionStatus.vetting:
            await _open_checks(by_election_id, [person_id])
        await _event(user, "nominated", election, {"candidate_id": inserted[0]["id"]})
    return next(c for c in await _candidates(by_election_id) if c.id == inserted[0]["id"])


async def _open_checks(by_election_id: int, person_ids: list[int]) -> None:
    for person_id in person_ids:
        for agency in required_agencies():
            await VettingCheck.insert(
                VettingCheck(
                    person=person_id,
                    context=CONTEXT,
                    context_id=by_election_id,
                    agency=agency,
                    result=CheckResult.pending.value,
                )
            )


async def start_vetting(user: CurrentUser, by_election_id: int) -> ByElectionOut:
    """Send every candidate to the agencies: one pending check per required agency."""
    election = await _for_change(user, by_election_id, (ByElectionStatus.nomination,))
    candidates = await _candidates(by_election_id)
    if not candidates:
        raise BadCandidate()
    async with db.write_transaction():
        await _set_status(election.id, ByElectionStatus.nomination, ByElectionStatus.vetting)
        await _open_checks(by_election_id, [c.person_id for c in candidates])
        await _event(user, "vetting_started", election, {"candidates": len(candidates)})
    return await get_by_election(by_election_id)


async def record_check(
    user: CurrentUser,
    by_election_id: int,
    candidate_id: int,
    agency: str,
    result: str,
    flag: str = "",
    document_ref: str = "",
    on: dt.date | None = None,
) -> None:
    """Record one agency's answer: clear or flagged (with the kind of flag) and the
    document reference of its reply. No record text is taken."""
    election = await require_by_election(user, by_election_id)
    if user.role not in (Role.township_staff, Role.county_staff):
        raise NotTownshipStaff()
    if election.status is not ByElectionStatus.vetting:
        raise WrongStage(status=election.status.value)
    await reports.require_editable(KIND, by_election_id)
    candidate = (
        await Candidate.select()
        .where((Candidate.id == candidate_id) & (Candidate.by_election == by_election_id))
        .first()
    )
    if candidate is None:
        raise CandidateNotFound(candidate_id=candidate_id)
    ref = document_ref.strip()[:100]
    if (
        agency not in all_agencies()
        or result not in tuple(CheckResult)
        or (result == CheckResult.flagged and flag not in tuple(FlagKind))
        or (result != CheckResult.pending and not ref)
    ):
        raise BadCheck()
    values: dict[Any, Any] = {
        VettingCheck.result: result,
        VettingCheck.flag: flag if result == CheckResult.flagged else "",
        VettingCheck.document_ref: ref,
        VettingCheck.checked_on: _today(on),
        VettingCheck.checked_by: user.account_id,
    }
    where = (
        (VettingCheck.context == CONTEXT)
        & (VettingCheck.context_id == by_election_id)
        & (VettingCheck.person == candidate["person"])
        & (VettingCheck.agency == agency)
    )
    async with db.write_transaction():
        if await VettingCheck.exists().where(where):
            await VettingCheck.update(values).where(where)
        else:
            await VettingCheck.insert(
                VettingCheck(
                    person=candidate["person"],
                    context=CONTEXT,
                    context_id=by_election_id,
                    agency=agency,
                    **{column._meta.name: value for column, value in values.items()},
                )
            )
        await _event(
            user,
            "vetting_recorded",
            election,
            {"candidate_id": candidate_id, "agency": agency, "result": result},
        )


def _seats_per_post(election: ByElectionOut) -> dict[str, int]:
    seats: dict[str, int] = {}
    for seat in election.seats:
        seats[seat.post] = seats.get(seat.post, 0) + 1
    return seats


async def close_vetting(
    user: CurrentUser, by_election_id: int, joint_review_ref: str, on: dt.date | None = None
) -> ByElectionOut:
    """The county joint review closes vetting: every required agency has answered, each
    flagged candidate is barred, and more eligible candidates than seats remain."""
    election = await require_by_election(user, by_election_id)
    if user.role is not Role.county_staff:
        raise NotCountyStaff()
    if election.status is not ByElectionStatus.vetting:
        raise WrongStage(status=election.status.value)
    candidates = await _candidates(by_election_id)
    failures: list[RuleFailure] = []
    eligible: dict[str, int] = {}
    verdicts: dict[int, Eligibility] = {}
    for c in candidates:
        results = {check.agency: check.result for check in c.checks}
        failures += rules.vetting_complete(c.name, results, required_agencies())
        if rules.candidate_not_flagged(c.name, results.values()):
            verdicts[c.id] = Eligibility.barred
        else:
            verdicts[c.id] = Eligibility.clear
            eligible[c.post] = eligible.get(c.post, 0) + 1
    if not failures:
        for post, seats in _seats_per_post(election).items():
            failures += rules.more_candidates_than_seats(post, eligible.get(post, 0), seats)
    if not joint_review_ref.strip():
        raise BadCheck()
    raise_if(failures)
    async with db.write_transaction():
        for candidate_id, verdict in verdicts.items():
            await Candidate.update({Candidate.eligibility: verdict.value}).where(
                Candidate.id == candidate_id
            )
        await _set_status(
            election.id,
            ByElectionStatus.vetting,
            ByElectionStatus.vetted,
            {
                ByElection.vetting_closed_on: _today(on),
                ByElection.joint_review_ref: joint_review_ref.strip()[:100],
            },
        )
        await _event(
            user,
            "vetting_closed",
            election,
            {"barred": sum(1 for v in verdicts.values() if v is Eligibility.barred)},
        )
    return await get_by_election(by_election_id)


async def publish(
    user: CurrentUser,
    by_election_id: int,
    registered_voters: int,
    voter_list_published_on: dt.date,
    candidates_published_on: dt.date,
) -> ByElectionOut:
    """Record the published voter list and candidates; the list must be out 20 days
    before the election (Art. 14) and there must be more candidates than seats (Art. 15)."""
    election = await _for_change(user, by_election_id, (ByElectionStatus.vetted,))
    if registered_voters <= 0:
        raise BadTally()
    failures = rules.voter_list_published_in_time(voter_list_published_on, election.election_date)
    eligible: dict[str, int] = {}
    for c in await _candidates(by_election_id):
        if c.eligibility is Eligibility.clear:
            eligible[c.post] = eligible.get(c.post, 0) + 1
    for post, seats in _seats_per_post(election).items():
        failures += rules.more_candidates_than_seats(post, eligible.get(post, 0), seats)
    raise_if(failures)
    async with db.write_transaction():
        await _set_status(
            election.id,
            ByElectionStatus.vetted,
            ByElectionStatus.published,
            {
                ByElection.registered_voters: registered_voters,
                ByElection.voter_list_published_on: voter_list_published_on,
                ByElection.candidates_published_on: candidates_published_on,
            },
        )
        await _event(user, "published", election)
    return await get_by_election(by_election_id)


async def record_tally(
    user: CurrentUser,
    by_election_id: int,
    held_on: dt.date,
    ballots_cast: int,
    votes: list[VoteIn],
) -> TallyOutcome:
    """Record one round's count and decide who is elected.

    Round 1: valid only if more than half of the registered voters voted; a candidate
    is elected with more than half of the ballots cast. Seats still empty go to a
    further round among the unelected candidates, where the most votes win with at
    least a third of the ballots cast (Art. 15). Invalid counts are refused whole.
    """
    election = await _for_change(
        user, by_election_id, (ByElectionStatus.published, ByElectionStatus.further_round)
    )
    registered = election.registered_voters or 0
    round_no = 1 if election.status is ByElectionStatus.published else 2
    candidates = {c.id: c for c in await _candidates(by_election_id)}
    standing = {
        cid: c
        for cid, c in candidates.items()
        if c.eligibility is Eligibility.clear and not c.elected
    }
    seats = _seats_per_post(election)
    already = {
        post: sum(1 for c in candidates.values() if c.elected and c.post == post) for post in seats
    }
    open_seats = {post: seats[post] - already.get(post, 0) for post in seats}
    if round_no == 2:
        standing = {cid: c for cid, c in standing.items() if open_seats.get(c.post, 0) > 0}
    given = {v.candidate_id: v.votes for v in votes}
    if set(given) - set(standing):
        raise BadTally()
    failures = rules.ballots_within_register(ballots_cast, registered)
    failures += rules.turnout_valid(ballots_cast, registered)
    for cid, count in given.items():
        failures += rules.votes_within_ballots(standing[cid].name, count, ballots_cast)
    raise_if(failures)

    notes: list[RuleFailure] = []
    winners: list[int] = []
    for post, free in open_seats.items():
        ranked = sorted(
            ((given.get(cid, 0), cid) for cid, c in standing.items() if c.post == post),
            reverse=True,
        )
        passing = [
            (count, cid)
            for count, cid in ranked
            if (
                rules.elected_first_round(count, ballots_cast)
                if round_no == 1
                else rules.elected_further_round(count, ballots_cast)
            )
        ]
        chosen = passing[:free]
        # A tie at the last seat elects nobody for it: the seat goes to a further round.
        if len(passing) > free and free > 0 and passing[free - 1][0] == passing[free][0]:
            tied = passing[free - 1][0]
            chosen = [p for p in chosen if p[0] > tied]
        winners += [cid for _, cid in chosen]
        for count, cid in ranked:
            if cid not in winners:
                notes.append(rules.not_elected(standing[cid].name, count, ballots_cast, round_no))
    unfilled = {
        post: free - sum(1 for cid in winners if standing[cid].post == post)
        for post, free in open_seats.items()
    }
    unfilled = {post: n for post, n in unfilled.items() if n > 0}
    target = (
        ByElectionStatus.further_round if unfilled and round_no == 1 else ByElectionStatus.tallied
    )
    async with db.write_transaction():
        inserted = await TallyRound.insert(
            TallyRound(
                by_election=by_election_id,
                round_no=round_no,
                held_on=held_on,
                registered_voters=registered,
                ballots_cast=ballots_cast,
                recorded_by=user.account_id,
            )
        ).returning(TallyRound.id)
        for cid in standing:
            await TallyLine.insert(
                TallyLine(
                    round=inserted[0]["id"],
                    candidate=cid,
                    votes=given.get(cid, 0),
                    elected=cid in winners,
                )
            )
        if winners:
            await Candidate.update({Candidate.elected: True}).where(Candidate.id.is_in(winners))
        await _set_status(
            election.id,
            (ByElectionStatus.published, ByElectionStatus.further_round),
            target,
            {ByElection.held_on: held_on},
        )
        await _event(
            user,
            "tallied",
            election,
            {"round": round_no, "elected": len(winners), "unfilled": sum(unfilled.values())},
        )
    return TallyOutcome(
        status=target,
        elected=winners,
        unfilled=unfilled,
        notes=failures_out(notes, "zh-CN"),
    )


async def fail(user: CurrentUser, by_election_id: int, reason: str) -> ByElectionOut:
    """Record that the by-election failed (e.g. too few voters); its vacancies reopen."""
    election = await _for_change(
        user,
        by_election_id,
        (
            ByElectionStatus.planned,
            ByElectionStatus.nomination,
            ByElectionStatus.vetting,
            ByElectionStatus.vetted,
            ByElectionStatus.published,
            ByElectionStatus.further_round,
        ),
    )
    text = reason.strip()
    if not text:
        raise ReasonRequired()
    actor = Actor.account(user.account_id)
    async with db.write_transaction():
        await _set_status(
            election.id,
            election.status,
            ByElectionStatus.failed,
            {ByElection.failed_reason: text[:2000]},
        )
        for seat in election.seats:
            await committees.set_vacancy_status(
                actor, seat.vacancy_id, VacancyStatus.open, (VacancyStatus.by_election_planned,)
            )
        await _event(user, "failed", election)
    return await get_by_election(by_election_id)


async def file(user: CurrentUser, by_election_id: int, on: dt.date | None = None) -> ByElectionOut:
    """File the result: each winner joins the committee until the current term ends
    (Art. 19), their vacancies are filled, seats left unfilled reopen, and a draft report
    for the approval chain is made."""
    election = await _for_change(user, by_election_id, (ByElectionStatus.tallied,))
    candidates = await _candidates(by_election_id)
    actor = Actor.account(user.account_id)
    day = _today(on)
    start = election.held_on or day
    free_vacancies: dict[str, list[int]] = {}
    for seat in election.seats:
        free_vacancies.setdefault(seat.post, []).append(seat.vacancy_id)
    async with db.write_transaction():
        for c in candidates:
            if not c.elected:
                continue
            vacancy_id = free_vacancies[c.post].pop(0)
            membership_id = await committees.add_member_from_by_election(
                actor,
                election.committee_id,
                c.person_id,
                MemberPost(c.post),
                start,
                election.id,
                vacancy_id,
            )
            await Candidate.update({Candidate.membership_id: membership_id}).where(
                Candidate.id == c.id
            )
        for leftover in free_vacancies.values():
            for vacancy_id in leftover:
                await committees.set_vacancy_status(
                    actor, vacancy_id, VacancyStatus.open, (VacancyStatus.by_election_planned,)
                )
        await _set_status(
            election.id,
            ByElectionStatus.tallied,
            ByElectionStatus.filed,
            {ByElection.filed_on: day},
        )
        await _event(user, "filed", election)
        await reports.create_report(user, KIND, election.village_id, election.id)
    return await get_by_election(by_election_id)


async def _submit_check(by_election_id: int) -> None:
    election = await get_by_election(by_election_id)
    if election.status is not ByElectionStatus.filed:
        raise NotFiled()


reports.register_submit_check(KIND, _submit_check)
reports.register_subject_url(KIND, lambda subject_id: f"/villageaffairs/by-elections/{subject_id}")
