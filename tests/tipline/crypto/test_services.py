"""Officer keys, session unlock and recipients, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import pytest

from tipline.crypto import primitives, services
from tipline.crypto.exceptions import (
    DecryptionFailed,
    OfficerKeyChanged,
    OfficerKeyExists,
    OfficerKeyNotFound,
    SessionKeyUnavailable,
    WrongKeyPassword,
)
from tipline.crypto.primitives import KdfParams
from tipline.crypto.tables import EscrowKey, OfficerKey, SessionKey
from tipline.ledger.services import Actor, verify_chain
from tipline.ledger.tables import CustodyEvent
from tipline.settings import Settings

# Cheap parameters for tests; the stored parameters are what unwrapping uses.
FAST = KdfParams(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORD = "Quiet River Under Stone 42"
NEW_PASSWORD = "Another Long Pass Phrase 77"


async def _events(action: str) -> list[dict[str, Any]]:
    return list(
        await CustodyEvent.select().where(CustodyEvent.action == action).order_by(CustodyEvent.seq)
    )


def _forms(raw: bytes) -> list[bytes]:
    """The ways a key could be written into a column: raw, hex, base64, base64url."""
    return [
        raw,
        raw.hex().encode(),
        raw.hex().upper().encode(),
        base64.b64encode(raw).rstrip(b"="),
        base64.urlsafe_b64encode(raw).rstrip(b"="),
    ]


async def _dump(*tables: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for table in tables:
        rows += await table.raw(f"SELECT * FROM {table._meta.tablename}")
    return rows


def _dump_bytes(rows: list[dict[str, Any]]) -> bytes:
    return b"\n".join(str(value).encode() for row in rows for value in row.values())


def _candidate_keys(rows: list[dict[str, Any]]) -> list[bytes]:
    """Every 32 bytes an attacker with the dump could try as a key."""
    candidates = []
    for row in rows:
        for value in row.values():
            text = str(value)
            candidates.append(hashlib.sha256(text.encode()).digest())
            for decode in (bytes.fromhex, base64.b64decode):
                try:
                    raw = decode(text)
                except ValueError:
                    continue
                candidates += [raw[:32], raw[-32:], hashlib.sha256(raw).digest()]
    return [key for key in candidates if len(key) == 32]


async def test_officer_key_unwraps_with_the_right_password_only(tipline_db: Settings) -> None:
    fingerprint = await services.create_officer_key(101, PASSWORD, kdf=FAST)
    key = await services.unwrap_officer_key(101, PASSWORD)
    assert primitives.fingerprint(key) == fingerprint
    with pytest.raises(WrongKeyPassword):
        await services.unwrap_officer_key(101, "Quiet River Under Stone 43")
    with pytest.raises(OfficerKeyNotFound):
        await services.unwrap_officer_key(102, PASSWORD)
    with pytest.raises(OfficerKeyExists):
        await services.create_officer_key(101, PASSWORD, kdf=FAST)
    row = await OfficerKey.select().where(OfficerKey.account_id == 101).first()
    assert row["algorithm"] == "x25519"
    assert row["public_key"] == primitives.public_bytes(key).hex()
    assert (
        row["kdf_name"],
        row["kdf_time_cost"],
        row["kdf_memory_cost"],
        row["kdf_parallelism"],
    ) == (
        "argon2id",
        1,
        1024,
        1,
    )
    wrapped = primitives.b64decode(row["wrapped_private_key"])
    assert primitives.algorithm_of(wrapped) == "chacha20poly1305-v1"
    [event] = await _events("officer_key.created")
    assert event["object_type"] == "account" and event["object_id"] == "101"
    assert event["actor_id"] == "101"
    assert event["payload"] == f'{{"fingerprint":"{fingerprint}"}}'


async def test_default_parameters_are_at_least_rfc_9106_and_stored(tipline_db: Settings) -> None:
    """Without explicit parameters the key is wrapped with argon2id at RFC 9106 section 4's
    second recommended option or stronger (t >= 3, m >= 64 MiB), with a 128-bit salt."""
    await services.create_officer_key(103, PASSWORD)
    row = await OfficerKey.select().where(OfficerKey.account_id == 103).first()
    assert row["kdf_name"] == "argon2id"
    assert row["kdf_time_cost"] >= 3 and row["kdf_memory_cost"] >= 64 * 1024
    assert row["kdf_parallelism"] >= 1
    assert len(primitives.b64decode(row["kdf_salt"])) >= 16
    await services.unwrap_officer_key(103, PASSWORD)
    with pytest.raises(WrongKeyPassword):
        await services.unwrap_officer_key(103, PASSWORD + "!")


@pytest.mark.parametrize(
    "column", ["kdf_time_cost", "kdf_memory_cost", "kdf_parallelism", "kdf_salt"]
)
async def test_unwrapping_uses_the_parameters_stored_beside_the_key(
    tipline_db: Settings, column: str
) -> None:
    """The stored parameters are the ones unwrapping derives with: change any of them
    and the right password no longer opens the key."""
    await services.create_officer_key(104, PASSWORD, kdf=FAST)
    await services.unwrap_officer_key(104, PASSWORD)
    row = await OfficerKey.select().where(OfficerKey.account_id == 104).first()
    if column == "kdf_salt":
        changed: Any = primitives.b64encode(bytes(16))
    else:
        changed = row[column] * 2
    await OfficerKey.update({column: changed}).where(OfficerKey.account_id == 104)
    with pytest.raises(WrongKeyPassword):
        await services.unwrap_officer_key(104, PASSWORD)


async def test_a_wrapped_key_moved_to_another_account_does_not_open(tipline_db: Settings) -> None:
    await services.create_officer_key(101, PASSWORD, kdf=FAST)
    await services.create_officer_key(102, NEW_PASSWORD, kdf=FAST)
    stolen = await OfficerKey.select().where(OfficerKey.account_id == 101).first()
    columns = {k: v for k, v in stolen.items() if k not in ("id", "account_id")}
    await OfficerKey.update(columns).where(OfficerKey.account_id == 102)
    with pytest.raises(WrongKeyPassword):
        await services.unwrap_officer_key(102, PASSWORD)


async def test_rewrap_keeps_the_public_key_and_needs_the_old_password(tipline_db: Settings) -> None:
    fingerprint = await services.create_officer_key(101, PASSWORD, kdf=FAST)
    before = await OfficerKey.select().where(OfficerKey.account_id == 101).first()
    with pytest.raises(WrongKeyPassword):
        await services.rewrap_officer_key(101, "not the password at all", NEW_PASSWORD, kdf=FAST)
    assert await services.rewrap_officer_key(101, PASSWORD, NEW_PASSWORD, kdf=FAST) == fingerprint
    after = await OfficerKey.select().where(OfficerKey.account_id == 101).first()
    assert after["public_key"] == before["public_key"]
    assert after["kdf_salt"] != before["kdf_salt"]
    assert after["wrapped_private_key"] != before["wrapped_private_key"]
    assert after["rewrapped_at"] is not None
    key = await services.unwrap_officer_key(101, NEW_PASSWORD)
    assert primitives.fingerprint(key) == fingerprint
    with pytest.raises(WrongKeyPassword):
        await services.unwrap_officer_key(101, PASSWORD)
    [event] = await _events("officer_key.rewrapped")
    assert fingerprint in event["payload"]


async def test_prepared_key_commits_with_the_callers_transaction(tipline_db: Settings) -> None:
    """A password change and the re-wrap commit together or not at all."""
    from tipline import db

    await services.create_officer_key(101, PASSWORD, kdf=FAST)
    prepared = await services.prepare_rewrap(101, PASSWORD, NEW_PASSWORD, kdf=FAST)
    with pytest.raises(RuntimeError):
        async with db.write_transaction():
            await services.save_prepared_key(prepared)
            raise RuntimeError("the password update failed")
    await services.unwrap_officer_key(101, PASSWORD)
    assert await _events("officer_key.rewrapped") == []
    await services.save_prepared_key(prepared)
    await services.unwrap_officer_key(101, NEW_PASSWORD)
    # A second save of the same re-wrap finds the key changed under it.
    with pytest.raises(OfficerKeyChanged):
        await services.save_prepared_key(prepared)


async def test_replace_makes_a_new_pair_and_forgets_unlocked_copies(tipline_db: Settings) -> None:
    old = await services.create_officer_key(101, PASSWORD, kdf=FAST)
    secret = await services.unlock_for_session(101, PASSWORD, session_id=7)
    admin = Actor.account(1)
    new = await services.replace_officer_key(101, NEW_PASSWORD, actor=admin, kdf=FAST)
    assert new != old
    assert primitives.fingerprint(await services.unwrap_officer_key(101, NEW_PASSWORD)) == new
    with pytest.raises(SessionKeyUnavailable):
        await services.session_private_key(7, secret)
    [event] = await _events("officer_key.replaced")
    assert event["actor_id"] == "1" and event["object_id"] == "101" and new in event["payload"]
    assert (await verify_chain()).ok


async def test_session_unlock_opens_with_the_right_secret_only(tipline_db: Settings) -> None:
    fingerprint = await services.create_officer_key(101, PASSWORD, kdf=FAST)
    with pytest.raises(WrongKeyPassword):
        await services.unlock_for_session(101, "wrong password entirely", session_id=7)
    secret = await services.unlock_for_session(101, PASSWORD, session_id=7)
    assert len(secret) == 32
    key = await services.session_private_key(7, secret)
    assert primitives.fingerprint(key) == fingerprint
    cookie = services.encode_session_secret(secret)
    assert "=" not in cookie and services.decode_session_secret(cookie) == secret
    with pytest.raises(SessionKeyUnavailable):
        await services.session_private_key(7, bytes(32))
    with pytest.raises(SessionKeyUnavailable):
        await services.session_private_key(8, secret)
    with pytest.raises(SessionKeyUnavailable):
        services.decode_session_secret("not-a-secret")
    # A second session has its own secret; one secret does not open the other.
    other = await services.unlock_for_session(101, PASSWORD, session_id=8)
    with pytest.raises(SessionKeyUnavailable):
        await services.session_private_key(8, secret)
    assert primitives.fingerprint(await services.session_private_key(8, other)) == fingerprint
    await services.forget_session_key(7)
    with pytest.raises(SessionKeyUnavailable):
        await services.session_private_key(7, secret)
    await services.session_private_key(8, other)
    await services.forget_account_session_keys(101)
    with pytest.raises(SessionKeyUnavailable):
        await services.session_private_key(8, other)
    assert await SessionKey.count() == 0


async def test_a_session_row_moved_to_another_session_does_not_open(tipline_db: Settings) -> None:
    await services.create_officer_key(101, PASSWORD, kdf=FAST)
    secret = await services.unlock_for_session(101, PASSWORD, session_id=7)
    await SessionKey.update({SessionKey.session_id: 9}).where(SessionKey.session_id == 7)
    with pytest.raises(SessionKeyUnavailable):
        await services.session_private_key(9, secret)


async def test_unlock_can_create_a_missing_key_and_old_session_keys_are_swept(
    tipline_db: Settings,
) -> None:
    with pytest.raises(OfficerKeyNotFound):
        await services.unlock_for_session(101, PASSWORD, session_id=7)
    secret = await services.unlock_for_session(
        101, PASSWORD, session_id=7, create_missing=True, kdf=FAST
    )
    assert await services.has_officer_key(101)
    assert len(await _events("officer_key.created")) == 1
    await services.session_private_key(7, secret)
    assert await services.forget_session_keys_older_than(dt.timedelta(hours=1)) == 0
    await SessionKey.update(
        {SessionKey.created_at: dt.datetime.now(dt.UTC) - dt.timedelta(hours=13)}
    ).where(SessionKey.session_id == 7)
    assert await services.forget_session_keys_older_than(dt.timedelta(hours=12)) == 1
    with pytest.raises(SessionKeyUnavailable):
        await services.session_private_key(7, secret)


async def test_a_database_dump_cannot_open_the_keys(
    tipline_db: Settings, settings: Settings
) -> None:
    """Everything in the crypto tables (and the whole SQLite file) holds no key in clear,
    and nothing in it opens the password-wrapped or the session-wrapped key."""
    await services.create_officer_key(101, PASSWORD, kdf=FAST)
    secret = await services.unlock_for_session(101, PASSWORD, session_id=7)
    private = primitives.private_bytes(await services.session_private_key(7, secret))

    rows = await _dump(OfficerKey, SessionKey, EscrowKey, CustodyEvent)
    dump = _dump_bytes(rows)
    for form in [*_forms(private), *_forms(secret)]:
        assert form not in dump
    if settings.is_sqlite:
        files = b"".join(p.read_bytes() for p in Path(settings.data_dir).rglob("*") if p.is_file())
        for form in [*_forms(private), *_forms(secret)]:
            assert form not in files

    officer = next(row for row in rows if "kdf_salt" in row)
    session = next(row for row in rows if "session_id" in row)
    officer_blob = primitives.b64decode(officer["wrapped_private_key"])
    session_blob = primitives.b64decode(session["wrapped_private_key"])
    binding_officer = services._officer_binding(101, officer["public_key"])
    binding_session = services._session_binding(101, 7)
    candidates = _candidate_keys(rows)
    assert len(candidates) > 20
    for candidate in candidates:
        for blob, binding in [(officer_blob, binding_officer), (session_blob, binding_session)]:
            with pytest.raises(DecryptionFailed):
                primitives.unwrap_private_key(blob, candidate, binding=binding)
    # Without the password, guessing is all that is left; each guess costs a full argon2id.
    with pytest.raises(WrongKeyPassword):
        await services.unwrap_officer_key(101, "")


async def test_recipients_and_tip_box_open(tipline_db: Settings, tmp_path: Path) -> None:
    assert not await services.tip_box_open()
    assert await services.active_recipients() == []
    escrow = await services.init_escrow_key(tmp_path / "escrow.pem")
    assert not await services.tip_box_open()
    await services.create_officer_key(101, PASSWORD, kdf=FAST)
    await services.create_officer_key(102, PASSWORD, kdf=FAST)
    assert await services.tip_box_open()
    recipients = await services.active_recipients()
    assert [(r.kind, r.id) for r in recipients][:2] == [("officer", 101), ("officer", 102)]
    assert recipients[-1].kind == "escrow" and recipients[-1].fingerprint == escrow.fingerprint
    assert [r.id for r in await services.active_recipients([102])][:1] == [102]
    assert [r.kind for r in await services.active_recipients([])] == ["escrow"]

    data_key = primitives.new_data_key()
    sealed = services.seal_to_recipients(data_key, recipients, tip_id=5, purpose="content")
    escrow_private = primitives.private_key_from_pem((tmp_path / "escrow.pem").read_bytes())
    officer = await services.unwrap_officer_key(102, PASSWORD)
    by_kind = {(r.kind, r.id): s for r, s in sealed}
    assert (
        primitives.open_data_key(
            by_kind[("escrow", recipients[-1].id)], escrow_private, tip_id=5, purpose="content"
        )
        == data_key
    )
    assert (
        primitives.open_data_key(by_kind[("officer", 102)], officer, tip_id=5, purpose="content")
        == data_key
    )
    status = await services.key_status()
    assert status.officer_keys == 2 and status.tip_box_open and not status.escrow_is_demo
