"""Receiving tips, the tipster's mailbox, and opening a tip for its recipients.

The rules behind it:

* Every tip is registered the moment it arrives (线索管理“件件有登记”;
  中国共产党纪律检查机关监督执纪工作规则 Art. 23): the sealed tip, its gap-free ledger
  number and its ``tip.received`` custody event commit in one transaction, so there is
  no tip without a number and an event and no number without a tip.
* A tipster is protected (《刑事诉讼法》 Art. 111, 《监察法》 Art. 35 and 《中华人民共和国
  数据安全法》 Art. 27): what they wrote is sealed to the designated officers and the
  escrow key only; their real name, if they give it, is sealed with another key that
  the tipster's own key never opens; the receipt is stored only as a keyed hash; and
  times of tipster actions are kept to the hour.

Slow or large work (cleaning attachments) runs before the write transaction; inside it
only the ledger number, encryption of the text, HPKE sealing and the inserts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from typing import Any, Final

import msgspec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tipline import custody_hooks, db, faults, tipstatus
from tipline.crypto import primitives
from tipline.crypto.exceptions import DecryptionFailed
from tipline.crypto.primitives import content_context, decrypt_content, encrypt_content
from tipline.crypto.schemas import Recipient
from tipline.crypto.services import active_recipients, seal_to_recipients, tip_box_open
from tipline.filecleaning import AttachmentLimits, CleanedAttachment, clean_attachment
from tipline.intake import receipts
from tipline.intake.exceptions import (
    InvalidTip,
    NotARecipient,
    TipBoxClosed,
    TipNotFound,
    TipsterSessionEnded,
    WrongReceipt,
)
from tipline.intake.forms import UploadedFile
from tipline.intake.schemas import (
    CATEGORIES,
    MAX_CONTENT_CHARS,
    MAX_MESSAGE_CHARS,
    MAX_SHORT_CHARS,
    TIPSTER_STATUS,
    AttachmentInfo,
    Channel,
    IdentityBody,
    MessageOut,
    OpenedAttachment,
    SubmittedTip,
    TipContent,
    TipFields,
    TipInput,
    TipsterTipOut,
    TownshipChoice,
)
from tipline.intake.tables import (
    Tip,
    TipAttachment,
    TipCounter,
    TipKey,
    TipMessage,
    TipsterSession,
)
from tipline.ledger.checkpoints import receipt_for_event
from tipline.ledger.services import TIPSTER, Actor, append_event, events_for
from tipline.orgunits.tables import TOWNSHIP_KINDS, VILLAGE_KINDS, OrgUnit
from tipline.settings import Settings

# The calendar year of a ledger number is China's (UTC+8, no daylight saving).
CHINA: Final = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
FORMAT_VERSION: Final = 1
TIPSTER_SESSION_HOURS: Final = 2
_SESSION_WRAP_INFO: Final = b"tipline tipster session v1"
_SESSION_BINDING: Final = b"tipline/tipster-session\x00"


def new_uid() -> str:
    """16 random hex digits naming a message or attachment; short enough that its
    context purpose (``attachment:<uid>``) fits the crypto library's 32-character token."""
    return secrets.token_hex(8)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def to_the_hour(moment: dt.datetime) -> dt.datetime:
    """Tipster action times are kept to the hour, so they cannot be matched to the
    second against a network operator's records."""
    return moment.replace(minute=0, second=0, microsecond=0)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def hour_text(moment: dt.datetime) -> str:
    """The hour in China time: ``2026-11-29 14:00``."""
    return _aware(moment).astimezone(CHINA).strftime("%Y-%m-%d %H:00")


def _canonical(value: Any) -> bytes:
    return json.dumps(
        msgspec.to_builtins(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def _clean_text(value: str | None, limit: int, field: str, *, required: bool = False) -> str | None:
    text = (value or "").replace("\r\n", "\n").strip()
    if not text:
        if required:
            raise InvalidTip(f"intake.error.required.{field}", field=field)
        return None
    if len(text) > limit:
        raise InvalidTip(f"intake.error.too_long.{field}", limit=limit, field=field)
    return text


# --- places -------------------------------------------------------------------------------


async def place_choices() -> list[TownshipChoice]:
    """Townships with their villages, for the form's pick lists."""
    rows = await OrgUnit.select(OrgUnit.id, OrgUnit.name, OrgUnit.kind, OrgUnit.parent).order_by(
        OrgUnit.code
    )
    villages: dict[int, list[tuple[int, str]]] = {}
    for row in rows:
        if row["kind"] in VILLAGE_KINDS and row["parent"] is not None:
            villages.setdefault(row["parent"], []).append((row["id"], row["name"]))
    return [
        TownshipChoice(id=row["id"], name=row["name"], villages=villages.get(row["id"], []))
        for row in rows
        if row["kind"] in TOWNSHIP_KINDS
    ]


async def tip_box_is_open() -> bool:
    """Whether tips can be sealed: an escrow key and at least one officer key exist."""
    return await tip_box_open()


async def new_tip_form() -> list[TownshipChoice]:
    """The pick lists of the form; :class:`TipBoxClosed` while the box is not open."""
    if not await tip_box_open():
        raise TipBoxClosed()
    return await place_choices()


def receipt_confirmed(digits: str, typed_group: str) -> bool:
    """Whether the tipster typed the receipt's last group back correctly."""
    typed = receipts.normalize_group(typed_group)
    return hmac.compare_digest(digits[-receipts.GROUP :], typed)


async def _place(
    township_id: int | None, village_id: int | None
) -> tuple[int | None, str | None, int | None, str | None]:
    """The township and village named, checked: a village must lie in the township."""
    ids = [unit for unit in (township_id, village_id) if unit is not None]
    if not ids:
        return None, None, None, None
    rows = {
        row["id"]: row
        for row in await OrgUnit.select(
            OrgUnit.id, OrgUnit.name, OrgUnit.kind, OrgUnit.parent
        ).where(OrgUnit.id.is_in(ids))
    }
    village = rows.get(village_id) if village_id is not None else None
    if village_id is not None and (village is None or village["kind"] not in VILLAGE_KINDS):
        raise InvalidTip("intake.error.unknown_village", field="village")
    if township_id is None and village is not None:
        township_id = village["parent"]
        parent = await OrgUnit.select(OrgUnit.id, OrgUnit.name, OrgUnit.kind).where(
            OrgUnit.id == township_id
        )
        rows.update({row["id"]: row for row in parent})
    township = rows.get(township_id) if township_id is not None else None
    if township is None or township["kind"] not in TOWNSHIP_KINDS:
        raise InvalidTip("intake.error.unknown_township", field="township")
    if village is not None and village["parent"] != township["id"]:
        raise InvalidTip("intake.error.village_outside_township", field="village")
    return (
        township["id"],
        township["name"],
        None if village is None else village["id"],
        None if village is None else village["name"],
    )


async def check_tip(data: TipInput) -> tuple[TipFields, IdentityBody | None]:
    """The fields as they will be sealed, or :class:`InvalidTip` naming what is wrong."""
    if data.category not in CATEGORIES:
        raise InvalidTip("intake.error.unknown_category", field="category")
    content = _clean_text(data.content, MAX_CONTENT_CHARS, "content", required=True)
    township_id, township, village_id, village = await _place(data.township, data.village)
    identity = None
    if data.identity is not None:
        name = _clean_text(data.identity.name, MAX_SHORT_CHARS, "name", required=True)
        contact = _clean_text(data.identity.contact, MAX_SHORT_CHARS, "contact", required=True)
        identity = IdentityBody(name=name or "", contact=contact or "")
    fields = TipFields(
        category=data.category,
        content=content or "",
        township_id=township_id,
        township=township,
        village_id=village_id,
        village=village,
        occurred=_clean_text(data.occurred, MAX_SHORT_CHARS, "occurred"),
        who=_clean_text(data.who, MAX_SHORT_CHARS, "who"),
    )
    return fields, identity


# --- attachments --------------------------------------------------------------------------


async def clean_files(files: Sequence[UploadedFile], settings: Settings) -> list[CleanedAttachment]:
    """Each file cleaned of its metadata (in a worker thread: Pillow and pikepdf block).

    Refusals (wrong type, too large, a bomb) are the attachments package's 4xx errors.
    """
    if not files:
        return []
    limits = AttachmentLimits.from_settings(settings)
    return [
        await asyncio.to_thread(clean_attachment, upload.data, upload.declared_name, limits)
        for upload in files
    ]


def _attachment_rows(
    tip_id: int,
    data_key: bytes,
    cleaned: Sequence[CleanedAttachment],
    created_at: dt.datetime,
    message_id: int | None,
) -> list[TipAttachment]:
    rows = []
    for item in cleaned:
        uid = new_uid()
        rows.append(
            TipAttachment(
                tip=tip_id,
                message=message_id,
                uid=uid,
                media_type=item.media_type,
                size=item.size,
                removed=json.dumps(list(item.removed)),
                body=encrypt_content(
                    data_key, item.data, context=content_context(tip_id, f"attachment:{uid}")
                ),
                created_at=created_at,
            )
        )
    return rows


# --- submission ---------------------------------------------------------------------------


_NEXT_SEQ_SQL: Final = (
    "INSERT INTO tip_counter (year, last_seq) VALUES ({}, 1) "
    "ON CONFLICT (year) DO UPDATE SET last_seq = tip_counter.last_seq + 1 "
    "RETURNING last_seq"
)


async def _next_ledger_number(year: int) -> int:
    """The next number of ``year``: the counter row is created or bumped in the caller's
    transaction (a row lock on PostgreSQL, the write lock on SQLite), so a rolled-back
    submission gives its number back and numbers have no gaps. One statement (an
    upsert), since it runs while the lock is held."""
    rows = await db.fetch(TipCounter, _NEXT_SEQ_SQL, year)
    return int(rows[0]["last_seq"])


_NEXT_TIP_ID_SQL: Final = {
    "postgres": "SELECT nextval(pg_get_serial_sequence('tip', 'id')) AS id",
    "sqlite": "SELECT coalesce(max(id), 0) + 1 AS id FROM tip",
}


async def _next_tip_id() -> int:
    """The new tip's id, read first in its transaction so the sealing can be bound to it
    before any lock is taken: PostgreSQL's sequence, or on SQLite (whose transaction
    holds the write lock from the start) the id it would give the next row."""
    sql = _NEXT_TIP_ID_SQL["postgres" if db.is_postgres() else "sqlite"]
    rows = await db.fetch(Tip, sql)
    return int(rows[0]["id"])


_TIP_COLUMNS: Final = (
    "id",
    "ledger_no",
    "ledger_year",
    "ledger_seq",
    "channel",
    "status",
    "received_at",
    "receipt_mac",
    "tipster_public_key",
    "content",
    "has_identity",
    "identity",
    "format_version",
)
_TIP_KEY_COLUMNS: Final = (
    "tip",
    "purpose",
    "recipient_kind",
    "recipient_id",
    "fingerprint",
    "sealed",
)


def tip_key_rows(
    tip_id: int,
    purpose: str,
    data_key: bytes,
    recipients: Sequence[Recipient],
    tipster_public: bytes | None,
) -> list[tuple[Any, ...]]:
    """``TipKey`` rows (values of :data:`_TIP_KEY_COLUMNS`): ``data_key`` sealed to each
    recipient and, for the content key, to the tipster."""
    rows: list[tuple[Any, ...]] = [
        (
            tip_id,
            purpose,
            recipient.kind,
            str(recipient.id),
            recipient.fingerprint,
            sealed.to_bytes(),
        )
        for recipient, sealed in seal_to_recipients(
            data_key, recipients, tip_id=tip_id, purpose=purpose
        )
    ]
    if tipster_public is not None:
        sealed = primitives.seal_data_key(
            data_key,
            primitives.public_key_from_bytes(tipster_public),
            tip_id=tip_id,
            purpose=purpose,
        )
        rows.append(
            (
                tip_id,
                purpose,
                "tipster",
                None,
                primitives.fingerprint(tipster_public),
                sealed.to_bytes(),
            )
        )
    return rows


async def _recipients_of_open_box() -> list[Recipient]:
    """Who the tip is sealed to, or :class:`TipBoxClosed` without an escrow key or an
    officer key (nobody who may read it could open it)."""
    recipients = await active_recipients()
    kinds = {recipient.kind for recipient in recipients}
    if "escrow" not in kinds or "officer" not in kinds:
        raise TipBoxClosed()
    return recipients


async def store_tip_keys(rows: Sequence[tuple[Any, ...]]) -> None:
    """Store rows made by :func:`tip_key_rows` in the current transaction."""
    await db.insert_values(TipKey, _TIP_KEY_COLUMNS, rows)


async def submit_tip(
    settings: Settings,
    data: TipInput,
    files: Sequence[UploadedFile] = (),
    *,
    channel: str = Channel.web,
    actor: Actor = TIPSTER,
) -> SubmittedTip:
    """Store a sealed tip with its ledger number and ``tip.received`` event; return its
    receipt (shown once to the tipster, never stored).

    ``actor`` signs the ``tip.received`` event: the anonymous tipster for the tip box,
    the officer who entered it for a phone, letter or visit tip (监督执纪工作规则 Art. 23:
    each hand-off is signed by the person who handled it).

    :class:`TipBoxClosed` while there is no escrow key or no officer key, since the tip
    could not be sealed to anyone who may read it.
    """
    fields, identity = await check_tip(data)
    if files:
        await _recipients_of_open_box()  # before the costly cleaning
    cleaned = await clean_files(files, settings)

    digits = receipts.new_receipt()
    mac = receipts.receipt_mac(receipts.receipt_key(settings), digits)
    tipster_public = primitives.public_bytes(receipts.tipster_private_key(digits))
    content_key = primitives.new_data_key()
    identity_key = primitives.new_data_key() if identity is not None else None
    now = _now()
    received_at = to_the_hour(now)
    year = now.astimezone(CHINA).year
    plain = _canonical(fields)

    def seal(
        tip_id: int, recipients: Sequence[Recipient]
    ) -> tuple[bytes, bytes | None, list[tuple[Any, ...]]]:
        content = encrypt_content(content_key, plain, context=content_context(tip_id, "content"))
        sealed_identity = None
        if identity is not None and identity_key is not None:
            sealed_identity = encrypt_content(
                identity_key, _canonical(identity), context=content_context(tip_id, "identity")
            )
        keys = tip_key_rows(tip_id, "content", content_key, recipients, tipster_public)
        if identity_key is not None:
            keys += tip_key_rows(tip_id, "identity", identity_key, recipients, None)
        return content, sealed_identity, keys

    async def store() -> tuple[int, str]:
        # One transaction on the engine's hot path (inline on SQLite, the writer thread on
        # PostgreSQL, where the statements need no pooled connection of their own):
        # other requests' CPU work cannot stretch the time the ledger's locks are
        # held. The reads and the sealing come before the first lock (the ledger
        # number's row on PostgreSQL).

        async def write() -> tuple[int, str]:
            tip_id = await _next_tip_id()
            recipients = await _recipients_of_open_box()
            content, sealed_identity, keys = seal(tip_id, recipients)
            seq = await _next_ledger_number(year)
            ledger_no = f"{year}-{seq:06d}"
            await db.insert_values(
                Tip,
                _TIP_COLUMNS,
                [
                    (
                        tip_id,
                        ledger_no,
                        year,
                        seq,
                        channel,
                        tipstatus.Status.received,
                        received_at,
                        mac,
                        tipster_public.hex(),
                        content,
                        identity is not None,
                        sealed_identity,
                        FORMAT_VERSION,
                    )
                ],
            )
            await store_tip_keys(keys)
            attachments = _attachment_rows(tip_id, content_key, cleaned, received_at, None)
            if attachments:
                await TipAttachment.insert(*attachments)
            commitment = hashlib.sha256(content)
            for part in [sealed_identity or b"", *(row.body for row in attachments)]:
                commitment.update(hashlib.sha256(part).digest())
            await append_event(
                actor,
                "tip.received",
                "tip",
                tip_id,
                {
                    "ledger_no": ledger_no,
                    "channel": channel,
                    "sealed_sha256": commitment.hexdigest(),
                    "attachments": len(attachments),
                    "recipients": [r.fingerprint for r in recipients],
                },
            )
            # Due dates counted from receipt (tipline.duedates) commit with the tip.
            await custody_hooks.announce_received(tip_id, ledger_no, received_at, actor)
            return tip_id, ledger_no

        return await db.run_write_transaction(write)

    if faults.enabled(faults.ACK_BEFORE_COMMIT):  # the crash test's negative control only
        faults.later(store(), faults.ACK_BEFORE_COMMIT_DELAY_SECONDS)
        tip_id, ledger_no = 0, faults.PENDING_LEDGER_NO
    else:
        tip_id, ledger_no = await store()
    return SubmittedTip(
        tip_id=tip_id,
        ledger_no=ledger_no,
        receipt=digits,
        removed=[list(item.removed) for item in cleaned],
    )


# --- the tipster's session ----------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _session_wrapping_key(token: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SESSION_WRAP_INFO).derive(
        token.encode("utf-8")
    )


def _session_binding(tip_id: int, token_hash: str) -> bytes:
    return _SESSION_BINDING + primitives.canonical({"session": token_hash, "tip": str(tip_id)})


async def open_tipster_session(settings: Settings, receipt_text: str) -> str:
    """Sign in with a receipt; returns the token for the ``tipster`` cookie.

    A wrong receipt, a mistyped one and one that never existed all do the same work
    (normalising, the HMAC, the HKDF key derivation, one indexed lookup) and raise the
    same :class:`WrongReceipt`, so neither the answer nor its time tells them apart.
    """
    digits = receipts.normalize_receipt(receipt_text)
    mac = receipts.receipt_mac(receipts.receipt_key(settings), digits)
    private_key = receipts.tipster_private_key(digits)
    public_hex = primitives.public_bytes(private_key).hex()
    row = (
        await Tip.select(Tip.id, Tip.receipt_mac, Tip.tipster_public_key)
        .where(Tip.receipt_mac == mac)
        .first()
    )
    stored_mac = row["receipt_mac"] if row else "0" * 64
    stored_public = row["tipster_public_key"] if row else "0" * 64
    mac_ok = hmac.compare_digest(stored_mac, mac)
    key_ok = hmac.compare_digest(stored_public, public_hex)
    if row is None or not (mac_ok and key_ok):
        raise WrongReceipt()
    tip_id = int(row["id"])
    token = secrets.token_urlsafe(32)
    token_hash = _token_hash(token)
    wrapped = primitives.wrap_private_key(
        private_key, _session_wrapping_key(token), binding=_session_binding(tip_id, token_hash)
    )
    now = _now()
    async with db.write_transaction():
        await TipsterSession.delete().where(TipsterSession.expires_at < now)
        await TipsterSession.insert(
            TipsterSession(
                token_hash=token_hash,
                tip=tip_id,
                wrapped_key=wrapped,
                # From the hour, so the expiry does not give the sign-in time away.
                expires_at=to_the_hour(now) + dt.timedelta(hours=TIPSTER_SESSION_HOURS),
            )
        )
    return token


async def close_tipster_session(token: str | None) -> None:
    """Sign out: the session's wrapped key is deleted (ephemeral, not a record)."""
    if token:
        await TipsterSession.delete().where(TipsterSession.token_hash == _token_hash(token))


class TipsterAccess(msgspec.Struct, frozen=True):
    tip_id: int
    private_key: Any  # X25519PrivateKey


async def tipster_access(token: str | None) -> TipsterAccess:
    """The tip and the tipster's private key for a ``tipster`` cookie, or
    :class:`TipsterSessionEnded`."""
    if not token or len(token) > 100:
        raise TipsterSessionEnded()
    token_hash = _token_hash(token)
    row = (
        await TipsterSession.select()
        .where((TipsterSession.token_hash == token_hash) & (TipsterSession.expires_at > _now()))
        .first()
    )
    if row is None:
        raise TipsterSessionEnded()
    try:
        key = primitives.unwrap_private_key(
            bytes(row["wrapped_key"]),
            _session_wrapping_key(token),
            binding=_session_binding(int(row["tip"]), token_hash),
        )
    except DecryptionFailed:
        raise TipsterSessionEnded() from None
    return TipsterAccess(tip_id=int(row["tip"]), private_key=key)


def tipster_csrf_token(settings: Settings, token: str) -> str:
    """The form token of a tipster session: a keyed hash of its cookie token.

    The tipster pages set no CSRF cookie (no cookie at all before a receipt login);
    a signed-in tipster's forms carry this value, which a cross-site page cannot know.
    """
    key = receipts.receipt_key(settings)
    return hmac.new(key, b"tipster-csrf\x00" + token.encode(), hashlib.sha256).hexdigest()


def check_tipster_csrf(settings: Settings, token: str | None, submitted: str) -> None:
    if not token or not hmac.compare_digest(tipster_csrf_token(settings, token), submitted or ""):
        raise TipsterSessionEnded()


# --- opening a tip ------------------------------------------------------------------------


async def tip_data_key(
    tip_id: int,
    private_key: X25519PrivateKey,
    recipient_kind: str = "officer",
    recipient_id: int | str | None = None,
    purpose: str = "content",
) -> bytes:
    """The tip's data key of ``purpose`` opened with ``private_key``.

    :class:`NotARecipient` when no sealed copy for this recipient opens (an officer
    designated after the tip arrived, a wrong key, or the tipster asking for the
    identity key, which is never sealed to them).
    """
    query = TipKey.select(TipKey.sealed).where(
        (TipKey.tip == tip_id)
        & (TipKey.purpose == purpose)
        & (TipKey.recipient_kind == recipient_kind)
    )
    if recipient_id is not None:
        query = query.where(TipKey.recipient_id == str(recipient_id))
    for row in await query:
        try:
            return primitives.open_data_key(
                bytes(row["sealed"]), private_key, tip_id=tip_id, purpose=purpose
            )
        except DecryptionFailed:
            continue
    raise NotARecipient()


async def _tip_row(tip_id: int) -> dict[str, Any]:
    row = await Tip.select().where(Tip.id == tip_id).first()
    if row is None:
        raise TipNotFound()
    return row


async def open_messages(tip_id: int, data_key: bytes) -> list[MessageOut]:
    """The conversation of a tip, decrypted with its content data key, oldest first."""
    rows = await TipMessage.select().where(TipMessage.tip == tip_id).order_by(TipMessage.id)
    counts: dict[int, int] = {}
    for attachment in await TipAttachment.select(TipAttachment.message).where(
        (TipAttachment.tip == tip_id) & TipAttachment.message.is_not_null()
    ):
        counts[attachment["message"]] = counts.get(attachment["message"], 0) + 1
    return [
        MessageOut(
            id=row["id"],
            author=row["author"],
            created_at=hour_text(row["created_at"]),
            text=decrypt_content(
                data_key,
                bytes(row["body"]),
                context=content_context(tip_id, f"message:{row['uid']}"),
            ).decode("utf-8"),
            attachments=counts.get(row["id"], 0),
        )
        for row in rows
    ]


async def _attachment_list(tip_id: int) -> list[AttachmentInfo]:
    rows = (
        await TipAttachment.select(
            TipAttachment.uid,
            TipAttachment.media_type,
            TipAttachment.size,
            TipAttachment.removed,
            TipAttachment.message,
        )
        .where(TipAttachment.tip == tip_id)
        .order_by(TipAttachment.id)
    )
    return [
        AttachmentInfo(
            uid=row["uid"],
            media_type=row["media_type"],
            size=row["size"],
            removed=json.loads(row["removed"] or "[]"),
            message_id=row["message"],
        )
        for row in rows
    ]


async def open_tip_content(
    tip_id: int,
    private_key: X25519PrivateKey,
    recipient_kind: str = "officer",
    recipient_id: int | str | None = None,
) -> TipContent:
    """The tip decrypted for one recipient (an officer or the escrow key), without the
    real-name section: reading a tip must not reveal who sent it (see ``open_tip_identity``).

    Writes nothing: the caller (the officer side) appends ``tip.viewed`` itself.
    """
    row = await _tip_row(tip_id)
    data_key = await tip_data_key(tip_id, private_key, recipient_kind, recipient_id)
    fields = msgspec.json.decode(
        decrypt_content(
            data_key, bytes(row["content"]), context=content_context(tip_id, "content")
        ),
        type=TipFields,
    )
    return TipContent(
        tip_id=tip_id,
        ledger_no=row["ledger_no"],
        channel=row["channel"],
        status=row["status"],
        received_at=hour_text(row["received_at"]),
        fields=fields,
        has_identity=bool(row["has_identity"]),
        attachments=await _attachment_list(tip_id),
        messages=await open_messages(tip_id, data_key),
    )


async def open_tip_identity(
    tip_id: int,
    private_key: X25519PrivateKey,
    recipient_kind: str = "officer",
    recipient_id: int | str | None = None,
) -> IdentityBody | None:
    """The real-name section (name, contact), sealed under its own data key.

    Only for the rule that guards it: the person accused must never learn who reported
    them, so the case-handling side opens it with a stated reason and a second
    designated officer's approval, and records that it did. ``None`` for anonymous tips.
    """
    row = await _tip_row(tip_id)
    if not row["has_identity"] or row["identity"] is None:
        return None
    identity_key = await tip_data_key(
        tip_id, private_key, recipient_kind, recipient_id, purpose="identity"
    )
    return msgspec.json.decode(
        decrypt_content(
            identity_key, bytes(row["identity"]), context=content_context(tip_id, "identity")
        ),
        type=IdentityBody,
    )


async def open_attachment(
    tip_id: int,
    uid: str,
    private_key: X25519PrivateKey,
    recipient_kind: str = "officer",
    recipient_id: int | str | None = None,
) -> OpenedAttachment:
    """One attachment's cleaned bytes, decrypted in memory (never written to disk)."""
    row = (
        await TipAttachment.select()
        .where((TipAttachment.tip == tip_id) & (TipAttachment.uid == uid))
        .first()
    )
    if row is None:
        raise TipNotFound()
    data_key = await tip_data_key(tip_id, private_key, recipient_kind, recipient_id)
    data = decrypt_content(
        data_key, bytes(row["body"]), context=content_context(tip_id, f"attachment:{uid}")
    )
    return OpenedAttachment(
        uid=uid,
        media_type=row["media_type"],
        size=row["size"],
        removed=json.loads(row["removed"] or "[]"),
        data=data,
    )


async def _insert_message(
    tip_id: int,
    data_key: bytes,
    author: str,
    account_id: int | None,
    text: str,
    created_at: dt.datetime,
) -> tuple[int, str, bytes]:
    uid = new_uid()
    body = encrypt_content(
        data_key, text.encode("utf-8"), context=content_context(tip_id, f"message:{uid}")
    )
    rows = await TipMessage.insert(
        TipMessage(
            tip=tip_id,
            author=author,
            author_account_id=account_id,
            created_at=created_at,
            body=body,
            uid=uid,
        )
    ).returning(TipMessage.id)
    return int(rows[0]["id"]), uid, body


async def add_officer_message(
    tip_id: int, account_id: int, text: str, private_key: X25519PrivateKey
) -> int:
    """Store an officer's reply, sealed with the tip's content key (so the tipster, the
    officers and the escrow key can read it); returns the message id.

    The caller appends ``tip.message_sent`` in the same transaction: wrap both in
    ``db.write_transaction()`` (this joins it).
    """
    checked = _clean_text(text, MAX_MESSAGE_CHARS, "text", required=True) or ""
    await _tip_row(tip_id)
    data_key = await tip_data_key(tip_id, private_key, "officer", account_id)
    async with db.write_transaction():
        message_id, _, _ = await _insert_message(
            tip_id, data_key, "officer", account_id, checked, _now()
        )
    return message_id


# --- what the tipster sees and adds -------------------------------------------------------


async def tipster_view(token: str | None) -> TipsterTipOut:
    """The status in plain words and every message, for a signed-in tipster."""
    access = await tipster_access(token)
    row = await _tip_row(access.tip_id)
    data_key = await tip_data_key(access.tip_id, access.private_key, "tipster")
    event = await received_event(access.tip_id)
    return TipsterTipOut(
        ledger_no=row["ledger_no"],
        status=TIPSTER_STATUS.get(row["status"], "received"),
        received_at=hour_text(row["received_at"]),
        messages=await open_messages(access.tip_id, data_key),
        channel=row["channel"],
        event_seq=event["seq"] if event else None,
        sealed_sha256=msgspec.json.decode(event["payload"]).get("sealed_sha256") if event else None,
        proof=await receipt_for_event(event["seq"]) if event else None,
    )


async def received_event(tip_id: int) -> dict[str, Any] | None:
    """The tip's ``tip.received`` custody event (its seq and payload)."""
    events = await events_for("tip", tip_id)
    return next((event for event in events if event["action"] == "tip.received"), None)


async def add_tipster_message(
    settings: Settings,
    token: str | None,
    text: str,
    files: Sequence[UploadedFile] = (),
    *,
    event: str = "tip.tipster_message_added",
) -> list[list[str]]:
    """Add information (text and files) to the tip; returns what was removed from each
    file. Recorded as ``event`` (``tip.tipster_message_added``, or
    ``tip.transcript_corrected`` for a caller's correction of the officer's transcript)
    with no content in the event."""
    access = await tipster_access(token)
    checked = _clean_text(text, MAX_MESSAGE_CHARS, "text", required=not files) or ""
    cleaned = await clean_files(files, settings)
    data_key = await tip_data_key(access.tip_id, access.private_key, "tipster")
    created_at = to_the_hour(_now())
    async with db.write_transaction():
        row = await _tip_row(access.tip_id)
        message_id, uid, body = await _insert_message(
            access.tip_id, data_key, "tipster", None, checked, created_at
        )
        attachments = _attachment_rows(access.tip_id, data_key, cleaned, created_at, message_id)
        if attachments:
            await TipAttachment.insert(*attachments)
        commitment = hashlib.sha256(body)
        for part in attachments:
            commitment.update(hashlib.sha256(part.body).digest())
        await append_event(
            TIPSTER,
            event,
            "tip",
            access.tip_id,
            {
                "ledger_no": row["ledger_no"],
                "message": uid,
                "attachments": len(attachments),
                "sealed_sha256": commitment.hexdigest(),
            },
        )
    return [list(item.removed) for item in cleaned]
