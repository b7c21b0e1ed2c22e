"""What the hotline reads and answers (JSON bodies under /api/v1, and service results)."""

from __future__ import annotations

from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta

from tipline.intake.schemas import MAX_CONTENT_CHARS, Channel, TipBody, TipFields, TipForm

# The channels an officer enters (Tip.channel); "web" is the tip box's own (refused
# here as tipline.hotline.exceptions.UnknownChannel).
CHANNELS: Final = tuple(channel for channel in Channel if channel is not Channel.web)
TranscriptStatus = Literal["awaiting", "confirmed", "corrected"]


class HotlineTipBody(TipBody, frozen=True, kw_only=True):
    """``POST /api/v1/cases/intake``: a tip an officer took by phone, letter or visit.

    The tip box's :class:`~tipline.intake.schemas.TipBody` with its ``channel``:
    ``content`` is the officer's transcript of what the caller, writer or visitor said;
    township and village are org unit ids; ``identity`` is the optional real-name
    section, sealed apart from the rest.
    """

    channel: Channel


class HotlineForm(TipForm, frozen=True):
    """The entry form: the tip form's fields and the channel (multipart, read in memory
    by ``tipline.intake.forms.read_form``)."""

    channel: str = ""


class TranscriptForm(msgspec.Struct, frozen=True):
    """The tipster's confirm and correct forms in the mailbox (``csrf`` from the
    ``tipster`` cookie)."""

    csrf: str = ""
    text: str = ""


class HotlineReceipt(msgspec.Struct, frozen=True):
    """The answer to an officer's entry: the receipt (read it out once, never store it),
    the ledger number and what was removed from each scanned file."""

    ledger_no: str
    channel: str
    receipt: str
    removed: list[list[str]] = msgspec.field(default_factory=list)


class Correction(msgspec.Struct, frozen=True):
    """One correction the tipster sent (its message in the tip's conversation)."""

    message_id: int
    at: str


class TranscriptState(msgspec.Struct, frozen=True):
    """Whether the tipster has agreed the officer's transcript (EU 2019/1937 Art. 18).

    ``status`` follows the tipster's latest action: ``awaiting`` (none yet),
    ``confirmed`` or ``corrected`` (a correction after the last confirmation).
    """

    ledger_no: str
    channel: str
    status: TranscriptStatus
    # The entering officer's name, for the officer side only (None for the tipster).
    entered_by: str | None = None
    confirmed_at: str | None = None
    corrections: list[Correction] = msgspec.field(default_factory=list)

    @property
    def correction_ids(self) -> list[int]:
        return [item.message_id for item in self.corrections]


class CorrectionText(msgspec.Struct, frozen=True):
    at: str
    text: str


class TranscriptView(msgspec.Struct, frozen=True):
    """``GET /api/v1/tipster/transcript``: the officer's transcript as the tipster sees it."""

    ledger_no: str
    channel: str
    received_at: str
    fields: TipFields
    state: TranscriptState
    corrections: list[CorrectionText] = msgspec.field(default_factory=list)


class CorrectionBody(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """``POST /api/v1/tipster/transcript/corrections``: what is wrong or missing."""

    text: Annotated[str, Meta(min_length=1, max_length=MAX_CONTENT_CHARS)]
