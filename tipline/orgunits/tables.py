"""Org units: the county, its townships (a farm 场 counts as one), villages and communities."""

from enum import StrEnum

from piccolo.columns import ForeignKey, OnDelete, Serial, Varchar
from piccolo.table import Table


class OrgUnitKind(StrEnum):
    county = "county"
    township = "township"
    farm = "farm"
    village = "village"
    community = "community"


TOWNSHIP_KINDS = (OrgUnitKind.township, OrgUnitKind.farm)
VILLAGE_KINDS = (OrgUnitKind.village, OrgUnitKind.community)


class OrgUnit(Table, tablename="org_unit"):
    """One unit of the hierarchy, identified by its administrative ``code``.

    Units are never deleted (accounts and records point at them), so the parent
    link refuses a delete instead of cascading it down to the villages.
    """

    id: Serial  # Piccolo adds the primary key itself; declared for the type checker

    code = Varchar(length=32, unique=True, index=True)
    name = Varchar(length=100)
    kind = Varchar(length=16, choices=OrgUnitKind)
    parent: ForeignKey["OrgUnit"] = ForeignKey(
        "self", null=True, default=None, index=True, on_delete=OnDelete.restrict
    )
