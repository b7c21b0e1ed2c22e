"""The in-app inbox and the e-mail outbox.

Neither ever holds tip content: a notification is a message key plus short
parameters (a ledger number, a deadline kind, a date), rendered in the reader's
language when shown; an e-mail is rendered from the same key when queued.
"""

from piccolo.columns import ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from tipline.accounts.tables import Account


class Notification(Table, tablename="notification"):
    """One message in one account's inbox.

    ``dedupe`` is ``<account id>:<dedupe key>`` when the sender gave a key: unique, so
    a sweep that runs twice (or in two processes) inserts each message once.
    """

    id: Serial

    account: ForeignKey[Account] = ForeignKey(Account, index=True)
    kind = Varchar(length=32)
    message_key = Varchar(length=100)
    params = Text(default="{}")
    link = Varchar(length=200, null=True, default=None)
    dedupe = Varchar(length=200, null=True, default=None, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    read_at = Timestamptz(null=True, default=None, index=True)


class EmailOutbox(Table, tablename="email_outbox"):
    """An e-mail waiting to be sent (or sent) through the configured SMTP server.

    A failed attempt is retried at ``next_attempt_at`` with exponential backoff, up
    to a limit; ``last_error`` holds the error's type and SMTP code only (an error
    text may quote the message or an address).
    """

    id: Serial

    account_id = Integer(null=True, default=None, index=True)
    to_address = Varchar(length=254)
    subject = Varchar(length=200)
    body = Text()
    dedupe = Varchar(length=200, null=True, default=None, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow(), index=True)
    sent_at = Timestamptz(null=True, default=None, index=True)
    failed_at = Timestamptz(null=True, default=None)
    last_error = Varchar(length=200, null=True, default=None)
