"""People of a village and the posts they hold outside the village committee.

An identity number is never stored in clear: ``id_hash`` is an HMAC-SHA256 under a
server key (to find the same person again) and ``id_masked`` keeps the first 4 and
last 4 characters for a human to recognise the record.
"""

from enum import StrEnum

from piccolo.columns import Date, ForeignKey, Integer, OnDelete, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from tipline.orgunits.tables import OrgUnit


class Gender(StrEnum):
    female = "female"
    male = "male"


class RelationKind(StrEnum):
    """Relations provincial rules name: spouses, lineal relatives, other near relatives
    (siblings, grandparents, in-laws, ... as the province counts them)."""

    spouse = "spouse"
    lineal = "lineal"
    near = "near"


class PostKind(StrEnum):
    """Village posts outside the committee that the look-back and the supervisory
    committee rules care about."""

    village_representative = "village_representative"
    group_leader = "group_leader"
    hired_staff = "hired_staff"
    accountant = "accountant"
    bookkeeper = "bookkeeper"


class Person(Table, tablename="va_person"):
    id: Serial

    name = Varchar(length=50)
    gender = Varchar(length=8, choices=Gender)
    id_hash = Varchar(length=64, unique=True, index=True)
    id_masked = Varchar(length=24)
    village: ForeignKey[OrgUnit] = ForeignKey(OrgUnit, index=True, on_delete=OnDelete.restrict)
    created_by = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class Relation(Table, tablename="va_relation"):
    """A declared relation between two people (stored once, read both ways)."""

    id: Serial

    person_a: ForeignKey[Person] = ForeignKey(Person, index=True, on_delete=OnDelete.restrict)
    person_b: ForeignKey[Person] = ForeignKey(Person, index=True, on_delete=OnDelete.restrict)
    kind = Varchar(length=8, choices=RelationKind)
    created_at = Timestamptz(default=TimestamptzNow())


class Post(Table, tablename="va_post"):
    """A village post held by a person from ``start`` until ``end`` (open when null)."""

    id: Serial

    village: ForeignKey[OrgUnit] = ForeignKey(OrgUnit, index=True, on_delete=OnDelete.restrict)
    person: ForeignKey[Person] = ForeignKey(Person, index=True, on_delete=OnDelete.restrict)
    kind = Varchar(length=24, choices=PostKind)
    start = Date()
    end = Date(null=True, default=None)
    end_reason = Varchar(length=32, default="")
