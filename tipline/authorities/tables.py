"""Tables of competent authorities (有管辖权的部门) and the transfers of tips to them.

A transfer (移送) is recorded with its document number (移送函号), date, method and
officer, and then the authority's acknowledgement and feedback (反馈). Nothing here holds
tip content: the transfer package (a PDF) is made in memory on download and never
stored. Nothing is ever deleted: an authority that no longer takes transfers is made
inactive, and every transfer stays on record.
"""

from piccolo.columns import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from tipline.intake.tables import Tip


class Authority(Table, tablename="competent_authority"):
    """A body tips are transferred to (public security bureau, discipline commission, …).

    ``public_key`` is an X25519 public key (64 hex digits, raw) when the authority has
    one: its transfer packages are then sealed to it. ``kind`` is an
    :class:`tipline.authorities.schemas.AuthorityKind`.
    """

    id: Serial

    name = Varchar(length=128, unique=True)
    kind = Varchar(length=32)
    contact_person = Varchar(length=64, default="")
    phone = Varchar(length=32, default="")
    address = Varchar(length=256, default="")
    public_key = Varchar(length=64, null=True, default=None)
    key_fingerprint = Varchar(length=64, null=True, default=None)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Transfer(Table, tablename="tip_transfer"):
    """One hand-over of a tip to a competent authority (移送), with what came back.

    ``document_key`` (``"<authority id>:<document no>"``) makes a document number unique
    per authority on both databases. ``event_seq`` is the ``tip.transferred`` custody
    event, whose inclusion proof is the authority's transfer receipt. Acknowledgement
    (签收) and feedback (反馈) are recorded separately, by the officer from the paper
    reply (``*_via = "officer"``) or by the authority through a one-time link
    (``"link"``). ``feedback_summary`` is written by the officer or the authority as
    plaintext metadata on purpose.
    """

    id: Serial

    tip: ForeignKey[Tip] = ForeignKey(Tip, index=True)
    authority: ForeignKey[Authority] = ForeignKey(Authority, index=True)
    transferred_on = Date()
    document_no = Varchar(length=64)
    document_key = Varchar(length=96, unique=True)
    method = Varchar(length=32)
    officer_id = Integer(index=True)
    note = Text(default="")
    event_seq = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    acknowledged_on = Date(null=True, default=None)
    acknowledged_document_no = Varchar(length=64, default="")
    acknowledged_via = Varchar(length=16, default="")
    feedback_on = Date(null=True, default=None)
    feedback_document_no = Varchar(length=64, default="")
    feedback_summary = Text(default="")
    feedback_outcome = Varchar(length=32, default="")
    feedback_via = Varchar(length=16, default="")


class ReplyLink(Table, tablename="authority_reply_link"):
    """A one-time link an authority uses to acknowledge a transfer or send feedback.

    Only the SHA-256 of the random token is stored; the link is shown once to the
    officer who makes it. ``purpose`` is ``acknowledgement`` or ``feedback``.
    """

    id: Serial

    transfer: ForeignKey[Transfer] = ForeignKey(Transfer, index=True)
    purpose = Varchar(length=16)
    token_sha256 = Varchar(length=64, unique=True, index=True)
    created_by = Integer()
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
