"""What the tip box reads and answers (JSON bodies under /api/v1, and service results)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Final, Literal, Self

import msgspec
from litestar.exceptions import ValidationException
from msgspec import Meta

from tipline.ledger.checkpoints import Receipt
from tipline.tipstatus import Status

MAX_CONTENT_CHARS: Final = 10_000
MAX_SHORT_CHARS: Final = 200
MAX_MESSAGE_CHARS: Final = 10_000

# What a tip is about (举报类别); the form shows them in this order.
CATEGORIES: Final = (
    "gang_crime",  # 涉黑涉恶违法犯罪
    "village_bully",  # 村霸
    "protective_umbrella",  # 保护伞: officials shielding gangs
    "election_interference",  # 干扰破坏基层换届选举
    "usury",  # 非法放贷、套路贷
    "market_bully",  # 欺行霸市、强揽工程
    "other",
)


class Channel(StrEnum):
    """How a tip came in (``Tip.channel``): the tip box, or an officer wrote it down
    (``tipline.hotline``)."""

    web = "web"
    phone = "phone"
    letter = "letter"
    visit = "visit"


# What a tipster is told about each status of a tip (plain words, not the workflow's).
TIPSTER_STATUS: Final[dict[str, str]] = {
    Status.received: "received",
    Status.registered: "received",
    Status.under_assessment: "under_review",
    Status.transferred: "transferred",
    Status.feedback_received: "feedback_received",
    Status.closed: "closed",
    Status.merged: "closed",
    Status.voided: "closed",
}

Short = Annotated[str, Meta(max_length=MAX_SHORT_CHARS)]
# An org unit id as the form reader accepts it (at most 12 digits).
UnitId = Annotated[int, Meta(ge=1, le=999_999_999_999)]


class IdentityBody(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The optional real-name section (实名举报), sealed apart from the rest."""

    name: Annotated[str, Meta(min_length=1, max_length=MAX_SHORT_CHARS)]
    contact: Annotated[str, Meta(min_length=1, max_length=MAX_SHORT_CHARS)]


class TipBody(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """``POST /api/v1/tips``: a tip as JSON (township and village are org unit ids)."""

    category: Annotated[str, Meta(min_length=1, max_length=32)]
    content: Annotated[str, Meta(min_length=1, max_length=MAX_CONTENT_CHARS)]
    township: UnitId | None = None
    village: UnitId | None = None
    occurred: Short | None = None
    who: Short | None = None
    identity: IdentityBody | None = None

    def tip(self) -> TipInput:
        return TipInput(**{name: getattr(self, name) for name in TipInput.__struct_fields__})


class TipReceipt(msgspec.Struct, frozen=True):
    """The answer to a submission: the receipt, shown once, and the ledger number."""

    receipt: str
    ledger_no: str
    removed: list[list[str]] = msgspec.field(default_factory=list)


class ReceiptBody(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    receipt: Annotated[str, Meta(min_length=1, max_length=100)]


class TipsterMessageBody(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    text: Annotated[str, Meta(min_length=1, max_length=MAX_MESSAGE_CHARS)]


class TipFields(msgspec.Struct, frozen=True):
    """The form fields as sealed in ``Tip.content`` (canonical JSON of this struct)."""

    category: str
    content: str
    township_id: int | None = None
    township: str | None = None
    village_id: int | None = None
    village: str | None = None
    occurred: str | None = None
    who: str | None = None


class TipInput(msgspec.Struct, frozen=True):
    """A tip as a controller hands it to :func:`services.submit_tip` (not yet checked)."""

    category: str
    content: str
    township: int | None = None
    village: int | None = None
    occurred: str | None = None
    who: str | None = None
    identity: IdentityBody | None = None


class SubmittedTip(msgspec.Struct, frozen=True):
    tip_id: int
    ledger_no: str
    receipt: str  # the digits; shown once, never stored
    removed: list[list[str]]


class AttachmentInfo(msgspec.Struct, frozen=True):
    uid: str
    media_type: str
    size: int
    removed: list[str]
    message_id: int | None


class MessageOut(msgspec.Struct, frozen=True):
    id: int
    author: Literal["tipster", "officer"]
    created_at: str
    text: str
    attachments: int = 0


class TipsterTipOut(msgspec.Struct, frozen=True):
    """``GET /api/v1/tipster/tip``: what a tipster signed in with the receipt sees."""

    ledger_no: str
    status: str
    received_at: str
    messages: list[MessageOut]
    # web, or phone/letter/visit: an officer wrote the tip down (tipline.hotline shows
    # the caller that transcript to confirm or correct).
    channel: str = Channel.web
    # The receipt anyone can check (issue 5): the tip.received event's number in the
    # custody ledger, the hash commitment to the sealed submission it records, and
    # its inclusion proof against the latest signed checkpoint (None until one holds it).
    event_seq: int | None = None
    sealed_sha256: str | None = None
    proof: Receipt | None = None


class TipContent(msgspec.Struct, frozen=True):
    """A tip opened with a recipient's private key (officers, escrow)."""

    tip_id: int
    ledger_no: str
    channel: str
    status: str
    received_at: str
    fields: TipFields
    has_identity: bool
    attachments: list[AttachmentInfo]
    messages: list[MessageOut]


class OpenedAttachment(msgspec.Struct, frozen=True):
    uid: str
    media_type: str
    size: int
    removed: list[str]
    data: bytes


class TownshipChoice(msgspec.Struct, frozen=True):
    id: int
    name: str
    villages: list[tuple[int, str]]


# The pages' forms. The tip form (and the mailbox's message form) is multipart, read in
# memory by tipline.intake.forms.read_form (never spooled to disk), then converted to
# its struct: every field text with a default, so a refused form is shown back as typed.


def _optional_id(value: str, field: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 12:
        # a field not of its kind, like a form struct's: the form again, beside the field
        raise ValidationException(
            extra=[{"key": field, "source": "body", "message": "expected an id"}]
        )
    return int(value)


class TipForm(msgspec.Struct, frozen=True):
    """The tip form's fields (the hotline's entry form has the same ones, and channel)."""

    category: str = ""
    content: str = ""
    township: str = ""
    village: str = ""
    occurred: str = ""
    who: str = ""
    name: str = ""
    contact: str = ""
    real_name: str = ""

    @classmethod
    def of(cls, fields: Mapping[str, str]) -> Self:
        return msgspec.convert(
            {name: fields[name] for name in cls.__struct_fields__ if name in fields}, cls
        )

    def tip(self) -> TipInput:
        identity = None
        if self.real_name or self.name.strip() or self.contact.strip():
            identity = IdentityBody(name=self.name, contact=self.contact)
        return TipInput(
            category=self.category,
            content=self.content,
            township=_optional_id(self.township, "township"),
            village=_optional_id(self.village, "village"),
            occurred=self.occurred or None,
            who=self.who or None,
            identity=identity,
        )


class ReceiptConfirmForm(msgspec.Struct, frozen=True):
    receipt: str = ""
    ledger_no: str = ""
    last_group: str = ""


class ReceiptLoginForm(msgspec.Struct, frozen=True):
    receipt: str = ""


class LogoutForm(msgspec.Struct, frozen=True):
    csrf: str = ""
