"""Reading tips as a designated officer, and replying to the tipster.

Rules and where they come from:

- Only designated officers read tips, and only with their own key, unlocked for the
  session they signed in to (DESIGN principle 1; 《个人信息保护法》 Art. 51, 《数据安全法》
  Art. 27: access control and encryption). The list shows metadata only.
- Every opening of a tip, every download of an attachment and every reply is an event
  in the chain of custody, written in the same transaction as what it records
  (保密纪律: a leak or a private copy must leave a trace; DESIGN principle 4).
- The real-name section (实名举报) is sealed with its own key and is not opened here:
  reading a tip must not reveal who sent it. Opening it needs two people (next issue).
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from piccolo.query.functions.aggregate import Count

from tipline import db
from tipline.auth import CurrentUser
from tipline.cases.exceptions import CaseNotFound, KeyLocked, NotARecipient
from tipline.cases.schemas import CaseAttachment, CaseFile, CaseRow, CaseView
from tipline.crypto import services as crypto
from tipline.crypto.exceptions import SessionKeyUnavailable
from tipline.crypto.primitives import content_context, decrypt_content
from tipline.intake import exceptions as intake_errors
from tipline.intake import services as intake
from tipline.intake.schemas import TipFields
from tipline.intake.tables import Tip, TipAttachment
from tipline.ledger.services import Actor, append_event

LEDGER_NO = re.compile(r"^\d{4}-\d{6}$")
UID = re.compile(r"^[0-9a-f]{1,32}$")

# The allow-list of attachment types (tipline.intake.attachments) and their file endings.
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "application/pdf": "pdf",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "video/mp4": "mp4",
}
# Shown in the page itself (CSP img-src 'self'); everything else is only downloaded.
INLINE_TYPES = frozenset({"image/jpeg", "image/png"})


async def session_key(user: CurrentUser, cookie: str | None) -> X25519PrivateKey:
    """The officer's private key for this session, from the ``tipline_key`` cookie.

    :class:`KeyLocked` when the cookie is missing or does not open the session's key
    (another browser, a session that ended, a key replaced by a password reset).
    """
    if not cookie:
        raise KeyLocked()
    try:
        return await crypto.session_private_key(
            user.session_id, crypto.decode_session_secret(cookie)
        )
    except SessionKeyUnavailable:
        raise KeyLocked() from None


async def list_cases() -> list[CaseRow]:
    """Every tip by ledger number, newest first: metadata only, nothing is decrypted."""
    counts = {
        row["tip"]: int(row["count"])
        for row in await TipAttachment.select(TipAttachment.tip, Count()).group_by(
            TipAttachment.tip
        )
    }
    rows = await Tip.select(
        Tip.id, Tip.ledger_no, Tip.received_at, Tip.channel, Tip.status
    ).order_by(Tip.ledger_year, Tip.ledger_seq, ascending=False)
    return [
        CaseRow(
            ledger_no=row["ledger_no"],
            received_at=intake.hour_text(row["received_at"]),
            channel=row["channel"],
            status=row["status"],
            attachments=counts.get(row["id"], 0),
        )
        for row in rows
    ]


async def _tip(ledger_no: str) -> dict[str, Any]:
    if not LEDGER_NO.fullmatch(ledger_no):
        raise CaseNotFound()
    row = await Tip.select().where(Tip.ledger_no == ledger_no).first()
    if row is None:
        raise CaseNotFound()
    return row


async def _content_key(tip_id: int, user: CurrentUser, key: X25519PrivateKey) -> bytes:
    try:
        return await intake.tip_data_key(tip_id, key, "officer", user.account_id)
    except intake_errors.NotARecipient:
        raise NotARecipient() from None


async def _attachments(tip_id: int, ledger_no: str) -> list[CaseAttachment]:
    rows = (
        await TipAttachment.select(
            TipAttachment.uid, TipAttachment.media_type, TipAttachment.size, TipAttachment.removed
        )
        .where(TipAttachment.tip == tip_id)
        .order_by(TipAttachment.id)
    )
    return [
        CaseAttachment(
            number=number,
            uid=row["uid"],
            media_type=row["media_type"],
            size=row["size"],
            removed=json.loads(row["removed"] or "[]"),
            filename=f"{ledger_no}-{number}.{EXTENSIONS.get(row['media_type'], 'bin')}",
            inline=row["media_type"] in INLINE_TYPES,
        )
        for number, row in enumerate(rows, start=1)
    ]


async def open_case(user: CurrentUser, key: X25519PrivateKey, ledger_no: str) -> CaseView:
    """The tip decrypted for this officer (form fields, attachments list, conversation),
    recorded as ``tip.viewed``; the real-name section stays sealed."""
    tip = await _tip(ledger_no)
    tip_id = int(tip["id"])
    data_key = await _content_key(tip_id, user, key)
    view = CaseView(
        ledger_no=tip["ledger_no"],
        channel=tip["channel"],
        status=tip["status"],
        received_at=intake.hour_text(tip["received_at"]),
        fields=msgspec.json.decode(
            decrypt_content(
                data_key, bytes(tip["content"]), context=content_context(tip_id, "content")
            ),
            type=TipFields,
        ),
        has_identity=bool(tip["has_identity"]),
        attachments=await _attachments(tip_id, tip["ledger_no"]),
        messages=await intake.open_messages(tip_id, data_key),
    )
    async with db.write_transaction():
        await append_event(
            Actor.account(user.account_id),
            "tip.viewed",
            "tip",
            tip_id,
            {"ledger_no": tip["ledger_no"]},
        )
    return view


async def open_attachment(
    user: CurrentUser, key: X25519PrivateKey, ledger_no: str, uid: str, *, inline: bool = False
) -> CaseFile:
    """One attachment decrypted in memory, named ``<ledger no>-<n>.<ext>``, recorded as
    ``tip.attachment_downloaded``. Only JPEG and PNG images may be shown inline."""
    tip = await _tip(ledger_no)
    tip_id = int(tip["id"])
    attachment = next(
        (item for item in await _attachments(tip_id, tip["ledger_no"]) if item.uid == uid),
        None,
    )
    if attachment is None or not UID.fullmatch(uid):
        raise CaseNotFound()
    await _content_key(tip_id, user, key)
    try:
        opened = await intake.open_attachment(tip_id, uid, key, "officer", user.account_id)
    except intake_errors.NotARecipient:
        raise NotARecipient() from None
    show_inline = inline and attachment.inline
    async with db.write_transaction():
        await append_event(
            Actor.account(user.account_id),
            "tip.attachment_downloaded",
            "tip",
            tip_id,
            {"ledger_no": tip["ledger_no"], "attachment": attachment.number, "inline": show_inline},
        )
    return CaseFile(
        filename=attachment.filename,
        media_type=attachment.media_type,
        data=opened.data,
        inline=show_inline,
    )


async def reply(user: CurrentUser, key: X25519PrivateKey, ledger_no: str, text: str) -> int:
    """Send the tipster a message, sealed with the tip's content key (so the tipster, the
    designated officers and the escrow key can read it); recorded as ``tip.message_sent``
    in the same transaction. Returns the message id."""
    tip = await _tip(ledger_no)
    tip_id = int(tip["id"])
    await _content_key(tip_id, user, key)
    async with db.write_transaction():
        message_id = await intake.add_officer_message(tip_id, user.account_id, text, key)
        await append_event(
            Actor.account(user.account_id),
            "tip.message_sent",
            "tip",
            tip_id,
            {"ledger_no": tip["ledger_no"], "message_id": message_id},
        )
    return message_id
