"""Notice boards (村务公开栏), disclosures posted on them, and township inspections."""

from enum import StrEnum

from piccolo.columns import (
    JSON,
    Boolean,
    Bytea,
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


class Category(StrEnum):
    finance = "finance"  # income and expenditure
    general = "general"  # general village affairs
    major = "major"  # a major matter affecting villagers' interests


class Cadence(StrEnum):
    monthly = "monthly"
    quarterly = "quarterly"
    event = "event"


class InspectionStatus(StrEnum):
    passed = "passed"
    fix_required = "fix_required"
    fixed = "fixed"  # a re-inspection found the findings fixed


class Photo(Table, tablename="va_photo"):
    """A photo as evidence, stored only after its metadata (EXIF, GPS) was removed."""

    id: Serial

    media_type = Varchar(length=64)
    data = Bytea()
    sha256 = Varchar(length=64)
    size = Integer()
    uploaded_by = Integer()
    uploaded_at = Timestamptz(default=TimestamptzNow())


class NoticeBoard(Table, tablename="va_notice_board"):
    id: Serial

    village: ForeignKey[OrgUnit] = ForeignKey(
        OrgUnit, unique=True, index=True, on_delete=OnDelete.restrict
    )
    location = Varchar(length=200)
    standardised = Boolean(default=False)
    photo: ForeignKey[Photo] = ForeignKey(Photo, null=True, default=None)
    finance_monthly = Boolean(default=False)  # many collective transactions: monthly finance
    updated_by = Integer()
    updated_at = Timestamptz(default=TimestamptzNow())


class Disclosure(Table, tablename="va_disclosure"):
    id: Serial

    village: ForeignKey[OrgUnit] = ForeignKey(OrgUnit, index=True, on_delete=OnDelete.restrict)
    category = Varchar(length=16, choices=Category)
    period = Varchar(length=40)  # "2020-05", "2020-Q2" or the matter for a major one
    title = Varchar(length=200)
    posted_on = Date()
    photo: ForeignKey[Photo] = ForeignKey(Photo, null=True, default=None)
    sc_signed = Boolean(default=False)
    sc_signed_by = Varchar(length=50, default="")
    recorded_by = Integer()


class Inspection(Table, tablename="va_board_inspection"):
    id: Serial

    village: ForeignKey[OrgUnit] = ForeignKey(OrgUnit, index=True, on_delete=OnDelete.restrict)
    inspected_on = Date()
    checklist = JSON(default={})
    findings = Text(default="")
    fix_by = Date(null=True, default=None)
    status = Varchar(length=16, choices=InspectionStatus)
    reinspected_on = Date(null=True, default=None)
    reinspection_note = Text(default="")
    inspector_id = Integer()
