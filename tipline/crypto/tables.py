"""Officer key pairs, per-session unlocked keys, and the escrow public key.

No private key is stored in clear: an officer's private key only wrapped under a key
derived from their password (argon2id, parameters beside it), a session's copy only
wrapped under a secret that lives in that session's cookie, and of the escrow key
only the public half. Accounts and sessions are referred to by id: this package
imports no domain package.
"""

from piccolo.columns import Boolean, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class OfficerKey(Table, tablename="officer_key"):
    """A designated officer's X25519 key pair (public key in hex, private key wrapped).

    ``wrapped_private_key`` is a base64 envelope (``chacha20poly1305-v1``) under the
    argon2id key of the officer's password, with the account id and public key as AAD.
    """

    id: Serial

    account_id = Integer(unique=True, index=True)
    algorithm = Varchar(length=32)
    public_key = Varchar(length=64)
    fingerprint = Varchar(length=64)
    wrapped_private_key = Text()
    kdf_name = Varchar(length=32)
    kdf_salt = Varchar(length=64)
    kdf_time_cost = Integer()
    kdf_memory_cost = Integer()
    kdf_parallelism = Integer()
    created_at = Timestamptz(default=TimestamptzNow())
    rewrapped_at = Timestamptz(null=True, default=None)


class SessionKey(Table, tablename="session_key"):
    """An officer's private key unlocked for one signed-in session.

    Wrapped under a random secret held only in that session's ``tipline_key`` cookie,
    so every worker process can use it and a database dump cannot. Ephemeral: the
    row is deleted when the session ends.
    """

    id: Serial

    session_id = Integer(unique=True, index=True)
    account_id = Integer(index=True)
    wrapped_private_key = Text()
    created_at = Timestamptz(default=TimestamptzNow())


class EscrowKey(Table, tablename="escrow_key"):
    """The public half of the offline escrow key every tip is also sealed to.

    The private half is printed and kept offline. A replaced key keeps its row
    (``replaced_at`` set) so old sealed keys still say which escrow key opens them.
    """

    id: Serial

    algorithm = Varchar(length=32)
    public_key = Varchar(length=64)
    fingerprint = Varchar(length=64, index=True)
    is_demo = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    replaced_at = Timestamptz(null=True, default=None)
