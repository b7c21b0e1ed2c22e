"""Accounts rules: password policy and hashing, TOTP window and replay, throttling, creation."""

from __future__ import annotations

import base64
import json
import re

import pytest
from argon2 import PasswordHasher

from tests.conftest import TEST_PASSWORD, ensure_test_org_units, make_account
from tipline.accounts import passwords, services, totp
from tipline.accounts.exceptions import (
    LoginFailed,
    OrgUnitWrongLevel,
    PasswordContainsUsername,
    PasswordTooCommon,
    PasswordTooShort,
    UsernameInvalid,
    UsernameTaken,
)
from tipline.accounts.tables import Account
from tipline.auth import Role
from tipline.ledger.services import SYSTEM, events_for
from tipline.settings import Settings

# --- password policy -----------------------------------------------------------------


def test_password_shorter_than_twelve_characters_is_refused() -> None:
    with pytest.raises(PasswordTooShort) as caught:
        passwords.check_policy("Short1!pass", "chen")
    assert caught.value.values == {"min": 12}
    passwords.check_policy("Twelve chars", "chen")


@pytest.mark.parametrize(
    "password", ["password1234", "PASSWORD1234", "qwerty123456", "woaini5201314", "111111111111"]
)
def test_common_passwords_are_refused_whatever_their_case(password: str) -> None:
    with pytest.raises(PasswordTooCommon):
        passwords.check_policy(password, "chen")


def test_password_containing_the_username_is_refused() -> None:
    with pytest.raises(PasswordContainsUsername):
        passwords.check_policy("my name is Wang.Li and more", "wang.li")


def test_a_long_uncommon_password_is_accepted() -> None:
    passwords.check_policy(TEST_PASSWORD, "wang.li")


def test_common_password_list_is_shipped_and_loaded() -> None:
    assert len(passwords.common_passwords()) > 1000


_ENCODED_ARGON2 = re.compile(
    r"\$(?P<type>argon2(?:id|i|d))\$v=(?P<v>\d+)\$m=(?P<m>\d+),t=(?P<t>\d+),p=(?P<p>\d+)"
    r"\$(?P<salt>[A-Za-z0-9+/]+)\$(?P<tag>[A-Za-z0-9+/]+)"
)


def _b64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


async def test_stored_password_hash_meets_rfc_9106_and_binds_the_officer_key(
    tipline_db: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the service's own hasher (not the tests' cheap one), the hash stored for a
    new account is argon2id v1.3 at RFC 9106 section 4's second recommended option or
    stronger (t >= 3, m >= 64 MiB; 128-bit salt, 256-bit tag), read from the encoded hash;
    the right password verifies (also by argon2's reference verifier), a wrong one does not;
    and the officer's key is wrapped with at least the same cost as the password."""
    from argon2.low_level import Type, verify_secret

    from tipline.crypto.tables import OfficerKey

    monkeypatch.setattr(passwords, "HASHER", passwords.DEFAULT_HASHER)
    account = await make_account(Role.officer)
    row = await Account.select(Account.password_hash).where(Account.id == account["id"]).first()
    assert row is not None
    stored = row["password_hash"]
    parsed = _ENCODED_ARGON2.fullmatch(stored)
    assert parsed is not None, stored
    assert parsed["type"] == "argon2id" and parsed["v"] == "19"
    cost = {name: int(parsed[name]) for name in ("m", "t", "p")}
    assert cost["t"] >= 3 and cost["m"] >= 64 * 1024 and cost["p"] >= 1, cost
    assert len(_b64(parsed["salt"])) >= 16 and len(_b64(parsed["tag"])) >= 32

    assert verify_secret(stored.encode(), TEST_PASSWORD.encode(), Type.ID)
    assert await passwords.verify_password(stored, TEST_PASSWORD)
    assert not await passwords.verify_password(stored, TEST_PASSWORD + "x")
    assert not await passwords.verify_password(stored, TEST_PASSWORD[:-1])

    key = await OfficerKey.select().where(OfficerKey.account_id == account["id"]).first()
    assert key is not None and key["kdf_name"] == "argon2id"
    assert key["kdf_time_cost"] >= cost["t"] and key["kdf_memory_cost"] >= cost["m"]
    assert key["kdf_parallelism"] >= 1


async def test_hash_and_verify_with_argon2id() -> None:
    hashed = await passwords.hash_password(TEST_PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert await passwords.verify_password(hashed, TEST_PASSWORD)
    assert not await passwords.verify_password(hashed, TEST_PASSWORD + "x")
    assert not await passwords.verify_password("not a hash", TEST_PASSWORD)


# --- TOTP ------------------------------------------------------------------------------


def test_totp_accepts_previous_current_and_next_step_only() -> None:
    secret = totp.new_secret()
    now = 1_700_000_000.0
    step = totp.current_step(now)
    for offset in (-1, 0, 1):
        code = totp.code_at_step(secret, step + offset)
        assert totp.matching_step(secret, code, None, now=now) == step + offset
    for offset in (-2, 2):
        code = totp.code_at_step(secret, step + offset)
        assert totp.matching_step(secret, code, None, now=now) is None


def test_totp_refuses_a_step_at_or_before_the_last_used() -> None:
    secret = totp.new_secret()
    now = 1_700_000_000.0
    step = totp.current_step(now)
    code = totp.code_at_step(secret, step)
    assert totp.matching_step(secret, code, step, now=now) is None
    assert totp.matching_step(secret, totp.code_at_step(secret, step - 1), step, now=now) is None
    assert (
        totp.matching_step(secret, totp.code_at_step(secret, step + 1), step, now=now) == step + 1
    )


def test_totp_matches_rfc_6238_test_vector() -> None:
    # RFC 6238 Appendix B, SHA-1 key "12345678901234567890", T = 59 s -> 94287082 (8 digits);
    # the 6-digit code is its last six digits.
    import base64

    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp.code_at_step(secret, 59 // 30) == "287082"


def test_totp_codes_with_spaces_are_accepted_and_garbage_is_not() -> None:
    assert totp.normalize_code(" 123 456 ") == "123456"
    assert totp.normalize_code("12345") is None
    assert totp.normalize_code("abcdef") is None
    assert totp.normalize_code("١٢٣٤٥٦") is None


def test_provisioning_uri_names_the_parameters_apps_expect() -> None:
    uri = totp.provisioning_uri("ABCDEFGH", "wang.li", "示范县")
    assert uri.startswith("otpauth://totp/")
    assert "secret=ABCDEFGH" in uri and "digits=6" in uri and "period=30" in uri
    assert "<svg" in totp.qr_svg(uri) and "style=" not in totp.qr_svg(uri)


# --- throttling ------------------------------------------------------------------------


def test_throttle_starts_at_the_third_failure_doubles_and_is_capped() -> None:
    assert [services.throttle_seconds(n, 2) for n in range(1, 7)] == [0, 0, 2, 4, 8, 16]
    assert services.throttle_seconds(40, 2) == 15 * 60
    assert services.throttle_seconds(10_000, 1) == 15 * 60


# --- accounts --------------------------------------------------------------------------


async def test_create_account_validates_and_records_an_event(tipline_db: Settings) -> None:
    units = await ensure_test_org_units()
    account_id = await services.create_account(
        SYSTEM,
        username="  Wang.Li ",
        display_name="王丽",
        role=Role.county_staff,
        org_unit_id=units["county"],
        password=TEST_PASSWORD,
    )
    summary = await services.get_account(account_id)
    assert summary.username == "wang.li" and summary.role is Role.county_staff
    assert not summary.totp_required
    with pytest.raises(UsernameTaken):
        await services.create_account(
            SYSTEM,
            username="WANG.LI",
            display_name="另一个",
            role=Role.county_staff,
            org_unit_id=units["county"],
            password=TEST_PASSWORD,
        )
    events = await events_for("account", account_id)
    assert [event["action"] for event in events] == ["account.created"]
    payload = json.loads(events[0]["payload"])
    assert payload == {"role": "county_staff", "org_unit_id": units["county"]}


async def test_roles_must_belong_to_the_right_level_of_org_unit(tipline_db: Settings) -> None:
    units = await ensure_test_org_units()
    with pytest.raises(OrgUnitWrongLevel):
        await services.create_account(
            SYSTEM,
            username="township.person",
            display_name="乡镇",
            role=Role.township_staff,
            org_unit_id=units["county"],
            password=TEST_PASSWORD,
        )
    with pytest.raises(OrgUnitWrongLevel):
        await services.create_account(
            SYSTEM,
            username="officer.person",
            display_name="专人",
            role=Role.officer,
            org_unit_id=units["township"],
            password=TEST_PASSWORD,
        )
    with pytest.raises(UsernameInvalid):
        await services.create_account(
            SYSTEM,
            username="a b",
            display_name="x",
            role=Role.officer,
            org_unit_id=units["county"],
            password=TEST_PASSWORD,
        )
    assert await Account.count() == 0


async def test_login_rehashes_a_password_made_with_old_parameters(tipline_db: Settings) -> None:
    account = await make_account(Role.county_staff)
    weak = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1)
    await Account.update({Account.password_hash: weak.hash(TEST_PASSWORD)}).where(
        Account.id == account["id"]
    )
    await services.login(account["username"], TEST_PASSWORD, None, throttle_base_seconds=1)
    row = await Account.select(Account.password_hash).where(Account.id == account["id"]).first()
    assert row is not None
    parsed = _ENCODED_ARGON2.fullmatch(row["password_hash"])
    assert parsed is not None and parsed["type"] == "argon2id"
    upgraded = (int(parsed["m"]), int(parsed["t"]), int(parsed["p"]))
    assert upgraded != (512, 1, 1)
    # What the login upgrades to: the hasher configured now (the tests' one, tests/conftest.py).
    current = passwords.HASHER
    assert upgraded == (current.memory_cost, current.time_cost, current.parallelism)
    assert await passwords.verify_password(row["password_hash"], TEST_PASSWORD)


async def test_unknown_username_fails_like_a_wrong_password(tipline_db: Settings) -> None:
    account = await make_account(Role.county_staff)
    with pytest.raises(LoginFailed) as unknown:
        await services.login("nobody-here", TEST_PASSWORD, None, throttle_base_seconds=1)
    with pytest.raises(LoginFailed) as wrong:
        await services.login(account["username"], "wrong password!!", None, throttle_base_seconds=1)
    assert unknown.value.key == wrong.value.key
