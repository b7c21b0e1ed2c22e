"""``tipline demo``: a whole demo county and one account per role, passwords shown once."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from tests.conftest import run_cli
from tipline import db
from tipline.auth import Role
from tipline.settings import Settings

PASSWORD_LINE = re.compile(r"^(\S+)\s+(\S+)\s+(\S+)\s+(\S{16,})$")


def _counts(settings: Settings) -> dict[str, Any]:
    async def count() -> dict[str, Any]:
        from tipline.accounts.tables import Account
        from tipline.ledger.tables import CustodyEvent
        from tipline.orgunits.tables import OrgUnit

        db.bind(db.make_engine(settings))
        kinds = [row["kind"] for row in await OrgUnit.select(OrgUnit.kind)]
        roles = sorted(row["role"] for row in await Account.select(Account.role))
        return {
            "county": kinds.count("county"),
            "townships": kinds.count("township") + kinds.count("farm"),
            "farms": kinds.count("farm"),
            "villages": kinds.count("village") + kinds.count("community"),
            "communities": kinds.count("community"),
            "roles": roles,
            "events": await CustodyEvent.count(),
            "names": len({row["name"] for row in await OrgUnit.select(OrgUnit.name)}),
        }

    return asyncio.run(count())


def _sign_in(settings: Settings, username: str, password: str) -> Any:
    async def login() -> Any:
        from tipline.accounts.services import login

        db.bind(db.make_engine(settings))
        return await login(username, password, None, throttle_base_seconds=1)

    return asyncio.run(login())


def test_demo_creates_the_county_once_and_prints_passwords_once(settings: Settings) -> None:
    assert run_cli(settings, "migrate").returncode == 0
    first = run_cli(settings, "demo", process=True)
    assert first.returncode == 0, first.stderr
    assert "13 townships, 160 villages" in first.stdout
    accounts = {
        m.group(1): (m.group(2), m.group(4))
        for line in first.stdout.splitlines()
        if (m := PASSWORD_LINE.match(line))
    }
    assert {role for role, _ in accounts.values()} == {role.value for role in Role}
    assert sorted(accounts) == sorted(
        ["admin", "officer1", "officer2", "inspector", "leader", "county_staff", "township_staff"]
    )
    assert "TOTP" in first.stdout

    created = _counts(settings)
    assert created["county"] == 1 and created["townships"] == 13 and created["farms"] == 1
    assert created["villages"] == 160 and created["communities"] >= 3
    assert created["names"] == 1 + 13 + 160
    assert created["roles"] == sorted(
        ["admin", "officer", "officer", "inspector", "leader", "county_staff", "township_staff"]
    )

    second = run_cli(settings, "demo")
    assert second.returncode == 0, second.stderr
    assert "already exists" in second.stdout
    for _, password in accounts.values():
        assert password not in second.stdout
    assert _counts(settings) == created
    assert "ok: " in run_cli(settings, "ledger", "verify").stdout

    session = _sign_in(settings, "township_staff", accounts["township_staff"][1])
    assert session.token


def test_demo_leaves_a_real_county_alone(settings: Settings, tmp_path: Any) -> None:
    assert run_cli(settings, "migrate").returncode == 0
    source = tmp_path / "county.csv"
    source.write_text("code,name,kind,parent_code\n420000000000,真县,县,\n", encoding="utf-8")
    assert run_cli(settings, "orgunits", "import", str(source)).returncode == 0
    result = run_cli(settings, "demo")
    assert result.returncode == 2
    assert "420000000000" in result.stderr and "Nothing was changed" in result.stderr
    assert _counts(settings)["townships"] == 0


def _key_state(settings: Settings, officer: str, password: str) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        from tipline.accounts.services import find_account_id
        from tipline.crypto import services as crypto
        from tipline.crypto.primitives import fingerprint

        db.bind(db.make_engine(settings))
        account_id = await find_account_id(officer)
        key = await crypto.unwrap_officer_key(account_id, password)
        escrow = await crypto.active_escrow_key()
        return {
            "open": await crypto.tip_box_open(),
            "officer_keys": (await crypto.key_status()).officer_keys,
            "officer_ok": fingerprint(key) == await crypto.officer_fingerprint(account_id),
            "escrow": escrow,
        }

    return asyncio.run(read())


def test_demo_opens_the_tip_box_with_a_demo_escrow_key(settings: Settings) -> None:
    from tipline.crypto.primitives import fingerprint, private_key_from_pem
    from tipline.crypto.services import DEMO_ESCROW_FILE

    assert run_cli(settings, "migrate").returncode == 0
    result = run_cli(settings, "demo")
    assert result.returncode == 0, result.stderr
    assert "DEMO escrow key" in result.stdout
    passwords = {
        m.group(1): m.group(4)
        for line in result.stdout.splitlines()
        if (m := PASSWORD_LINE.match(line))
    }
    path = settings.data_dir / DEMO_ESCROW_FILE
    assert path.is_file() and path.stat().st_mode & 0o777 == 0o600
    assert str(path) in result.stdout

    state = _key_state(settings, "officer1", passwords["officer1"])
    assert state["open"] is True and state["officer_keys"] == 2 and state["officer_ok"]
    escrow = state["escrow"]
    assert escrow is not None and escrow["is_demo"]
    assert fingerprint(private_key_from_pem(path.read_bytes())) == escrow["fingerprint"]
    assert _key_state(settings, "officer2", passwords["officer2"])["officer_ok"]

    again = run_cli(settings, "demo")
    assert again.returncode == 0 and "DEMO escrow key" not in again.stdout
    assert "ok: " in run_cli(settings, "ledger", "verify").stdout
