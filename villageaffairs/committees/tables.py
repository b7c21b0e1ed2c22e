"""Village committees, their memberships and the vacancies that memberships leave.

Members come only from an election, a by-election or a recorded general-election
result (Art. 11: nobody appoints or replaces members); a membership is never edited
to someone else, it ends with a reason, and ending it opens a vacancy.
"""

from enum import StrEnum

from piccolo.columns import (
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
from villageaffairs.people.tables import Person


class MemberPost(StrEnum):
    director = "director"
    deputy = "deputy"
    member = "member"


class EndReason(StrEnum):
    term_end = "term_end"
    resigned = "resigned"
    recalled = "recalled"
    criminal_sentence = "criminal_sentence"
    incapacity = "incapacity"
    appraisal_twice_unfit = "appraisal_twice_unfit"
    lookback_removed = "lookback_removed"
    died = "died"


class MemberSource(StrEnum):
    general_election = "general_election"
    by_election = "by_election"


class VacancyStatus(StrEnum):
    open = "open"
    by_election_planned = "by_election_planned"
    filled = "filled"
    waived = "waived"
    closed_term_end = "closed_term_end"


class VillageCommittee(Table, tablename="va_committee"):
    id: Serial

    village: ForeignKey[OrgUnit] = ForeignKey(OrgUnit, index=True, on_delete=OnDelete.restrict)
    term_start = Date()
    term_end = Date()
    seats = Integer()
    law_version = Varchar(length=16, default="2018")
    created_by = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class Membership(Table, tablename="va_membership"):
    id: Serial

    committee: ForeignKey[VillageCommittee] = ForeignKey(
        VillageCommittee, index=True, on_delete=OnDelete.restrict
    )
    person: ForeignKey[Person] = ForeignKey(Person, index=True, on_delete=OnDelete.restrict)
    post = Varchar(length=16, choices=MemberPost)
    start = Date()
    end = Date(null=True, default=None)
    end_reason = Varchar(length=32, default="")
    source = Varchar(length=24, default=MemberSource.general_election.value)
    source_id = Integer(null=True, default=None)


class Vacancy(Table, tablename="va_vacancy"):
    """An empty seat, opened automatically when a membership ends before the term does."""

    id: Serial

    committee: ForeignKey[VillageCommittee] = ForeignKey(
        VillageCommittee, index=True, on_delete=OnDelete.restrict
    )
    post = Varchar(length=16, choices=MemberPost)
    opened_on = Date()
    cause: ForeignKey[Membership] = ForeignKey(
        Membership, null=True, default=None, on_delete=OnDelete.restrict
    )
    status = Varchar(length=24, default=VacancyStatus.open.value, index=True)
    filled_by: ForeignKey[Membership] = ForeignKey(
        Membership, null=True, default=None, on_delete=OnDelete.restrict
    )
    closed_on = Date(null=True, default=None)
    note = Text(default="")
