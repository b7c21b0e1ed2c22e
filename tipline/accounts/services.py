"""Accounts: who may sign in, how, and what each change leaves in the chain of custody.

Rules and where they come from:

- Identification and authentication (GB/T 22239-2019 8.1.4.1 a–d): unique usernames,
  passwords that resist guessing (``passwords.check_policy``), handling of failed
  logins without a permanent lock (``throttle_seconds``), sessions that end on
  time-out (``sessions``), and a second factor (TOTP) for the roles that hold or
  oversee tips (``auth.ROLES_REQUIRING_TOTP``).
- Every sign-in, failed sign-in, sign-out and account change is an event in the
  chain of custody, appended in the same transaction (docs/ARCHITECTURE.md principle 4).
- A designated officer's key pair follows their password (docs/ARCHITECTURE.md principle 1): made
  with the account, unlocked for each session at sign-in, re-wrapped in the same
  transaction as a password change, replaced when an administrator resets the
  password (the old key was wrapped under the forgotten one). Its argon2id work runs
  before the write transaction, like the password hashing.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from tipline import db
from tipline.accounts import passwords, sessions, totp
from tipline.accounts.exceptions import (
    AccountNotFound,
    CannotDisableSelf,
    DisplayNameInvalid,
    EmailInvalid,
    LoginFailed,
    LoginThrottled,
    OrgUnitNotFound,
    OrgUnitWrongLevel,
    PasswordsDiffer,
    RoleInvalid,
    TotpAlreadyEnrolled,
    TotpCodeInvalid,
    UsernameInvalid,
    UsernameTaken,
    WrongCurrentPassword,
)
from tipline.accounts.schemas import AccountSummary, LoginResult, OrgUnitChoice, TotpEnrolment
from tipline.accounts.tables import Account, AccountSession
from tipline.auth import ROLES_REQUIRING_TOTP, CurrentUser, Role
from tipline.crypto import services as crypto
from tipline.crypto.exceptions import OfficerKeyNotFound, WrongKeyPassword
from tipline.crypto.primitives import KdfParams
from tipline.ledger.services import SYSTEM, Actor, append_event
from tipline.orgunits.tables import TOWNSHIP_KINDS, OrgUnit, OrgUnitKind

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
DISPLAY_NAME_MAX = 100
THROTTLE_FREE_FAILURES = 2
THROTTLE_CAP_SECONDS = 15 * 60


def normalize_username(username: str) -> str:
    """Usernames are compared case-insensitively: stored and looked up in lower case."""
    return username.strip().lower()


def throttle_seconds(failures: int, base_seconds: int) -> int:
    """How long to refuse logins after ``failures`` failures in a row (0: not at all).

    From the third failure on the wait doubles (base, 2×base, 4×base, …) up to 15
    minutes: guessing becomes hopelessly slow, yet the owner is never locked out for
    good (GB/T 22239-2019 8.1.4.1 b: limit illegal login attempts).
    """
    if failures <= THROTTLE_FREE_FAILURES:
        return 0
    exponent = min(failures - THROTTLE_FREE_FAILURES - 1, 20)
    return int(min(base_seconds * 2**exponent, THROTTLE_CAP_SECONDS))


def officer_kdf() -> KdfParams:
    """Argon2id parameters for wrapping a new officer key: the password hasher's own, so
    the key is exactly as hard to guess at as the password it is derived from."""
    hasher = passwords.HASHER
    return KdfParams(
        time_cost=hasher.time_cost,
        memory_cost=hasher.memory_cost,
        parallelism=hasher.parallelism,
    )


def _with_via(payload: dict[str, Any], via: str | None) -> dict[str, Any]:
    return {**payload, "via": via} if via else payload


def _summary(row: dict[str, Any]) -> AccountSummary:
    role = Role(row["role"])
    return AccountSummary(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        role=role,
        org_unit_id=row["org_unit_id"],
        org_unit_name=row["org_unit_name"],
        disabled=bool(row["disabled"]),
        totp_enrolled=row["totp_secret"] is not None,
        totp_required=role in ROLES_REQUIRING_TOTP,
        email=row.get("email"),
    )


def _summary_columns() -> list[Any]:
    return [
        Account.id,
        Account.username,
        Account.display_name,
        Account.role,
        Account.disabled,
        Account.totp_secret,
        Account.email,
        Account.org_unit._.id.as_alias("org_unit_id"),
        Account.org_unit._.name.as_alias("org_unit_name"),
    ]


async def get_account(account_id: int) -> AccountSummary:
    row = await Account.select(*_summary_columns()).where(Account.id == account_id).first()
    if row is None:
        raise AccountNotFound(id=account_id)
    return _summary(row)


async def find_account_id(username: str) -> int:
    """The id of the account named ``username`` (for the command line)."""
    row = (
        await Account.select(Account.id)
        .where(Account.username == normalize_username(username))
        .first()
    )
    if row is None:
        raise AccountNotFound(id=username)
    return int(row["id"])


async def list_accounts() -> list[AccountSummary]:
    rows = await Account.select(*_summary_columns()).order_by(Account.username)
    return [_summary(row) for row in rows]


async def assignable_org_units() -> list[OrgUnitChoice]:
    """The units an account may belong to: the county and its townships (and farms)."""
    kinds = [OrgUnitKind.county.value, *(kind.value for kind in TOWNSHIP_KINDS)]
    rows = (
        await OrgUnit.select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.kind)
        .where(OrgUnit.kind.is_in(kinds))
        .order_by(OrgUnit.code)
    )
    rows.sort(key=lambda row: (row["kind"] != OrgUnitKind.county.value, row["code"]))
    return [OrgUnitChoice(row["id"], row["code"], row["name"], row["kind"]) for row in rows]


async def org_unit_id_by_code(code: str) -> int:
    row = await OrgUnit.select(OrgUnit.id).where(OrgUnit.code == code.strip()).first()
    if row is None:
        raise OrgUnitNotFound(code=code)
    return int(row["id"])


def _check_username(username: str) -> str:
    name = normalize_username(username)
    if not USERNAME_PATTERN.fullmatch(name):
        raise UsernameInvalid()
    return name


def _check_display_name(display_name: str) -> str:
    name = " ".join(display_name.split())
    if not name or len(name) > DISPLAY_NAME_MAX:
        raise DisplayNameInvalid(max=DISPLAY_NAME_MAX)
    return name


EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9.-]{1,189}\.[A-Za-z]{2,63}$")


def check_email(value: str) -> str | None:
    """A work e-mail address for notifications, or None when left empty."""
    text = value.strip()
    if not text:
        return None
    if len(text) > 254 or not EMAIL.fullmatch(text):
        raise EmailInvalid()
    return text


async def set_email(actor: Actor, account_id: int, value: str) -> None:
    """Set or clear where an account's notifications are e-mailed; recorded without the
    address itself (``account.email_changed``)."""
    email = check_email(value)
    await _require_account(account_id)
    async with db.write_transaction():
        await Account.update({Account.email: email}).where(Account.id == account_id)
        await append_event(
            actor, "account.email_changed", "account", account_id, {"has_email": email is not None}
        )


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip())
    except ValueError:
        raise RoleInvalid(role=value) from None


async def _check_org_unit(role: Role, org_unit_id: int) -> None:
    """Township staff belong to a township (or farm); every other role to the county.

    The county-level roles (officers, the inspector, county staff, admins) see the
    whole county; township staff see and report for their own township only.
    """
    unit = await OrgUnit.select(OrgUnit.kind).where(OrgUnit.id == org_unit_id).first()
    if unit is None:
        raise OrgUnitNotFound(code=str(org_unit_id))
    kind = unit["kind"]
    if role is Role.township_staff:
        if kind not in {k.value for k in TOWNSHIP_KINDS}:
            raise OrgUnitWrongLevel("accounts.error.org_unit_township_required")
    elif kind != OrgUnitKind.county.value:
        raise OrgUnitWrongLevel("accounts.error.org_unit_county_required")


def check_new_password(password: str, confirmation: str | None, username: str) -> None:
    if confirmation is not None and password != confirmation:
        raise PasswordsDiffer()
    passwords.check_policy(password, username)


async def create_account(
    actor: Actor,
    *,
    username: str,
    display_name: str,
    role: Role,
    org_unit_id: int,
    password: str,
    via: str | None = None,
) -> int:
    """Create an account and return its id (``via``: "cli" when an operator ran a command)."""
    name = _check_username(username)
    shown_name = _check_display_name(display_name)
    role = parse_role(str(role))
    await _check_org_unit(role, org_unit_id)
    passwords.check_policy(password, name)
    if await Account.exists().where(Account.username == name):
        raise UsernameTaken(username=name)
    password_hash = await passwords.hash_password(password)
    async with db.write_transaction():
        if await Account.exists().where(Account.username == name):
            raise UsernameTaken(username=name)
        rows = await Account.insert(
            Account(
                username=name,
                display_name=shown_name,
                role=role.value,
                org_unit=org_unit_id,
                password_hash=password_hash,
            )
        ).returning(Account.id)
        account_id = int(rows[0]["id"])
        await append_event(
            actor,
            "account.created",
            "account",
            account_id,
            _with_via({"role": role.value, "org_unit_id": org_unit_id}, via),
        )
    if role is Role.officer:
        # Now, while the password is known, so tips received before the officer's
        # first sign-in are sealed to them too; should this fail, the first sign-in
        # makes the key instead.
        await crypto.create_officer_key(account_id, password, actor=actor, kdf=officer_kdf())
    return account_id


async def _require_account(account_id: int) -> dict[str, Any]:
    row = (
        await Account.select(Account.id, Account.username, Account.disabled, Account.role)
        .where(Account.id == account_id)
        .first()
    )
    if row is None:
        raise AccountNotFound(id=account_id)
    return row


async def disable_account(actor: Actor, account_id: int, *, via: str | None = None) -> None:
    """Disable an account and end all its sessions at once."""
    if actor.type == "account" and actor.id == str(account_id):
        raise CannotDisableSelf()
    row = await _require_account(account_id)
    if row["disabled"]:
        return
    async with db.write_transaction():
        await Account.update({Account.disabled: True}).where(Account.id == account_id)
        await sessions.end_sessions(account_id, "disabled")
        await append_event(actor, "account.disabled", "account", account_id, _with_via({}, via))


async def enable_account(actor: Actor, account_id: int, *, via: str | None = None) -> None:
    row = await _require_account(account_id)
    if not row["disabled"]:
        return
    async with db.write_transaction():
        await Account.update(
            {Account.disabled: False, Account.failed_logins: 0, Account.throttled_until: None}
        ).where(Account.id == account_id)
        await append_event(actor, "account.enabled", "account", account_id, _with_via({}, via))


async def reset_password(
    actor: Actor,
    account_id: int,
    new_password: str,
    confirmation: str | None = None,
    *,
    via: str | None = None,
) -> None:
    """An administrator sets a new password; every session of the account ends.

    An officer's old private key was wrapped under the forgotten password, so it is
    replaced by a new key pair; tips sealed to the old key stay readable through the
    escrow key and the other designated officers.
    """
    row = await _require_account(account_id)
    check_new_password(new_password, confirmation, row["username"])
    password_hash = await passwords.hash_password(new_password)
    replacement = None
    if row["role"] == Role.officer.value:
        replacement = await crypto.prepare_replacement(account_id, new_password, kdf=officer_kdf())
    async with db.write_transaction():
        if replacement is not None:
            await crypto.save_prepared_key(replacement, actor=actor)
        await Account.update(
            {
                Account.password_hash: password_hash,
                Account.password_changed_at: sessions.utcnow(),
                Account.failed_logins: 0,
                Account.throttled_until: None,
            }
        ).where(Account.id == account_id)
        await sessions.end_sessions(account_id, "password_reset")
        await append_event(
            actor, "account.password_reset", "account", account_id, _with_via({}, via)
        )


async def reset_totp(actor: Actor, account_id: int, *, via: str | None = None) -> None:
    """Forget an account's TOTP secret (a lost phone); it must enrol again at next sign-in.

    Its sessions end, so the next sign-in is with the password alone and then
    limited to enrolment.
    """
    await _require_account(account_id)
    async with db.write_transaction():
        await Account.update({Account.totp_secret: None, Account.totp_last_step: None}).where(
            Account.id == account_id
        )
        await sessions.end_sessions(account_id, "totp_reset")
        await append_event(actor, "account.totp_reset", "account", account_id, _with_via({}, via))


async def change_password(
    user: CurrentUser, current_password: str, new_password: str, confirmation: str | None = None
) -> None:
    """The account holder changes its own password.

    Every other session of the account ends; the one making the change goes on, so
    the holder is not thrown out, while anyone who knew the old password is. An
    officer's key is re-wrapped under the new password in the same transaction: the
    key pair stays, so every tip sealed to it still opens.
    """
    row = await Account.select(Account.password_hash).where(Account.id == user.account_id).first()
    if row is None:
        raise AccountNotFound(id=user.account_id)
    if not await passwords.verify_password(row["password_hash"], current_password):
        raise WrongCurrentPassword()
    check_new_password(new_password, confirmation, user.username)
    password_hash = await passwords.hash_password(new_password)
    rewrap = None
    if user.role is Role.officer:
        try:
            rewrap = await crypto.prepare_rewrap(
                user.account_id, current_password, new_password, kdf=officer_kdf()
            )
        except OfficerKeyNotFound:
            rewrap = await crypto.prepare_officer_key(
                user.account_id, new_password, kdf=officer_kdf()
            )
    async with db.write_transaction():
        if rewrap is not None:
            await crypto.save_prepared_key(rewrap)
        await Account.update(
            {Account.password_hash: password_hash, Account.password_changed_at: sessions.utcnow()}
        ).where(Account.id == user.account_id)
        await sessions.end_sessions(
            user.account_id, "password_changed", keep_session_id=user.session_id
        )
        await append_event(
            Actor.account(user.account_id), "account.password_changed", "account", user.account_id
        )


async def _record_failure(
    account_id: int, failed_logins: int, reason: str, base_seconds: int, now: dt.datetime
) -> None:
    failures = failed_logins + 1
    wait = throttle_seconds(failures, base_seconds)
    await Account.update(
        {
            Account.failed_logins: failures,
            Account.throttled_until: now + dt.timedelta(seconds=wait) if wait else None,
        }
    ).where(Account.id == account_id)
    await append_event(
        SYSTEM,
        "account.login_failed",
        "account",
        account_id,
        {"account_id": account_id, "reason": reason},
    )


async def login(
    username: str,
    password: str,
    totp_code: str | None,
    *,
    throttle_base_seconds: int,
    previous_token: str | None = None,
) -> LoginResult:
    """Check a sign-in and open a session; the token goes into the session cookie.

    Every failure answers the same :class:`LoginFailed` whether the username, the
    password or the code was wrong; an unknown username costs the same hashing work.
    While an account is throttled, attempts are refused before the password is
    checked. A designated officer's key is then unlocked for the new session (and
    made at the first sign-in if the officer has none yet), outside the sign-in's
    transaction since it costs one more argon2id derivation.
    """
    name = normalize_username(username)
    row = (
        await Account.select(
            Account.id, Account.password_hash, Account.throttled_until, Account.role
        )
        .where(Account.username == name)
        .first()
        if name
        else None
    )
    if row is None:
        await passwords.dummy_verify(password)
        await append_event(SYSTEM, "account.login_failed", "account", "unknown", {})
        raise LoginFailed()
    account_id = int(row["id"])
    now = sessions.utcnow()
    if row["throttled_until"] is not None and sessions.aware(row["throttled_until"]) > now:
        remaining = sessions.aware(row["throttled_until"]) - now
        await append_event(
            SYSTEM,
            "account.login_failed",
            "account",
            account_id,
            {"account_id": account_id, "reason": "throttled"},
        )
        raise LoginThrottled(seconds=max(1, math.ceil(remaining.total_seconds())))

    password_ok = await passwords.verify_password(row["password_hash"], password)
    new_hash = None
    if password_ok and passwords.needs_rehash(row["password_hash"]):
        new_hash = await passwords.hash_password(password)

    token = sessions.new_token()
    failure: str | None = None
    session_id = 0
    # Inline (one step of the event loop on SQLite): a burst of sign-ins must not hold
    # the write lock across awaits that the tip box's traffic stretches.
    async with db.write_transaction(inline=True):
        query = Account.select(
            Account.failed_logins, Account.disabled, Account.totp_secret, Account.totp_last_step
        ).where(Account.id == account_id)
        if db.is_postgres():
            query = query.lock_rows("UPDATE")
        fresh = await query.first()
        assert fresh is not None
        step = None
        if not password_ok:
            failure = "password"
        elif fresh["disabled"]:
            failure = "disabled"
        elif fresh["totp_secret"] is not None:
            step = totp.matching_step(fresh["totp_secret"], totp_code, fresh["totp_last_step"])
            if step is None:
                failure = "totp"
        if failure is not None:
            await _record_failure(
                account_id, fresh["failed_logins"], failure, throttle_base_seconds, now
            )
        else:
            changes: dict[Any, Any] = {Account.failed_logins: 0, Account.throttled_until: None}
            if step is not None:
                changes[Account.totp_last_step] = step
            if new_hash is not None:
                changes[Account.password_hash] = new_hash
            await Account.update(changes).where(Account.id == account_id)
            if previous_token:
                previous = await sessions.find_open_session(previous_token)
                if previous is not None:
                    await sessions.end_session(previous, "replaced")
            rows = await AccountSession.insert(
                AccountSession(
                    token_hash=sessions.token_hash(token),
                    account=account_id,
                    created_at=now,
                    last_seen_at=now,
                )
            ).returning(AccountSession.id)
            session_id = int(rows[0]["id"])
            await append_event(
                Actor.account(account_id),
                "account.login",
                "account",
                account_id,
                {"session_id": session_id, "totp": step is not None},
            )
    if failure is not None:
        raise LoginFailed()
    key_secret = None
    if row["role"] == Role.officer.value:
        key_secret = await _unlock_officer_key(account_id, password, session_id)
    return LoginResult(token=token, account=await get_account(account_id), key_secret=key_secret)


async def _unlock_officer_key(account_id: int, password: str, session_id: int) -> str | None:
    """The ``tipline_key`` cookie value for this session, or None if the key does not open.

    The sign-in itself stands either way: without the cookie the officer is told, when
    opening a tip, to sign in again.
    """
    try:
        secret = await crypto.unlock_for_session(
            account_id, password, session_id, create_missing=True, kdf=officer_kdf()
        )
    except WrongKeyPassword:
        return None
    return crypto.encode_session_secret(secret)


async def logout(user: CurrentUser) -> None:
    async with db.write_transaction():
        await sessions.end_session(user.session_id, "logout")
        await append_event(
            Actor.account(user.account_id),
            "account.logout",
            "account",
            user.account_id,
            {"session_id": user.session_id},
        )


async def _pending_totp_secret(user: CurrentUser) -> str | None:
    """The secret waiting on ``user``'s session for confirmation, if any;
    :class:`TotpAlreadyEnrolled` once the account has one."""
    account = await Account.select(Account.totp_secret).where(Account.id == user.account_id).first()
    if account is None:
        raise AccountNotFound(id=user.account_id)
    if account["totp_secret"] is not None:
        raise TotpAlreadyEnrolled()
    row = (
        await AccountSession.select(AccountSession.totp_pending_secret)
        .where(AccountSession.id == user.session_id)
        .first()
    )
    secret: str | None = row["totp_pending_secret"] if row else None
    return secret


async def start_totp_enrolment(user: CurrentUser, issuer: str) -> TotpEnrolment:
    """The secret to show for enrolment, kept on the session row until confirmed.

    Reloading the page shows the same secret, so a code from an app that already
    scanned it still confirms.
    """
    secret = await _pending_totp_secret(user)
    if not secret:
        secret = totp.new_secret()
        async with db.write_transaction():
            await AccountSession.update({AccountSession.totp_pending_secret: secret}).where(
                AccountSession.id == user.session_id
            )
    return TotpEnrolment(secret=secret, uri=totp.provisioning_uri(secret, user.username, issuer))


async def confirm_totp_enrolment(user: CurrentUser, code: str) -> None:
    """Save the pending secret once the holder proves their app produces its codes."""
    async with db.write_transaction():
        secret = await _pending_totp_secret(user)
        step = totp.matching_step(secret, code, None) if secret else None
        if secret is None or step is None:
            raise TotpCodeInvalid()
        await Account.update({Account.totp_secret: secret, Account.totp_last_step: step}).where(
            Account.id == user.account_id
        )
        await AccountSession.update({AccountSession.totp_pending_secret: None}).where(
            AccountSession.id == user.session_id
        )
        await append_event(
            Actor.account(user.account_id), "account.totp_enrolled", "account", user.account_id
        )
