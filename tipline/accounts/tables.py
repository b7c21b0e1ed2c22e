"""Accounts and their server-side sessions.

No password or session token is stored in clear: passwords as argon2id hashes,
session tokens as SHA-256 digests of the cookie value. The TOTP secret must be
readable to check codes, so it is stored as is (base32).
"""

from piccolo.columns import Boolean, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from tipline.auth import Role
from tipline.orgunits.tables import OrgUnit


class Account(Table, tablename="account"):
    """A person who signs in: a designated officer, inspector, admin, county or township staff."""

    id: Serial  # Piccolo adds the primary key itself; declared for the type checker

    username = Varchar(length=64, unique=True, index=True)
    display_name = Varchar(length=100)
    role = Varchar(length=16, choices=Role)
    org_unit: ForeignKey[OrgUnit] = ForeignKey(OrgUnit)
    password_hash = Varchar(length=255)
    password_changed_at = Timestamptz(default=TimestamptzNow())
    totp_secret = Varchar(length=64, null=True, default=None)
    totp_last_step = Integer(null=True, default=None)
    disabled = Boolean(default=False)
    failed_logins = Integer(default=0)
    throttled_until = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    # Where e-mail notifications go (tipline.notifications); none: the in-app inbox only.
    email = Varchar(length=254, null=True, default=None)


class AccountSession(Table, tablename="account_session"):
    """One signed-in browser or API client; ended on logout, expiry, disable or reset."""

    id: Serial

    token_hash = Varchar(length=64, unique=True, index=True)
    account: ForeignKey[Account] = ForeignKey(Account, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())
    ended_at = Timestamptz(null=True, default=None)
    end_reason = Varchar(length=32, null=True, default=None)
    # A TOTP secret shown for enrolment but not yet confirmed with a code; it moves
    # to ``Account.totp_secret`` on confirmation and never leaves the server.
    totp_pending_secret = Varchar(length=64, null=True, default=None)
