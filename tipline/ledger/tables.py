"""Tables of the chain of custody.

``custody_event`` is append-only: rows are inserted by ``services.append_event`` and
never updated or deleted. ``ledger_head`` is one row holding the last sequence
number and hash and the Merkle frontier; locking it serialises appends so numbers
have no gaps. ``merkle_node`` caches the tree's perfect subtrees for proofs;
``checkpoint`` holds the signed tree heads, ``witness_key`` and
``checkpoint_cosignature`` the inspectors' co-signatures.
"""

from piccolo.columns import BigInt, Integer, Serial, Text, Timestamptz, Varchar
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
    # Roots of the perfect subtrees making up the Merkle tree, largest first, as
    # comma-separated hex (at most log2 n of them; see merkle.frontier_append).
    frontier = Text(default="")


NODE_KEY_LEVEL = 1 << 40
"""``merkle_node.key = level * NODE_KEY_LEVEL + index``: one unique integer per node, so
one index serves both lookups and the level-by-level order ``verify`` reads in."""


class MerkleNode(Table, tablename="merkle_node"):
    """A perfect subtree's root (level 0: an event's leaf hash), written by the append
    that completes it; proofs fold these instead of rehashing the whole tree."""

    key = BigInt(unique=True, index=True)
    hash = Varchar(length=64)


class Checkpoint(Table, tablename="checkpoint"):
    """A signed tree head: ``text`` is the whole signed note, as sent out."""

    id = Serial(primary_key=True)
    size = Integer(unique=True, index=True)
    root = Varchar(length=64)
    text = Text()
    created_at = Timestamptz()


class WitnessKey(Table, tablename="witness_key"):
    """An inspector's Ed25519 verifier key (signed-note ``vkey`` form), registered by
    ``tipline ledger witness-add``; its private half never reaches the server."""

    id = Serial(primary_key=True)
    name = Varchar(length=64, unique=True)
    vkey = Text()
    added_at = Timestamptz()


class CheckpointCosignature(Table, tablename="checkpoint_cosignature"):
    """A witness's signature line over one checkpoint's note text."""

    id = Serial(primary_key=True)
    checkpoint_size = Integer(index=True)
    witness = Varchar(length=64)
    line = Text()
    created_at = Timestamptz()
