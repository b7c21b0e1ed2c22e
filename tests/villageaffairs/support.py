"""Test helpers for village affairs: a small county, users, people with valid id numbers."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from tipline.auth import CurrentUser, Role
from tipline.orgunits.tables import OrgUnit, OrgUnitKind
from villageaffairs.people.services import check_digit, hash_id_number, mask_id_number
from villageaffairs.people.tables import Person, Relation

KEY = b"k" * 32
_serial = itertools.count(1)


class County:
    county: int
    town_a: int
    town_b: int
    village_a1: int
    village_a2: int
    village_b1: int


async def _unit(code: str, name: str, kind: OrgUnitKind, parent: int | None) -> int:
    rows = await OrgUnit.insert(OrgUnit(code=code, name=name, kind=kind, parent=parent)).returning(
        OrgUnit.id
    )
    return int(rows[0]["id"])


async def make_county() -> County:
    """A county with townships A (two villages) and B (one village)."""
    c = County()
    existing = await OrgUnit.select(OrgUnit.id).where(OrgUnit.code == "999900").first()
    c.county = (
        existing["id"] if existing else await _unit("999900", "测试县", OrgUnitKind.county, None)
    )
    town = await OrgUnit.select(OrgUnit.id).where(OrgUnit.code == "999901").first()
    c.town_a = town["id"] if town else await _unit("999901", "甲镇", OrgUnitKind.township, c.county)
    c.town_b = await _unit("999902", "乙镇", OrgUnitKind.township, c.county)
    c.village_a1 = await _unit("999901001", "甲一村", OrgUnitKind.village, c.town_a)
    c.village_a2 = await _unit("999901002", "甲二村", OrgUnitKind.village, c.town_a)
    c.village_b1 = await _unit("999902001", "乙一村", OrgUnitKind.village, c.town_b)
    return c


def user(role: Role, unit_id: int, account_id: int = 1) -> CurrentUser:
    return CurrentUser(
        account_id=account_id,
        username=f"u{account_id}",
        display_name="U",
        role=role,
        org_unit_id=unit_id,
        org_unit_name="",
        session_id=1,
        totp_enrolled=True,
    )


def id_number(n: int | None = None) -> str:
    serial = n if n is not None else next(_serial)
    first = f"430102198001{serial % 28 + 1:02d}{serial % 1000:03d}"
    return first + check_digit(first)


async def person(village: int, name: str, gender: str = "male") -> int:
    number = id_number()
    rows = await Person.insert(
        Person(
            name=name,
            gender=gender,
            id_hash=hash_id_number(KEY, number) + "",
            id_masked=mask_id_number(number),
            village=village,
        )
    ).returning(Person.id)
    return int(rows[0]["id"])


async def relate(a: int, b: int, kind: str) -> None:
    await Relation.insert(Relation(person_a=a, person_b=b, kind=kind))


async def people(village: int, specs: list[tuple[str, str]]) -> list[int]:
    return [await person(village, name, gender) for name, gender in specs]


DAY = dt.date(2020, 3, 2)


def members_of(ids: list[int], posts: list[str] | None = None) -> list[Any]:
    from villageaffairs.committees.schemas import MemberIn
    from villageaffairs.committees.tables import MemberPost

    posts = posts or ["director"] + ["deputy"] + ["member"] * (len(ids) - 2)
    return [
        MemberIn(person_id=p, post=MemberPost(post)) for p, post in zip(ids, posts, strict=False)
    ]
