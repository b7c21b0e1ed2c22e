"""``tipline demo``: a demo county a newcomer can click through.

It creates one county (``TIPLINE_COUNTY_NAME``, 示范县 by default) with 13 townships
(one of them a state farm) and 160 villages and urban residents' communities, all
with 12-digit codes shaped like the statistical division codes, and one account
per role. The names are made up but realistic, built deterministically from
syllables, so every demo county looks the same. Passwords are random and printed
once; running the command again changes nothing and prints no password.

It also opens the demo county's web tip box: the two designated officers get their
key pairs (made with their accounts, while their passwords are known) and a demo
escrow key is made, its private half written into the data dir
(``demo-escrow-key.pem``, mode 0600) and marked as a demo key: a real county makes
its escrow key with ``tipline keys escrow-init`` and keeps it offline.
"""

from __future__ import annotations

import argparse
import random
import secrets
import unicodedata
from typing import Any

import msgspec

from tipline.auth import ROLES_REQUIRING_TOTP, Role
from tipline.orgunits.schemas import ImportRow
from tipline.settings import Settings

# A prefecture code (6199) that no real prefecture uses, so demo codes never look real.
COUNTY_CODE = "619901000000"
TOWNSHIP_COUNT = 13
VILLAGE_COUNT = 160
# Villages and communities per township, in township order (the farm is last).
UNITS_PER_TOWNSHIP = (14, 13, 12, 13, 12, 11, 13, 12, 14, 12, 11, 13, 10)
# Communities (社区) among them: the seat town is mostly urban, two towns have one each.
COMMUNITIES_PER_TOWNSHIP = {0: 6, 1: 1, 3: 1, 12: 1}

_FIRST = "青石柳龙云金马白桃杨高新东西南安平和兴丰永长黄红双三大小古梨枣松"
_SECOND = "山坪溪湾桥岭坝河沟庄田塘口台川源峪营堡林滩岗寨洼店集铺圩"
_STREET = "东西南北中新文和平安兴华康宁乐福"
_STREET_END = ("关", "街", "苑", "园", "城", "门")


class DemoAccount(msgspec.Struct, frozen=True):
    username: str
    display_name: str
    role: Role
    township: bool = False


DEMO_ACCOUNTS = (
    DemoAccount("admin", "系统管理员（示范）", Role.admin),
    DemoAccount("officer1", "指定专人甲（示范）", Role.officer),
    DemoAccount("officer2", "指定专人乙（示范）", Role.officer),
    DemoAccount("inspector", "纪检监察员（示范）", Role.inspector),
    DemoAccount("leader", "局领导（示范）", Role.leader),
    DemoAccount("county_staff", "县民政局工作人员（示范）", Role.county_staff),
    DemoAccount("township_staff", "城关镇工作人员（示范）", Role.township_staff, township=True),
)


class CreatedAccount(msgspec.Struct, frozen=True):
    username: str
    role: Role
    unit: str
    password: str


class DemoResult(msgspec.Struct, frozen=True):
    created: bool
    county: str
    county_code: str
    townships: int = 0
    villages: int = 0
    accounts: list[CreatedAccount] = []
    escrow_path: str | None = None
    escrow_fingerprint: str | None = None


def _place_names() -> list[str]:
    """Two-syllable place names in a fixed pseudo-random order, each once."""
    names = [a + b for a in _FIRST for b in _SECOND if a != b]
    random.Random(2019).shuffle(names)  # noqa: S311 - a fixed order, not a secret
    return names


def _street_names() -> list[str]:
    names = [a + b for a in _STREET for b in _STREET_END]
    random.Random(2018).shuffle(names)  # noqa: S311 - a fixed order, not a secret
    return names


def demo_rows(county_name: str) -> list[ImportRow]:
    """The demo county as import rows: county, 13 townships, 160 villages/communities."""
    places = iter(_place_names())
    streets = iter(_street_names())
    rows = [ImportRow(row=2, code=COUNTY_CODE, name=county_name, kind="county")]
    prefix = COUNTY_CODE[:6]
    used: set[str] = set()

    def next_place() -> str:
        for name in places:
            if name not in used:
                used.add(name)
                return name
        raise RuntimeError("ran out of demo place names")

    for index, units in enumerate(UNITS_PER_TOWNSHIP):
        if index == 0:
            code, name, kind = f"{prefix}100000", "城关镇", "township"
        elif index == TOWNSHIP_COUNT - 1:
            code, name, kind = f"{prefix}400000", f"{next_place()}农场", "farm"
        elif index <= 7:
            code, name, kind = f"{prefix}{100 + index:03d}000", f"{next_place()}镇", "township"
        else:
            code, name, kind = f"{prefix}{200 + index - 7:03d}000", f"{next_place()}乡", "township"
        rows.append(
            ImportRow(row=len(rows) + 2, code=code, name=name, kind=kind, parent_code=COUNTY_CODE)
        )
        communities = COMMUNITIES_PER_TOWNSHIP.get(index, 0)
        for number in range(units):
            if number < communities:
                unit_code = f"{code[:9]}{number + 1:03d}"
                unit_name = f"{next(streets)}社区" if index == 0 else f"{name[:-1]}街社区"
                if kind == "farm":
                    unit_name = "场部社区"
                unit_kind = "community"
            else:
                unit_code = f"{code[:9]}{200 + number - communities:03d}"
                unit_name = f"{next_place()}村"
                unit_kind = "village"
            rows.append(
                ImportRow(
                    row=len(rows) + 2,
                    code=unit_code,
                    name=unit_name,
                    kind=unit_kind,
                    parent_code=code,
                )
            )
    return rows


def new_password(username: str) -> str:
    """A random password of 16 characters (96 bits) that does not contain the username."""
    while True:
        password = secrets.token_urlsafe(12)
        if username.lower() not in password.lower():
            return password


async def create_demo(settings: Settings) -> DemoResult:
    """Create the demo county and accounts in one transaction, unless the county exists."""
    from tipline import db
    from tipline.accounts.services import create_account
    from tipline.crypto import services as crypto
    from tipline.crypto.primitives import format_fingerprint
    from tipline.ledger.services import SYSTEM
    from tipline.orgunits.services import get_county, import_org_units
    from tipline.orgunits.tables import OrgUnit

    async with db.write_transaction():
        county = await get_county()
        if county is not None:
            return DemoResult(created=False, county=county.name, county_code=county.code)
        rows = demo_rows(settings.county_name)
        await import_org_units(SYSTEM, rows, source="demo")
        ids = {row["code"]: row["id"] for row in await OrgUnit.select(OrgUnit.code, OrgUnit.id)}
        township = rows[1]
        accounts = []
        for account in DEMO_ACCOUNTS:
            unit = township if account.township else rows[0]
            password = new_password(account.username)
            await create_account(
                SYSTEM,
                username=account.username,
                display_name=account.display_name,
                role=account.role,
                org_unit_id=ids[unit.code],
                password=password,
                via="demo",
            )
            accounts.append(CreatedAccount(account.username, account.role, unit.name, password))
        from tipline.authorities.demo import demo as authorities_demo

        await authorities_demo(settings.county_name)
        from villageaffairs.demo import seed_demo as village_affairs_i_demo

        await village_affairs_i_demo(settings)
        from villageaffairs.campaigns.demo import seed_demo as village_affairs_ii_demo

        await village_affairs_ii_demo(settings)
        escrow = None
        if await crypto.active_escrow_key() is None:
            escrow = await crypto.init_escrow_key(
                settings.data_dir / crypto.DEMO_ESCROW_FILE, demo=True, via="demo"
            )
    return DemoResult(
        created=True,
        county=settings.county_name,
        county_code=COUNTY_CODE,
        townships=sum(1 for r in rows if r.parent_code == COUNTY_CODE),
        villages=sum(1 for r in rows if r.kind in ("village", "community")),
        accounts=accounts,
        escrow_path=escrow.path if escrow else None,
        escrow_fingerprint=format_fingerprint(escrow.fingerprint) if escrow else None,
    )


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(_width(line[i]) for line in [header, *rows]) for i in range(len(header))]
    lines = [[_pad(cell, widths[i]) for i, cell in enumerate(line)] for line in [header, *rows]]
    return "\n".join("  ".join(line).rstrip() for line in lines)


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.commandline import CommandError, run_with_database
    from tipline.errors import DomainError
    from tipline.web.i18n import translate

    async def work() -> DemoResult:
        return await create_demo(settings)

    try:
        result: DemoResult = run_with_database(settings, work)
    except DomainError as error:
        raise CommandError(translate(settings.default_locale, error.key, **error.values)) from None
    if not result.created and result.county_code != COUNTY_CODE:
        raise CommandError(
            f"this database already holds the county {result.county} ({result.county_code}); "
            "the demo needs a database without a county. Nothing was changed."
        )
    if not result.created:
        print(
            f"the demo data already exists (county {result.county}, {result.county_code}); "
            "nothing was changed and no password is shown again. To sign in, reset one with "
            "`tipline account reset-password USERNAME`."
        )
        return 0
    print(
        f"demo county {result.county} created: {result.townships} townships, "
        f"{result.villages} villages and communities, {len(result.accounts)} accounts."
    )
    print("Passwords are shown ONLY NOW; write them down:\n")
    print(
        _table(
            ["username", "role", "unit", "password"],
            [[a.username, a.role.value, a.unit, a.password] for a in result.accounts],
        )
    )
    if result.escrow_path:
        print(
            f"\nThe demo tip box is open. Its DEMO escrow key (fingerprint "
            f"{result.escrow_fingerprint}) is in {result.escrow_path}: fine for trying "
            "tipline, never for real tips (a real county runs `tipline keys escrow-init`)."
        )
    totp_roles = ", ".join(r.value for r in Role if r in ROLES_REQUIRING_TOTP)
    print(
        f"\n{totp_roles} accounts are asked to enrol a TOTP authenticator app "
        "(scan the QR code) at their first sign-in."
    )
    return 0


def register(commands: Any) -> None:
    """Add the ``demo`` sub-command."""
    demo = commands.add_parser(
        "demo",
        help="create a demo county (13 townships, 160 villages) and one account per role; "
        "prints the passwords once; does nothing if a county exists",
    )
    demo.set_defaults(handler=_demo)
