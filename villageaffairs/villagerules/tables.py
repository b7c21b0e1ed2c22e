"""Village rules and residents' conventions (村规民约 / 居民公约): versions and reviews."""

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


class RulesKind(StrEnum):
    village_rules = "village_rules"  # 村规民约
    residents_convention = "residents_convention"  # 居民公约


class RulesStatus(StrEnum):
    draft = "draft"
    township_review = "township_review"
    county_review = "county_review"
    adoption = "adoption"  # reviewed, waiting for the meeting or the signatures
    adopted = "adopted"
    filed = "filed"
    published = "published"
    superseded = "superseded"


class AdoptionMethod(StrEnum):
    villagers_meeting = "villagers_meeting"
    household_signatures = "household_signatures"


class ReviewLevel(StrEnum):
    township = "township"
    county_legal = "county_legal"


class RulesVersion(Table, tablename="va_rules_version"):
    id: Serial

    village: ForeignKey[OrgUnit] = ForeignKey(OrgUnit, index=True, on_delete=OnDelete.restrict)
    kind = Varchar(length=24, choices=RulesKind)
    version = Integer()
    title = Varchar(length=200)
    text = Text()
    version_reason = Text(default="")
    anti_gang_marked = Boolean(default=False)
    anti_gang_excerpt = Text(default="")
    status = Varchar(length=16, choices=RulesStatus, default=RulesStatus.draft)
    adoption_method = Varchar(length=24, null=True, default=None, choices=AdoptionMethod)
    eligible_voters = Integer(null=True, default=None)
    households_total = Integer(null=True, default=None)
    attended = Integer(null=True, default=None)
    attended_households = Integer(null=True, default=None)
    votes_for = Integer(null=True, default=None)
    households_signed = Integer(null=True, default=None)
    adopted_on = Date(null=True, default=None)
    filed_on = Date(null=True, default=None)
    published_on = Date(null=True, default=None)
    created_by = Integer()
    created_at = Timestamptz(default=TimestamptzNow())


class RulesReview(Table, tablename="va_rules_review"):
    id: Serial

    rules: ForeignKey[RulesVersion] = ForeignKey(
        RulesVersion, index=True, on_delete=OnDelete.cascade
    )
    level = Varchar(length=16, choices=ReviewLevel)
    approved = Boolean()
    comment = Text(default="")
    reviewer_id = Integer()
    reviewed_on = Date()
