"""By-elections (补选) with candidate vetting (资格联审) and tallies.

Vetting stores per agency only ``clear``/``flagged``/``pending``, the kind of flag and
a document reference: never the text of a criminal record.
"""

from enum import StrEnum

from piccolo.columns import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from tipline.orgunits.tables import OrgUnit
from villageaffairs.committees.tables import Vacancy, VillageCommittee
from villageaffairs.people.tables import Person


class ByElectionStatus(StrEnum):
    planned = "planned"
    nomination = "nomination"
    vetting = "vetting"
    vetted = "vetted"
    published = "published"
    further_round = "further_round"
    tallied = "tallied"
    filed = "filed"
    failed = "failed"


class Method(StrEnum):
    villagers_meeting = "villagers_meeting"
    representatives_assembly = "representatives_assembly"


class Eligibility(StrEnum):
    pending = "pending"
    clear = "clear"
    barred = "barred"


class CheckResult(StrEnum):
    clear = "clear"
    flagged = "flagged"
    pending = "pending"


class FlagKind(StrEnum):
    criminal_record = "criminal_record"
    village_bully = "village_bully"
    gang = "gang"
    cult = "cult"
    under_investigation = "under_investigation"
    discipline_period = "discipline_period"


class ByElection(Table, tablename="va_by_election"):
    id: Serial

    village: ForeignKey[OrgUnit] = ForeignKey(OrgUnit, index=True, on_delete=OnDelete.restrict)
    committee: ForeignKey[VillageCommittee] = ForeignKey(
        VillageCommittee, on_delete=OnDelete.restrict
    )
    method = Varchar(length=32, choices=Method)
    status = Varchar(length=16, default=ByElectionStatus.planned.value, index=True)
    election_date = Date()
    registered_voters = Integer(null=True, default=None)
    voter_list_published_on = Date(null=True, default=None)
    candidates_published_on = Date(null=True, default=None)
    township_approved_on = Date(null=True, default=None)
    vetting_closed_on = Date(null=True, default=None)
    joint_review_ref = Varchar(length=100, default="")
    held_on = Date(null=True, default=None)
    filed_on = Date(null=True, default=None)
    failed_reason = Text(default="")
    created_by = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class ByElectionSeat(Table, tablename="va_by_election_seat"):
    """A vacancy the by-election fills (one row per seat)."""

    id: Serial

    by_election: ForeignKey[ByElection] = ForeignKey(
        ByElection, index=True, on_delete=OnDelete.restrict
    )
    vacancy: ForeignKey[Vacancy] = ForeignKey(Vacancy, on_delete=OnDelete.restrict)
    post = Varchar(length=16)


class Candidate(Table, tablename="va_candidate"):
    id: Serial

    by_election: ForeignKey[ByElection] = ForeignKey(
        ByElection, index=True, on_delete=OnDelete.restrict
    )
    person: ForeignKey[Person] = ForeignKey(Person, on_delete=OnDelete.restrict)
    post = Varchar(length=16)
    eligibility = Varchar(length=8, default=Eligibility.pending.value)
    elected = Boolean(default=False)
    membership_id = Integer(null=True, default=None)


class VettingCheck(Table, tablename="va_vetting_check"):
    """One agency's answer about one person in one context (a by-election or a look-back)."""

    id: Serial

    person: ForeignKey[Person] = ForeignKey(Person, index=True, on_delete=OnDelete.restrict)
    context = Varchar(length=16)
    context_id = Integer(index=True)
    agency = Varchar(length=24)
    result = Varchar(length=8, default=CheckResult.pending.value)
    flag = Varchar(length=24, default="")
    document_ref = Varchar(length=100, default="")
    checked_on = Date(null=True, default=None)
    checked_by = Integer(default=0)


class TallyRound(Table, tablename="va_tally_round"):
    id: Serial

    by_election: ForeignKey[ByElection] = ForeignKey(
        ByElection, index=True, on_delete=OnDelete.restrict
    )
    round_no = Integer()
    held_on = Date()
    registered_voters = Integer()
    ballots_cast = Integer()
    recorded_by = Integer(default=0)


class TallyLine(Table, tablename="va_tally_line"):
    id: Serial

    round: ForeignKey[TallyRound] = ForeignKey(TallyRound, index=True, on_delete=OnDelete.restrict)
    candidate: ForeignKey[Candidate] = ForeignKey(Candidate, on_delete=OnDelete.restrict)
    votes = Integer()
    elected = Boolean(default=False)
