"""What the authority registry and the transfers take in and give out."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import msgspec

from tipline.authorities.exceptions import FormInvalid


class AuthorityKind(StrEnum):
    """The kinds of competent authority (有管辖权的部门) a tip goes to."""

    public_security = "public_security"  # 公安机关
    discipline_supervision = "discipline_supervision"  # 纪委监委
    procuratorate = "procuratorate"  # 检察院
    court = "court"  # 法院
    market_regulation = "market_regulation"  # 市场监督管理
    natural_resources = "natural_resources"  # 自然资源
    other = "other"


class TransferMethod(StrEnum):
    """How the transfer package reaches the authority."""

    hand_delivery = "hand_delivery"  # 专人送达
    confidential_post = "confidential_post"  # 机要邮寄
    secure_network = "secure_network"  # 电子政务内网 / 涉密网络
    other = "other"


class FeedbackOutcome(StrEnum):
    """What the authority did with the tip, as its feedback (反馈) says."""

    case_opened = "case_opened"  # 立案侦查/审查调查
    preliminary_check = "preliminary_check"  # 初步核实
    not_substantiated = "not_substantiated"  # 经查不实 / 不予立案
    transferred_on = "transferred_on"  # 转交其他部门
    concluded = "concluded"  # 已办结
    other = "other"


class ReplyPurpose(StrEnum):
    acknowledgement = "acknowledgement"
    feedback = "feedback"


MAX_NAME = 128
MAX_DOCUMENT_NO = 64
MAX_NOTE = 2000
MAX_SUMMARY = 2000

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME)]
DocumentNo = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_DOCUMENT_NO)]
Short = Annotated[str, msgspec.Meta(max_length=64)]
Phone = Annotated[str, msgspec.Meta(max_length=32)]
Address = Annotated[str, msgspec.Meta(max_length=256)]
Key = Annotated[str, msgspec.Meta(max_length=2000)]
Note = Annotated[str, msgspec.Meta(max_length=MAX_NOTE)]
Summary = Annotated[str, msgspec.Meta(max_length=MAX_SUMMARY)]


class AuthorityIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A competent authority as the administrator enters it. ``public_key``: X25519,
    64 hex digits or a PEM ``PUBLIC KEY`` block; empty for none."""

    name: Name
    kind: AuthorityKind
    contact_person: Short = ""
    phone: Phone = ""
    address: Address = ""
    public_key: Key = ""
    active: bool = True


class AuthorityOut(msgspec.Struct, frozen=True):
    id: int
    name: str
    kind: AuthorityKind
    contact_person: str
    phone: str
    address: str
    public_key: str | None
    key_fingerprint: str | None
    active: bool


class TransferIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A transfer as the officer records it (``reason`` goes into the custody event)."""

    authority_id: int
    transferred_on: dt.date
    document_no: DocumentNo
    method: TransferMethod
    note: Note = ""


class AcknowledgementIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The authority's acknowledgement of receipt (签收), from its reply."""

    acknowledged_on: dt.date
    document_no: Annotated[str, msgspec.Meta(max_length=MAX_DOCUMENT_NO)] = ""


class FeedbackIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The authority's feedback (反馈). ``summary`` is plaintext metadata written on
    purpose: what was done, never the tipster's identity or the tip's text."""

    feedback_on: dt.date
    outcome: FeedbackOutcome
    summary: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_SUMMARY)]
    document_no: Annotated[str, msgspec.Meta(max_length=MAX_DOCUMENT_NO)] = ""


class ReplyLinkIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    purpose: ReplyPurpose
    valid_days: Annotated[int, msgspec.Meta(ge=1, le=60)] = 14


class ReplyLinkOut(msgspec.Struct, frozen=True):
    """A one-time link, shown once: only its SHA-256 is stored."""

    url: str
    purpose: ReplyPurpose
    expires_at: dt.datetime


class TransferOut(msgspec.Struct, frozen=True):
    """One transfer of a tip: metadata only."""

    id: int
    ledger_no: str
    authority_id: int
    authority: str
    authority_sealed: bool
    transferred_on: dt.date
    document_no: str
    method: TransferMethod
    officer_id: int
    officer: str
    note: str
    event_seq: int | None
    acknowledged_on: dt.date | None
    acknowledged_document_no: str
    acknowledged_via: str
    feedback_on: dt.date | None
    feedback_document_no: str
    feedback_summary: str
    feedback_outcome: str
    feedback_via: str


class TransferReceipt(msgspec.Struct, frozen=True):
    """The transfer receipt (移送回执) for the authority: where the ``tip.transferred``
    event is in the ledger and, once a checkpoint holds it, the proof that it is there."""

    transfer: TransferOut
    seq: int
    leaf_hash: str
    log_key: str
    leaf_index: int | None = None
    tree_size: int | None = None
    root: str | None = None
    proof: list[str] | None = None
    checkpoint: str | None = None


class ReplyPage(msgspec.Struct, frozen=True):
    """What a one-time link shows the authority: the numbers, never the tip."""

    purpose: ReplyPurpose
    ledger_no: str
    document_no: str
    authority: str


# The pages' forms: the API's structs above as a browser posts them, every field text
# with a default (a refused form is shown back as typed); ``body()`` converts one to
# its API struct, so the page and the API hand the services the same.

T = TypeVar("T")
_AT_FIELD = re.compile(r"at `\$\.([a-z_]+)`")


def _convert(data: dict[str, Any], kind: type[T]) -> T:
    """A form's strings as the API's struct; a bad value is a 400 naming the field."""
    values = {name: value for name, value in data.items() if value != "" or name == "note"}
    try:
        return msgspec.convert(values, kind, strict=False)
    except msgspec.ValidationError as error:
        where = _AT_FIELD.search(str(error))
        field = where.group(1) if where else None
        raise FormInvalid(detail=str(error), field=field) from None


class AuthorityForm(msgspec.Struct, frozen=True):
    name: str = ""
    kind: str = ""
    contact_person: str = ""
    phone: str = ""
    address: str = ""
    public_key: str = ""
    active: str = ""

    @classmethod
    def of(cls, authority: AuthorityOut) -> AuthorityForm:
        return cls(
            name=authority.name,
            kind=authority.kind.value,
            contact_person=authority.contact_person,
            phone=authority.phone,
            address=authority.address,
            public_key=authority.public_key or "",
            active="1" if authority.active else "",
        )

    def body(self) -> AuthorityIn:
        values = msgspec.structs.asdict(self)
        values["active"] = self.active in ("1", "on", "true")
        return _convert(values, AuthorityIn)


class TransferForm(msgspec.Struct, frozen=True):
    authority_id: str = ""
    transferred_on: str = ""
    document_no: str = ""
    method: str = ""
    note: str = ""

    def body(self) -> TransferIn:
        return _convert(msgspec.structs.asdict(self), TransferIn)


class AcknowledgementForm(msgspec.Struct, frozen=True):
    acknowledged_on: str = ""
    document_no: str = ""

    def body(self) -> AcknowledgementIn:
        return _convert(msgspec.structs.asdict(self), AcknowledgementIn)


class FeedbackForm(msgspec.Struct, frozen=True):
    feedback_on: str = ""
    outcome: str = ""
    summary: str = ""
    document_no: str = ""

    def body(self) -> FeedbackIn:
        return _convert(msgspec.structs.asdict(self), FeedbackIn)


class ReplyForm(msgspec.Struct, frozen=True):
    """The authority's one-time reply page: an acknowledgement or feedback, as the
    link's purpose says."""

    acknowledged_on: str = ""
    feedback_on: str = ""
    outcome: str = ""
    summary: str = ""
    document_no: str = ""

    def body(self, purpose: ReplyPurpose) -> AcknowledgementIn | FeedbackIn:
        if purpose is ReplyPurpose.acknowledgement:
            return AcknowledgementForm(self.acknowledged_on, self.document_no).body()
        return FeedbackForm(self.feedback_on, self.outcome, self.summary, self.document_no).body()


class LinkForm(msgspec.Struct, frozen=True):
    purpose: str = ""
    valid_days: str = "14"

    def body(self) -> ReplyLinkIn:
        return _convert(msgspec.structs.asdict(self), ReplyLinkIn)
