"""``tipline account ...`` as an operator runs it, in a real subprocess."""

from __future__ import annotations

import json

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import TEST_PASSWORD, ensure_test_org_units, run_cli
from tipline.accounts.tables import Account, AccountSession
from tipline.ledger.services import recent_events
from tipline.settings import Settings


async def _county_code() -> str:
    from tipline.orgunits.tables import OrgUnit

    units = await ensure_test_org_units()
    row = await OrgUnit.select(OrgUnit.code).where(OrgUnit.id == units["county"]).first()
    assert row is not None
    return str(row["code"])


async def test_account_add_reads_the_password_from_stdin(
    settings: Settings, client: AsyncTestClient[Litestar]
) -> None:
    code = await _county_code()
    result = run_cli(
        settings,
        *("account", "add", "Chief.Admin", "--role", "admin", "--org-unit", code),
        *("--name", "县管理员"),
        input=TEST_PASSWORD + "\n",
        process=True,
    )
    assert result.returncode == 0, result.stderr
    assert "chief.admin" in result.stdout and TEST_PASSWORD not in result.stdout
    assert "TOTP" in result.stdout

    response = await client.post(
        "/api/v1/auth/login", json={"username": "chief.admin", "password": TEST_PASSWORD}
    )
    assert response.status_code == 200
    assert response.json()["role"] == "admin" and response.json()["totp_enrolled"] is False

    created = [e for e in await recent_events(50) if e["action"] == "account.created"]
    assert created[0]["actor_type"] == "system"
    assert json.loads(created[0]["payload"])["via"] == "cli"


async def test_account_add_refuses_bad_input_with_exit_status_2(
    settings: Settings, app: Litestar
) -> None:
    code = await _county_code()
    weak = run_cli(
        settings,
        *("account", "add", "weak.user", "--role", "county_staff", "--org-unit", code),
        *("--name", "弱"),
        input="short\n",
    )
    assert weak.returncode == 2 and "12" in weak.stderr
    unknown_unit = run_cli(
        settings,
        *("account", "add", "lost.user", "--role", "county_staff", "--org-unit", "NOPE"),
        *("--name", "无"),
        input=TEST_PASSWORD + "\n",
    )
    assert unknown_unit.returncode == 2 and "NOPE" in unknown_unit.stderr
    bad_role = run_cli(
        settings,
        *("account", "add", "x.user", "--role", "emperor", "--org-unit", code, "--name", "x"),
        input=TEST_PASSWORD + "\n",
    )
    assert bad_role.returncode == 2 and "emperor" in bad_role.stderr
    no_password = run_cli(
        settings,
        *("account", "add", "np.user", "--role", "county_staff", "--org-unit", code),
        *("--name", "x"),
        input="",
    )
    assert no_password.returncode == 2
    assert await Account.count() == 0


async def test_disable_and_reset_password_end_sessions(
    settings: Settings, client: AsyncTestClient[Litestar]
) -> None:
    code = await _county_code()
    added = run_cli(
        settings,
        *("account", "add", "staff.one", "--role", "county_staff", "--org-unit", code),
        *("--name", "员工"),
        input=TEST_PASSWORD + "\n",
    )
    assert added.returncode == 0, added.stderr
    login = {"username": "staff.one", "password": TEST_PASSWORD}
    assert (await client.post("/api/v1/auth/login", json=login)).status_code == 200

    new_password = "The river runs north in spring"
    reset = run_cli(settings, "account", "reset-password", "staff.one", input=new_password + "\n")
    assert reset.returncode == 0, reset.stderr
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    login["password"] = new_password
    assert (await client.post("/api/v1/auth/login", json=login)).status_code == 200

    disabled = run_cli(settings, "account", "disable", "staff.one")
    assert disabled.returncode == 0, disabled.stderr
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    open_sessions = await AccountSession.count().where(AccountSession.ended_at.is_null())
    assert open_sessions == 0

    missing = run_cli(settings, "account", "disable", "nobody")
    assert missing.returncode == 2 and "nobody" in missing.stderr
