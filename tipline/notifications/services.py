"""Notifications: the in-app inbox of every account, and e-mail when SMTP is configured.

Rules and why:

- A notification never carries tip content (保密纪律, 纪检监察机关处理检举控告工作规则
  Art. 15: 不得扩大知情范围): it is a message key plus short parameters such as a ledger
  number, a deadline kind or a date ("ledger no. X is due"). Parameters are refused
  when long or multi-line, so a caller cannot slip a tip's text into one.
- A sweep that repeats itself must not repeat its messages (docs/ARCHITECTURE.md principle 5): a
  sender passes a ``dedupe_key`` and each account gets that message once, enforced by
  a unique column, so two processes racing still insert one row.
- :func:`notify` joins the caller's write transaction: a warning is stored together
  with the deadline state that caused it, or not at all.
- E-mail goes through an outbox table, sent by a scheduler job with retries and
  exponential backoff; a mail server that is down delays mail, never a request.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import smtplib
import ssl
from collections.abc import Iterable, Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from tipline import db
from tipline.accounts.tables import Account
from tipline.auth import Role
from tipline.errors import Invalid, NotFound
from tipline.ledger import checkpoints
from tipline.notifications.tables import EmailOutbox, Notification
from tipline.settings import Settings
from tipline.web.i18n import translate

MAX_PARAM_CHARS = 64
MAX_PARAMS = 8
MAX_ATTEMPTS = 8
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_MAX = dt.timedelta(hours=6)
SEND_BATCH = 50
SMTP_TIMEOUT_SECONDS = 30
INBOX_LIMIT = 200
CHINA = ZoneInfo("Asia/Shanghai")


class NotificationNotFound(NotFound):
    message_key = "notifications.error.not_found"


class BadNotification(Invalid):
    """A caller passed a parameter that could hold content (long or multi-line)."""

    message_key = "notifications.error.bad_params"


class _Config(msgspec.Struct):
    settings: Settings | None = None


_config = _Config()


def configure(settings: Settings) -> None:
    """Remember the settings (SMTP, base URL, language of e-mails); called by ``create_app``."""
    _config.settings = settings


def smtp_settings() -> Settings | None:
    """The settings when SMTP is configured, else None (e-mail is then simply not queued)."""
    settings = _config.settings
    return settings if settings is not None and settings.smtp_configured else None


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _check_params(params: Mapping[str, str]) -> dict[str, str]:
    if len(params) > MAX_PARAMS:
        raise BadNotification()
    checked: dict[str, str] = {}
    for name, value in params.items():
        text = str(value)
        if len(text) > MAX_PARAM_CHARS or "\n" in text or "\r" in text:
            raise BadNotification()
        checked[str(name)] = text
    return checked


def _absolute(link: str | None) -> str:
    settings = _config.settings
    if not link:
        return ""
    base = settings.base_url if settings is not None else ""
    return base + link if link.startswith("/") else link


def render_email(
    message_key: str, params: Mapping[str, str], link: str | None, locale: str
) -> tuple[str, str]:
    """Subject and body of a notification e-mail: the message and a link, nothing else."""
    text = translate(locale, message_key, **params)
    subject = translate(locale, "notifications.email.subject", message=text)[:200]
    parts = [text, ""]
    if link:
        parts += [translate(locale, "notifications.email.open", link=_absolute(link)), ""]
    parts.append(translate(locale, "notifications.email.footer"))
    return subject, "\n".join(parts)


async def notify(
    account_ids: Iterable[int],
    kind: str,
    message_key: str,
    params: Mapping[str, str],
    link: str | None = None,
    *,
    dedupe_key: str | None = None,
) -> int:
    """Put a message in each account's inbox (and queue an e-mail to each account with an
    address, when SMTP is configured); returns how many inbox rows were new.

    ``params`` are short metadata only (at most 64 characters each, no line breaks).
    With ``dedupe_key``, a repeated call adds nothing for an account that already got
    that key. Joins the caller's write transaction.
    """
    checked = _check_params(params)
    ids = sorted({int(account_id) for account_id in account_ids})
    if not ids:
        return 0
    if link is not None and (not link.startswith("/") or len(link) > 200):
        raise BadNotification()
    encoded = json.dumps(checked, ensure_ascii=False, sort_keys=True)
    settings = smtp_settings()
    created = 0
    async with db.write_transaction():
        addresses: dict[int, str] = {}
        if settings is not None:
            rows = await Account.select(Account.id, Account.email).where(
                Account.id.is_in(ids), Account.disabled.eq(False)
            )
            addresses = {int(row["id"]): row["email"] for row in rows if row["email"]}
        for account_id in ids:
            dedupe = f"{account_id}:{dedupe_key}" if dedupe_key else None
            inserted = (
                await Notification.insert(
                    Notification(
                        account=account_id,
                        kind=kind[:32],
                        message_key=message_key,
                        params=encoded,
                        link=link,
                        dedupe=dedupe,
                    )
                )
                .on_conflict(action="DO NOTHING")
                .returning(Notification.id)
            )
            if not inserted:
                continue
            created += 1
            address = addresses.get(account_id)
            if settings is not None and address:
                subject, body = render_email(message_key, checked, link, settings.default_locale)
                await queue_email(
                    address, subject, body, account_id=account_id, dedupe=dedupe and "n:" + dedupe
                )
    return created


async def accounts_with_role(role: Role, org_unit_id: int | None = None) -> list[int]:
    """The enabled accounts of ``role`` (in ``org_unit_id`` when given)."""
    query = Account.select(Account.id).where(Account.role == role.value, Account.disabled.eq(False))
    if org_unit_id is not None:
        query = query.where(Account.org_unit == org_unit_id)
    return [int(row["id"]) for row in await query]


async def notify_role(
    role: Role,
    kind: str,
    message_key: str,
    params: Mapping[str, str],
    link: str | None = None,
    *,
    dedupe_key: str | None = None,
    org_unit_id: int | None = None,
) -> int:
    """:func:`notify` every enabled account of ``role`` (of ``org_unit_id`` when given)."""
    accounts = await accounts_with_role(role, org_unit_id)
    return await notify(accounts, kind, message_key, params, link, dedupe_key=dedupe_key)


# --- the inbox ---------------------------------------------------------------------------


class InboxItem(msgspec.Struct, frozen=True):
    """One inbox message; ``text`` is rendered in the reader's language."""

    id: int
    kind: str
    message_key: str
    params: dict[str, str]
    text: str
    link: str | None
    created_at: dt.datetime
    read: bool
    created_local: str = ""
    """``created_at`` in China time, as the inbox page shows it."""


class Inbox(msgspec.Struct, frozen=True):
    unread: int
    items: list[InboxItem]


async def unread_count(account_id: int) -> int:
    return int(
        await Notification.count().where(
            Notification.account == account_id, Notification.read_at.is_null()
        )
    )


async def inbox(account_id: int, locale: str, *, unread_only: bool = False) -> Inbox:
    """The newest messages of one account (at most 200), unread first in count."""
    query = Notification.select().where(Notification.account == account_id)
    if unread_only:
        query = query.where(Notification.read_at.is_null())
    rows = await query.order_by(Notification.id, ascending=False).limit(INBOX_LIMIT)
    items = []
    for row in rows:
        params = json.loads(row["params"] or "{}")
        items.append(
            InboxItem(
                id=row["id"],
                kind=row["kind"],
                message_key=row["message_key"],
                params=params,
                text=translate(locale, row["message_key"], **params),
                link=row["link"],
                created_at=_aware(row["created_at"]),
                read=row["read_at"] is not None,
                created_local=_aware(row["created_at"])
                .astimezone(CHINA)
                .strftime("%Y-%m-%d %H:%M"),
            )
        )
    return Inbox(unread=await unread_count(account_id), items=items)


async def mark_read(
    account_id: int, notification_id: int, *, now: dt.datetime | None = None
) -> None:
    """Mark one of the account's own messages read; another account's is not found."""
    async with db.write_transaction():
        row = (
            await Notification.select(Notification.id, Notification.read_at)
            .where(Notification.id == notification_id, Notification.account == account_id)
            .first()
        )
        if row is None:
            raise NotificationNotFound()
        if row["read_at"] is None:
            await Notification.update({Notification.read_at: now or utcnow()}).where(
                Notification.id == notification_id
            )


async def mark_all_read(account_id: int, *, now: dt.datetime | None = None) -> int:
    async with db.write_transaction():
        rows = (
            await Notification.update({Notification.read_at: now or utcnow()})
            .where(Notification.account == account_id, Notification.read_at.is_null())
            .returning(Notification.id)
        )
    return len(rows)


# --- the e-mail outbox -------------------------------------------------------------------


async def queue_email(
    to_address: str,
    subject: str,
    body: str,
    *,
    account_id: int | None = None,
    dedupe: str | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Queue one e-mail (joins the caller's transaction); False when ``dedupe`` was queued."""
    async with db.write_transaction():
        rows = (
            await EmailOutbox.insert(
                EmailOutbox(
                    account_id=account_id,
                    to_address=to_address,
                    subject=subject[:200],
                    body=body,
                    dedupe=dedupe,
                    next_attempt_at=now or utcnow(),
                )
            )
            .on_conflict(action="DO NOTHING")
            .returning(EmailOutbox.id)
        )
    return bool(rows)


async def email_role(role: Role, subject: str, body: str, *, dedupe: str | None = None) -> int:
    """Queue an e-mail to every enabled account of ``role`` with an address (when SMTP is
    configured); returns how many were queued. Joins the caller's transaction."""
    if smtp_settings() is None:
        return 0
    rows = await Account.select(Account.id, Account.email).where(
        Account.role == role.value, Account.disabled.eq(False), Account.email.is_not_null()
    )
    queued = 0
    for row in rows:
        if not row["email"]:
            continue
        key = f"{dedupe}:{row['id']}" if dedupe else None
        if await queue_email(row["email"], subject, body, account_id=row["id"], dedupe=key):
            queued += 1
    return queued


def backoff(attempts: int) -> dt.timedelta:
    """Wait after the ``attempts``-th failure: 1, 2, 4, … minutes, at most 6 hours."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def _message(settings: Settings, to_address: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to_address
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=settings.smtp_from.rpartition("@")[2] or None)
    message.set_content(body)
    return message


def _send_blocking(settings: Settings, message: EmailMessage) -> None:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


def _error_text(error: BaseException) -> str:
    code = getattr(error, "smtp_code", None)
    return f"{type(error).__name__} {code}" if code else type(error).__name__


class SendResult(msgspec.Struct, frozen=True):
    sent: int
    failed: int
    given_up: int


async def send_pending(settings: Settings, *, now: dt.datetime | None = None) -> SendResult:
    """Send the e-mails that are due (one SMTP connection each, in a worker thread).

    A failure counts an attempt and schedules the next one with :func:`backoff`;
    after :data:`MAX_ATTEMPTS` the mail is marked failed and left for the admin.
    """
    if not settings.smtp_configured:
        return SendResult(0, 0, 0)
    moment = now or utcnow()
    rows = (
        await EmailOutbox.select()
        .where(
            EmailOutbox.sent_at.is_null(),
            EmailOutbox.failed_at.is_null(),
            EmailOutbox.next_attempt_at <= moment,
        )
        .order_by(EmailOutbox.id)
        .limit(SEND_BATCH)
    )
    sent = failed = given_up = 0
    for row in rows:
        message = _message(settings, row["to_address"], row["subject"], row["body"])
        try:
            await asyncio.to_thread(_send_blocking, settings, message)
        except (OSError, smtplib.SMTPException) as error:
            attempts = int(row["attempts"]) + 1
            values: dict[Any, Any] = {
                EmailOutbox.attempts: attempts,
                EmailOutbox.last_error: _error_text(error)[:200],
                EmailOutbox.next_attempt_at: moment + backoff(attempts),
            }
            if attempts >= MAX_ATTEMPTS:
                values[EmailOutbox.failed_at] = moment
                given_up += 1
            failed += 1
            async with db.write_transaction():
                await EmailOutbox.update(values).where(EmailOutbox.id == row["id"])
            continue
        sent += 1
        async with db.write_transaction():
            await EmailOutbox.update(
                {
                    EmailOutbox.attempts: int(row["attempts"]) + 1,
                    EmailOutbox.sent_at: moment,
                    EmailOutbox.last_error: None,
                }
            ).where(EmailOutbox.id == row["id"])
    return SendResult(sent, failed, given_up)


def email_job(settings: Settings) -> Any:
    """The scheduler's ``notifications-email`` job."""

    async def notifications_email() -> None:
        await send_pending(settings)

    return notifications_email


class OutboxRow(msgspec.Struct, frozen=True):
    id: int
    to_address: str
    subject: str
    attempts: int
    next_attempt_at: dt.datetime
    sent_at: dt.datetime | None
    failed_at: dt.datetime | None
    last_error: str | None


async def outbox(limit: int = 100) -> list[OutboxRow]:
    """The newest e-mails with their delivery state (for the admin and the tests)."""
    rows = await EmailOutbox.select().order_by(EmailOutbox.id, ascending=False).limit(limit)
    return [
        OutboxRow(
            id=row["id"],
            to_address=row["to_address"],
            subject=row["subject"],
            attempts=row["attempts"],
            next_attempt_at=_aware(row["next_attempt_at"]),
            sent_at=_aware(row["sent_at"]) if row["sent_at"] else None,
            failed_at=_aware(row["failed_at"]) if row["failed_at"] else None,
            last_error=row["last_error"],
        )
        for row in rows
    ]


# --- checkpoints leave the server by e-mail (issue 5) ---------------------------------------


async def email_checkpoint(size: int, text: str) -> None:
    """Queue the signed checkpoint to every inspector with an address (a copy outside the
    server: issue 5, item 2). The checkpoint holds a tree size and hashes, no content."""
    settings = smtp_settings()
    if settings is None:
        return
    locale = settings.default_locale
    subject = translate(locale, "notifications.checkpoint.subject", size=size)
    body = "\n".join(
        [translate(locale, "notifications.checkpoint.body", size=size), "", text.rstrip(), ""]
    )
    await email_role(Role.inspector, subject, body, dedupe=f"checkpoint:{size}")


def install(settings: Settings) -> None:
    """Configure e-mail and send checkpoints to the inspectors (called by ``create_app``)."""
    configure(settings)
    checkpoints.on_checkpoint(email_checkpoint)
