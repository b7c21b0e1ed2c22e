"""Tables of the chain of custody.

``custody_event`` is append-only: rows are inserted by ``services.append_event`` and
never updated or deleted. ``ledger_head`` is one row holding the last sequence
number and hash; locking it serialises appends so numbers have no gaps.
"""

from piccolo.columns import Integer, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table


class CustodyEvent(Table, tablename="custody_event"):
    """One step in the chain of custody (保管链).

    ``hash`` is SHA-256 over the canonical encoding of every other column
    (``services.canonical_event``), which includes ``prev_hash``; a later Merkle
    tree uses the same canonical bytes as its leaves, so no event is rewritten.
    """

    seq = Integer(unique=True, index=True)
    occurred_at = Timestamptz()
    actor_type = Varchar(length=16)
    actor_id = Varchar(length=64, null=True, default=None)
    action = Varchar(length=64, index=True)
    object_type = Varchar(length=32)
    object_id = Varchar(length=64)
    payload = Text()
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64)


class LedgerHead(Table, tablename="ledger_head"):
    """The single row naming the ledger's last event; the lock appends take."""

    id = Serial(primary_key=True)
    seq = Integer(default=0)
    hash = Varchar(length=64)
