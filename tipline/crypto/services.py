"""Officer keys, their unlocking for a session, the escrow key, and who a tip is sealed to.

Why it is built this way (docs/ARCHITECTURE.md principle 1, and
《中华人民共和国数据安全法》 Art. 27, 《个人信息保护法》 Art. 51: protect data with
encryption and access control): a
designated officer's private key exists in clear only in memory, for a request of
a session that the officer unlocked with their password. Every tip is also sealed
to an offline escrow key, so no tip is lost when an officer leaves or forgets a
password (保密纪律: nothing lost, nothing withheld).

Slow work (argon2id, ~0.1 s and 64 MiB) runs before the write transaction; each
``prepare_*`` function does it and ``save_prepared_key`` writes the result with its
custody event, so callers can put the write inside their own transaction (a password
change and the re-wrap of the key commit together).

This package imports no domain package: accounts and sessions are named by id.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import os
import secrets
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import msgspec
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from tipline import db
from tipline.crypto import primitives
from tipline.crypto.exceptions import (
    DecryptionFailed,
    EscrowKeyExists,
    KeyFileExists,
    OfficerKeyChanged,
    OfficerKeyExists,
    OfficerKeyNotFound,
    SessionKeyUnavailable,
    WrongKeyPassword,
)
from tipline.crypto.primitives import KdfParams, SealedKey
from tipline.crypto.schemas import EscrowInit, KeyStatus, Recipient
from tipline.crypto.tables import EscrowKey, OfficerKey, SessionKey
from tipline.ledger.services import SYSTEM, Actor, append_event

KEY_COOKIE_NAME = "tipline_key"
DEMO_ESCROW_FILE = "demo-escrow-key.pem"
SESSION_SECRET_BYTES = 32

_OFFICER_BINDING = b"tipline/officer-key\x00"
_SESSION_BINDING = b"tipline/session-key\x00"

KeyAction = Literal["officer_key.created", "officer_key.rewrapped", "officer_key.replaced"]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- officer keys -------------------------------------------------------------------------


class PreparedKey(msgspec.Struct, frozen=True):
    """An officer key wrapped and ready to store; made by a ``prepare_*`` function."""

    action: KeyAction
    account_id: int
    public_key: str
    fingerprint: str
    wrapped_private_key: str
    kdf_salt: str
    kdf: KdfParams
    previous_wrapped: str | None = None


def _officer_binding(account_id: int, public_key_hex: str) -> bytes:
    return _OFFICER_BINDING + primitives.canonical(
        {"account": account_id, "public_key": public_key_hex}
    )


async def _wrap_for_password(
    action: KeyAction,
    account_id: int,
    key: X25519PrivateKey,
    password: str,
    kdf: KdfParams | None,
    previous_wrapped: str | None = None,
) -> PreparedKey:
    params = kdf or primitives.DEFAULT_KDF
    salt = primitives.new_salt()
    kek = await primitives.derive_kek(password, salt, params)
    public_hex = primitives.public_bytes(key).hex()
    wrapped = primitives.wrap_private_key(
        key, kek, binding=_officer_binding(account_id, public_hex)
    )
    return PreparedKey(
        action=action,
        account_id=account_id,
        public_key=public_hex,
        fingerprint=primitives.fingerprint(key),
        wrapped_private_key=primitives.b64encode(wrapped),
        kdf_salt=primitives.b64encode(salt),
        kdf=params,
        previous_wrapped=previous_wrapped,
    )


async def _officer_row(account_id: int) -> dict[str, Any]:
    row = await OfficerKey.select().where(OfficerKey.account_id == account_id).first()
    if row is None:
        raise OfficerKeyNotFound(account_id=account_id)
    return row


def _stored_kdf(row: dict[str, Any]) -> KdfParams:
    return KdfParams(
        time_cost=row["kdf_time_cost"],
        memory_cost=row["kdf_memory_cost"],
        parallelism=row["kdf_parallelism"],
        name=row["kdf_name"],
    )


async def _unwrap_row(row: dict[str, Any], password: str) -> X25519PrivateKey:
    """The private key of an ``officer_key`` row, with the KDF parameters stored in it."""
    kek = await primitives.derive_kek(
        password, primitives.b64decode(row["kdf_salt"]), _stored_kdf(row)
    )
    try:
        return primitives.unwrap_private_key(
            primitives.b64decode(row["wrapped_private_key"]),
            kek,
            binding=_officer_binding(row["account_id"], row["public_key"]),
            public_key=bytes.fromhex(row["public_key"]),
        )
    except DecryptionFailed:
        raise WrongKeyPassword() from None


async def prepare_officer_key(
    account_id: int, password: str, *, kdf: KdfParams | None = None
) -> PreparedKey:
    """A new key pair for an officer, wrapped under ``password`` (not stored yet)."""
    return await _wrap_for_password(
        "officer_key.created", account_id, primitives.new_key_pair(), password, kdf
    )


async def prepare_rewrap(
    account_id: int, old_password: str, new_password: str, *, kdf: KdfParams | None = None
) -> PreparedKey:
    """The same key pair wrapped under ``new_password``; :class:`WrongKeyPassword` if the
    old one does not unwrap it."""
    row = await _officer_row(account_id)
    key = await _unwrap_row(row, old_password)
    return await _wrap_for_password(
        "officer_key.rewrapped",
        account_id,
        key,
        new_password,
        kdf,
        previous_wrapped=row["wrapped_private_key"],
    )


async def prepare_replacement(
    account_id: int, new_password: str, *, kdf: KdfParams | None = None
) -> PreparedKey:
    """A new key pair replacing a key whose password is lost (see ``replace_officer_key``)."""
    return await _wrap_for_password(
        "officer_key.replaced", account_id, primitives.new_key_pair(), new_password, kdf
    )


def _row_values(prepared: PreparedKey) -> dict[Any, Any]:
    return {
        OfficerKey.algorithm: primitives.KEY_ALGORITHM,
        OfficerKey.public_key: prepared.public_key,
        OfficerKey.fingerprint: prepared.fingerprint,
        OfficerKey.wrapped_private_key: prepared.wrapped_private_key,
        OfficerKey.kdf_name: prepared.kdf.name,
        OfficerKey.kdf_salt: prepared.kdf_salt,
        OfficerKey.kdf_time_cost: prepared.kdf.time_cost,
        OfficerKey.kdf_memory_cost: prepared.kdf.memory_cost,
        OfficerKey.kdf_parallelism: prepared.kdf.parallelism,
    }


def _new_row(prepared: PreparedKey) -> OfficerKey:
    return OfficerKey(
        _data={
            **_row_values(prepared),
            OfficerKey.account_id: prepared.account_id,
            OfficerKey.created_at: _now(),
        }
    )


async def save_prepared_key(prepared: PreparedKey, *, actor: Actor | None = None) -> str:
    """Store a prepared key with its custody event; returns the key's fingerprint.

    Joins the caller's write transaction if there is one. ``actor`` defaults to the
    officer themself (an administrator's reset passes the administrator).
    """
    who = actor or Actor.account(prepared.account_id)
    action: str = prepared.action
    async with db.write_transaction():
        if prepared.action == "officer_key.created":
            rows = (
                await OfficerKey.insert(_new_row(prepared))
                .on_conflict(action="DO NOTHING")
                .returning(OfficerKey.id)
            )
            if not rows:
                raise OfficerKeyExists(account_id=prepared.account_id)
        elif prepared.action == "officer_key.rewrapped":
            changed = (
                await OfficerKey.update({**_row_values(prepared), OfficerKey.rewrapped_at: _now()})
                .where(
                    (OfficerKey.account_id == prepared.account_id)
                    & (OfficerKey.wrapped_private_key == prepared.previous_wrapped)
                )
                .returning(OfficerKey.id)
            )
            if not changed:
                raise OfficerKeyChanged(account_id=prepared.account_id)
        else:
            changed = (
                await OfficerKey.update(
                    {
                        **_row_values(prepared),
                        OfficerKey.created_at: _now(),
                        OfficerKey.rewrapped_at: None,
                    }
                )
                .where(OfficerKey.account_id == prepared.account_id)
                .returning(OfficerKey.id)
            )
            if not changed:
                action = "officer_key.created"
                await OfficerKey.insert(_new_row(prepared))
            # Unlocked copies of the old key are useless now, and must not outlive it.
            await SessionKey.delete().where(SessionKey.account_id == prepared.account_id)
        await append_event(
            who, action, "account", prepared.account_id, {"fingerprint": prepared.fingerprint}
        )
    return prepared.fingerprint


async def create_officer_key(
    account_id: int,
    password: str,
    *,
    actor: Actor | None = None,
    kdf: KdfParams | None = None,
) -> str:
    """Give a designated officer a key pair; returns its fingerprint.

    :class:`OfficerKeyExists` if the account already has one.
    """
    if await OfficerKey.exists().where(OfficerKey.account_id == account_id):
        raise OfficerKeyExists(account_id=account_id)
    prepared = await prepare_officer_key(account_id, password, kdf=kdf)
    return await save_prepared_key(prepared, actor=actor)


async def unwrap_officer_key(account_id: int, password: str) -> X25519PrivateKey:
    """The officer's private key (in memory only); :class:`WrongKeyPassword` otherwise."""
    return await _unwrap_row(await _officer_row(account_id), password)


async def rewrap_officer_key(
    account_id: int,
    old_password: str,
    new_password: str,
    *,
    actor: Actor | None = None,
    kdf: KdfParams | None = None,
) -> str:
    """Re-wrap the same key pair under a new password (the officer changes it).

    The public key stays, so every tip sealed to the officer still opens. Sessions
    already unlocked keep working: their copy is wrapped under their own secret.
    """
    prepared = await prepare_rewrap(account_id, old_password, new_password, kdf=kdf)
    return await save_prepared_key(prepared, actor=actor)


async def replace_officer_key(
    account_id: int,
    new_password: str,
    *,
    actor: Actor | None = None,
    kdf: KdfParams | None = None,
) -> str:
    """Make a new key pair after an administrator reset the officer's password.

    The old private key was wrapped under the forgotten password and cannot be
    recovered; tips sealed to the old key stay readable through the escrow key and
    the other designated officers, and the case-handling issue re-seals them to the
    new key. Every unlocked session copy of the old key is deleted.
    """
    prepared = await prepare_replacement(account_id, new_password, kdf=kdf)
    return await save_prepared_key(prepared, actor=actor)


async def has_officer_key(account_id: int) -> bool:
    return bool(await OfficerKey.exists().where(OfficerKey.account_id == account_id))


async def officer_fingerprint(account_id: int) -> str:
    return str((await _officer_row(account_id))["fingerprint"])


# --- session unlock -----------------------------------------------------------------------


def _session_binding(account_id: int, session_id: int) -> bytes:
    return _SESSION_BINDING + primitives.canonical({"account": account_id, "session": session_id})


def encode_session_secret(secret: bytes) -> str:
    """The ``tipline_key`` cookie value: base64url without padding."""
    return base64.urlsafe_b64encode(secret).rstrip(b"=").decode("ascii")


def decode_session_secret(value: str) -> bytes:
    """The secret from a cookie value; :class:`SessionKeyUnavailable` if malformed."""
    if not 0 < len(value) <= 64:
        raise SessionKeyUnavailable()
    try:
        secret = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise SessionKeyUnavailable() from None
    if len(secret) != SESSION_SECRET_BYTES:
        raise SessionKeyUnavailable()
    return secret


async def unlock_for_session(
    account_id: int,
    password: str,
    session_id: int,
    *,
    create_missing: bool = False,
    kdf: KdfParams | None = None,
) -> bytes:
    """Unlock the officer's key for one session and return the secret for its cookie.

    The private key is stored for the session wrapped under a fresh random secret
    (AAD: account and session id) that only the returned value, put in the
    ``tipline_key`` cookie, can open: any worker process can use it, a database dump
    with the server's files cannot. With ``create_missing`` an officer without a key
    gets one first (their first sign-in).
    """
    try:
        row = await _officer_row(account_id)
    except OfficerKeyNotFound:
        if not create_missing:
            raise
        key = primitives.new_key_pair()
        prepared = await _wrap_for_password("officer_key.created", account_id, key, password, kdf)
        await save_prepared_key(prepared)
    else:
        key = await _unwrap_row(row, password)
    secret = secrets.token_bytes(SESSION_SECRET_BYTES)
    wrapped = primitives.wrap_private_key(
        key, secret, binding=_session_binding(account_id, session_id)
    )
    async with db.write_transaction(inline=True):  # at sign-in: see accounts.login
        await SessionKey.delete().where(SessionKey.session_id == session_id)
        await SessionKey.insert(
            SessionKey(
                session_id=session_id,
                account_id=account_id,
                wrapped_private_key=primitives.b64encode(wrapped),
                created_at=_now(),
            )
        )
    return secret


async def session_private_key(session_id: int, secret: bytes) -> X25519PrivateKey:
    """The officer's private key for this session; :class:`SessionKeyUnavailable` when the
    session has none (not unlocked, ended, key replaced) or the secret is wrong."""
    if len(secret) != SESSION_SECRET_BYTES:
        raise SessionKeyUnavailable()
    row = await SessionKey.select().where(SessionKey.session_id == session_id).first()
    if row is None:
        raise SessionKeyUnavailable()
    try:
        return primitives.unwrap_private_key(
            primitives.b64decode(row["wrapped_private_key"]),
            secret,
            binding=_session_binding(row["account_id"], session_id),
        )
    except DecryptionFailed:
        raise SessionKeyUnavailable() from None


async def forget_session_key(session_id: int) -> None:
    """Delete a session's unlocked key (logout, expiry): ephemeral material, not a record."""
    await SessionKey.delete().where(SessionKey.session_id == session_id)


async def forget_account_session_keys(
    account_id: int, *, keep_session_id: int | None = None
) -> None:
    """Delete every session's unlocked key of an account (disabled, password reset)."""
    query = SessionKey.delete().where(SessionKey.account_id == account_id)
    if keep_session_id is not None:
        query = query.where(SessionKey.session_id != keep_session_id)
    await query


async def forget_session_keys_older_than(age: dt.timedelta) -> int:
    """A sweep for keys whose session outlived ``session_max_hours`` without a logout."""
    rows = (
        await SessionKey.delete()
        .where(SessionKey.created_at < _now() - age)
        .returning(SessionKey.id)
    )
    return len(rows)


# --- escrow -------------------------------------------------------------------------------


_ACTIVE_ESCROW_SQL = "SELECT * FROM escrow_key WHERE replaced_at IS NULL ORDER BY id DESC LIMIT 1"
_OFFICER_KEYS_SQL = (
    "SELECT account_id, public_key, fingerprint FROM officer_key ORDER BY account_id"
)


async def active_escrow_key() -> dict[str, Any] | None:
    """The escrow key new tips are sealed to (a plain statement: asked for every tip)."""
    rows = await db.fetch(EscrowKey, _ACTIVE_ESCROW_SQL)
    return dict(rows[0]) if rows else None


def write_private_key_file(path: Path, key: X25519PrivateKey) -> None:
    """Write the PEM once: mode 0600, never over an existing file."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileExists(path=str(path)) from None
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(primitives.private_key_pem(key))
        handle.flush()
        os.fsync(handle.fileno())


async def init_escrow_key(
    path: Path,
    *,
    demo: bool = False,
    replace: bool = False,
    actor: Actor = SYSTEM,
    via: str | None = None,
) -> EscrowInit:
    """Make the escrow key pair: the private key goes to ``path`` once, the database
    keeps only the public key.

    Refuses (:class:`EscrowKeyExists`) when an escrow key exists, unless ``replace``;
    tips sealed before a replacement still need the old private key.
    """
    current = await active_escrow_key()
    if current is not None and not replace:
        raise EscrowKeyExists()
    if path.exists():
        raise KeyFileExists(path=str(path))
    key = primitives.new_key_pair()
    public = primitives.public_bytes(key)
    print_fingerprint = primitives.fingerprint(public)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private_key_file(path, key)
    replaced: str | None = None
    try:
        async with db.write_transaction():
            current = await active_escrow_key()
            if current is not None and not replace:
                raise EscrowKeyExists()
            if current is not None:
                replaced = current["fingerprint"]
                await EscrowKey.update({EscrowKey.replaced_at: _now()}).where(
                    EscrowKey.replaced_at.is_null()
                )
            rows = await EscrowKey.insert(
                EscrowKey(
                    algorithm=primitives.KEY_ALGORITHM,
                    public_key=public.hex(),
                    fingerprint=print_fingerprint,
                    is_demo=demo,
                    created_at=_now(),
                )
            ).returning(EscrowKey.id)
            payload: dict[str, Any] = {"fingerprint": print_fingerprint, "demo": demo}
            if replaced is not None:
                payload["replaced_fingerprint"] = replaced
            if via is not None:
                payload["via"] = via
            await append_event(
                actor,
                "escrow_key.replaced" if replaced is not None else "escrow_key.created",
                "escrow_key",
                int(rows[0]["id"]),
                payload,
            )
    except BaseException:
        # Without its public key in the database the file is useless and confusing.
        path.unlink(missing_ok=True)
        raise
    return EscrowInit(
        fingerprint=print_fingerprint,
        path=str(path),
        is_demo=demo,
        replaced_fingerprint=replaced,
    )


# --- recipients ---------------------------------------------------------------------------


async def active_recipients(account_ids: Iterable[int] | None = None) -> list[Recipient]:
    """Who a new tip is sealed to: every officer key (or those of ``account_ids``),
    then the escrow key. Empty of an escrow entry if there is no escrow key (see
    :func:`tip_box_open`)."""
    if account_ids is None:
        rows = await db.fetch(OfficerKey, _OFFICER_KEYS_SQL)
    else:
        wanted = list(account_ids)
        rows = await (
            OfficerKey.select(OfficerKey.account_id, OfficerKey.public_key, OfficerKey.fingerprint)
            .where(OfficerKey.account_id.is_in(wanted or [-1]))
            .order_by(OfficerKey.account_id)
        )
    recipients = [
        Recipient(
            kind="officer",
            id=int(row["account_id"]),
            public_key=bytes.fromhex(row["public_key"]),
            fingerprint=row["fingerprint"],
        )
        for row in rows
    ]
    escrow = await active_escrow_key()
    if escrow is not None:
        recipients.append(
            Recipient(
                kind="escrow",
                id=int(escrow["id"]),
                public_key=bytes.fromhex(escrow["public_key"]),
                fingerprint=escrow["fingerprint"],
            )
        )
    return recipients


def seal_to_recipients(
    data_key: bytes, recipients: Sequence[Recipient], *, tip_id: int | str, purpose: str
) -> list[tuple[Recipient, SealedKey]]:
    """One sealed copy of ``data_key`` per recipient, bound to the tip and purpose."""
    return [
        (
            recipient,
            primitives.seal_data_key(data_key, recipient.key(), tip_id=tip_id, purpose=purpose),
        )
        for recipient in recipients
    ]


async def tip_box_open() -> bool:
    """The tip box accepts tips only once they can be sealed to an escrow key and to at
    least one designated officer."""
    if await active_escrow_key() is None:
        return False
    return bool(await OfficerKey.exists())


async def key_status() -> KeyStatus:
    escrow = await active_escrow_key()
    officers = await OfficerKey.count()
    return KeyStatus(
        escrow_fingerprint=None if escrow is None else escrow["fingerprint"],
        escrow_is_demo=bool(escrow and escrow["is_demo"]),
        officer_keys=int(officers),
        tip_box_open=escrow is not None and officers > 0,
    )
