"""What the officer side shows: tip metadata for the list, a tip opened for a session."""

from __future__ import annotations

from typing import Annotated

import msgspec

from tipline.intake.schemas import MAX_MESSAGE_CHARS, MessageOut, TipFields


class CaseRow(msgspec.Struct, frozen=True):
    """One line of the tip ledger: metadata only, nothing decrypted."""

    ledger_no: str
    received_at: str
    channel: str
    status: str
    attachments: int


class CaseAttachment(msgspec.Struct, frozen=True):
    number: int
    uid: str
    media_type: str
    size: int
    removed: list[str]
    filename: str
    inline: bool


class CaseView(msgspec.Struct, frozen=True):
    """A tip opened with the officer's session key. The real-name section is not opened
    here: ``has_identity`` only says that one was sealed apart."""

    ledger_no: str
    channel: str
    status: str
    received_at: str
    fields: TipFields
    has_identity: bool
    attachments: list[CaseAttachment]
    messages: list[MessageOut]


class CaseFile(msgspec.Struct, frozen=True):
    filename: str
    media_type: str
    data: bytes
    inline: bool


class ReplyBody(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_MESSAGE_CHARS)]


class ReplySent(msgspec.Struct, frozen=True):
    message_id: int
