"""Democratic appraisals (民主评议, Art. 33): rounds per village and votes per cadre.

The verdict is computed from the votes and the province profile, never typed in.
"""

from enum import StrEnum

from piccolo.columns import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from tipline.orgunits.tables import OrgUnit
from villageaffairs.committees.tables import Membership


class RoundKind(StrEnum):
    annual = "annual"
    special = "special"


class Forum(StrEnum):
    villagers_meeting = "villagers_meeting"
    representatives_assembly = "representatives_assembly"


class RoundStatus(StrEnum):
    draft = "draft"
    results = "results"
    published = "published"


class Verdict(StrEnum):
    competent = "competent"
    basically_competent = "basically_competent"
    not_competent = "not_competent"


class AppraisalRound(Table, tablename="va_appraisal_round"):
    id: Serial

    village: ForeignKey[OrgUnit] = ForeignKey(OrgUnit, index=True, on_delete=OnDelete.restrict)
    year = Integer()
    kind = Varchar(length=16, choices=RoundKind)
    host = Varchar(length=100, default="")
    forum = Varchar(length=32, choices=Forum)
    participants = Integer()
    held_on = Date()
    status = Varchar(length=16, default=RoundStatus.draft.value)
    province = Varchar(length=16, default="hunan")
    published_on = Date(null=True, default=None)
    created_by = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class AppraisalVote(Table, tablename="va_appraisal_vote"):
    """The votes about one cadre in one round, and the computed verdict."""

    id: Serial

    round: ForeignKey[AppraisalRound] = ForeignKey(
        AppraisalRound, index=True, on_delete=OnDelete.restrict
    )
    membership: ForeignKey[Membership] = ForeignKey(
        Membership, index=True, on_delete=OnDelete.restrict
    )
    competent = Integer()
    basically_competent = Integer()
    not_competent = Integer()
    verdict = Varchar(length=24)
    gang_involvement = Boolean(default=False)
    law_discipline_violation = Boolean(default=False)
    office_ended = Boolean(default=False)
