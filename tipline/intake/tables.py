"""Tables of the tip box.

Nothing a tipster wrote is stored in clear: the form fields, the real-name section,
messages and attachments are ``encrypt_content`` envelopes under a random per-tip
data key, and that key is stored only sealed (``TipKey``) to the designated officers,
the escrow key and (for the content key) the tipster's receipt-derived key. The
receipt itself is stored only as an HMAC under a server key kept outside the
database. Tipster action times are truncated to the hour.
"""

from piccolo.columns import (
    Boolean,
    Bytea,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class TipCounter(Table, tablename="tip_counter"):
    """The last ledger sequence number handed out in one calendar year (Asia/Shanghai).

    Locked and bumped in the transaction that stores the tip, so numbers are gap-free.
    """

    id: Serial

    year = Integer(unique=True)
    last_seq = Integer(default=0)


class Tip(Table, tablename="tip"):
    """One tip (举报线索), registered with its ledger number at the moment it arrives."""

    id: Serial

    ledger_no = Varchar(length=16, unique=True, index=True)
    ledger_year = Integer()
    ledger_seq = Integer()
    channel = Varchar(length=16)
    status = Varchar(length=32, default="received", index=True)
    received_at = Timestamptz(default=TimestamptzNow())
    receipt_mac = Varchar(length=64, unique=True, index=True)
    tipster_public_key = Varchar(length=64)
    content = Bytea()
    has_identity = Boolean(default=False)
    identity = Bytea(null=True, default=None)
    format_version = Integer(default=1)


class TipKey(Table, tablename="tip_key"):
    """A tip's data key (``purpose`` content or identity) sealed to one recipient."""

    id: Serial

    tip: ForeignKey[Tip] = ForeignKey(Tip, index=True)
    purpose = Varchar(length=16)
    recipient_kind = Varchar(length=16)
    recipient_id = Varchar(length=64, null=True, default=None)
    fingerprint = Varchar(length=64)
    sealed = Bytea()


class TipMessage(Table, tablename="tip_message"):
    """A message between the tipster and the officers, sealed with the tip's content key."""

    id: Serial

    tip: ForeignKey[Tip] = ForeignKey(Tip, index=True)
    author = Varchar(length=16)
    author_account_id = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    body = Bytea()
    uid = Varchar(length=32, unique=True)


class TipAttachment(Table, tablename="tip_attachment"):
    """A cleaned file (metadata removed), encrypted with the tip's content key."""

    id: Serial

    tip: ForeignKey[Tip] = ForeignKey(Tip, index=True)
    message: ForeignKey[TipMessage] = ForeignKey(TipMessage, null=True, default=None)
    uid = Varchar(length=32, unique=True)
    media_type = Varchar(length=64)
    size = Integer()
    removed = Text(default="[]")
    body = Bytea()
    created_at = Timestamptz(default=TimestamptzNow())


class TipsterSession(Table, tablename="tipster_session"):
    """A tipster signed in with their receipt.

    ``wrapped_key`` is the tipster's private key wrapped under a key derived from the
    ``tipster`` cookie token; only the token's SHA-256 is stored, so a dump cannot
    open it.
    """

    id: Serial

    token_hash = Varchar(length=64, unique=True, index=True)
    tip: ForeignKey[Tip] = ForeignKey(Tip, index=True)
    wrapped_key = Bytea()
    expires_at = Timestamptz()
