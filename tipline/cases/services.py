"""Reading tips as a designated officer, and replying to the tipster.

Rules and where they come from:

- Only designated officers read tips, and only with their own key, unlocked for the
  session they signed in to (docs/ARCHITECTURE.md principle 1; 《个人信息保护法》
  Art. 51, 《数据安全法》 Art. 27: access control and encryption). The list shows metadata only.
- Every opening of a tip, every download of an attachment and every reply is an event
  in the chain of custody, written in the same transaction as what it records
  (保密纪律: a leak or a private copy must leave a trace; docs/ARCHITECTURE.md principle 4).
- The real-name section (实名举报) is sealed with its own key and is not opened here:
  reading a tip must not reveal who sent it. Opening it needs two people (next issue).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

import msgspec
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from piccolo.columns.combination import WhereRaw
from piccolo.query.functions.aggregate import Count

from tipline import db
from tipline.accounts.tables import Account
from tipline.auth import CurrentUser, Role
from tipline.cases.exceptions import (
    ActionNotHere,
    AlreadyHoldsAccess,
    ApprovalDecided,
    ApprovalNotFound,
    ApprovalPending,
    CaseNotFound,
    InvalidMergeTarget,
    InvalidRegistration,
    KeyLocked,
    LastOfficer,
    NeedsApproval,
    NoAccessToRevoke,
    NoIdentity,
    NotApproved,
    NotARecipient,
    NotRegistered,
    NotRequester,
    ReasonRequired,
    SelfApproval,
    TransitionNotAllowed,
    UnknownOfficer,
)
from tipline.cases.lifecycle import (
    NEEDS_SECOND_OFFICER,
    TRANSITIONS,
    Action,
    ApprovalAction,
    Status,
    TransitionDone,
    allowed_actions,
    apply_transition,
)
from tipline.cases.schemas import (
    MAX_REASON_CHARS,
    MAX_SUMMARY_CHARS,
    AccessHolder,
    ApprovalOut,
    CaseAttachment,
    CaseFileOut,
    CaseFilter,
    CaseRow,
    CaseView,
    Choice,
    IdentityHistoryEntry,
    IdentityOut,
    NextDeadlineOut,
    RegisterBody,
    RegistrationBody,
    TimelineEntry,
    TransitionOut,
)
from tipline.cases.schemas import CaseFile as CaseFileDownload
from tipline.cases.tables import CaseApproval, CaseFile
from tipline.crypto import services as crypto
from tipline.crypto.exceptions import SessionKeyUnavailable
from tipline.crypto.primitives import content_context, decrypt_content
from tipline.filecleaning.sniff import EXTENSIONS as ALLOWED_EXTENSIONS
from tipline.filecleaning.sniff import IMAGE_TYPES
from tipline.intake import exceptions as intake_errors
from tipline.intake import services as intake
from tipline.intake.schemas import CATEGORIES, TipFields
from tipline.intake.tables import Tip, TipAttachment, TipKey
from tipline.ledger.services import Actor, append_event, events_for
from tipline.orgunits.tables import TOWNSHIP_KINDS, OrgUnit

LEDGER_NO = re.compile(r"^\d{4}-\d{6}$")
UID = re.compile(r"^[0-9a-f]{1,32}$")

# The allow-list of attachment types and their file endings is tipline.filecleaning's;
# JPEG and PNG are shown in the page itself, everything else is only downloaded.
EXTENSIONS = ALLOWED_EXTENSIONS
INLINE_TYPES = IMAGE_TYPES


async def session_key(user: CurrentUser, cookie: str | None) -> X25519PrivateKey:
    """The officer's private key for this session, from the ``tipline_key`` cookie.

    :class:`KeyLocked` when the cookie is missing or does not open the session's key
    (another browser, a session that ended, a key replaced by a password reset).
    """
    if not cookie:
        raise KeyLocked()
    try:
        return await crypto.session_private_key(
            user.session_id, crypto.decode_session_secret(cookie)
        )
    except SessionKeyUnavailable:
        raise KeyLocked() from None


async def _tip(ledger_no: str) -> dict[str, Any]:
    if not LEDGER_NO.fullmatch(ledger_no):
        raise CaseNotFound()
    row = await Tip.select().where(Tip.ledger_no == ledger_no).first()
    if row is None:
        raise CaseNotFound()
    return row


async def _content_key(tip_id: int, user: CurrentUser, key: X25519PrivateKey) -> bytes:
    try:
        return await intake.tip_data_key(tip_id, key, "officer", user.account_id)
    except intake_errors.NotARecipient:
        raise NotARecipient() from None


async def _attachments(tip_id: int, ledger_no: str) -> list[CaseAttachment]:
    rows = (
        await TipAttachment.select(
            TipAttachment.uid, TipAttachment.media_type, TipAttachment.size, TipAttachment.removed
        )
        .where(TipAttachment.tip == tip_id)
        .order_by(TipAttachment.id)
    )
    return [
        CaseAttachment(
            number=number,
            uid=row["uid"],
            media_type=row["media_type"],
            size=row["size"],
            removed=json.loads(row["removed"] or "[]"),
            filename=f"{ledger_no}-{number}.{EXTENSIONS.get(row['media_type'], 'bin')}",
            inline=row["media_type"] in INLINE_TYPES,
        )
        for number, row in enumerate(rows, start=1)
    ]


async def open_case(user: CurrentUser, key: X25519PrivateKey, ledger_no: str) -> CaseView:
    """The tip decrypted for this officer (form fields, attachments list, conversation),
    recorded as ``tip.viewed``; the real-name section stays sealed."""
    tip = await _tip(ledger_no)
    tip_id = int(tip["id"])
    data_key = await _content_key(tip_id, user, key)
    view = CaseView(
        ledger_no=tip["ledger_no"],
        channel=tip["channel"],
        status=tip["status"],
        received_at=intake.hour_text(tip["received_at"]),
        fields=msgspec.json.decode(
            decrypt_content(
                data_key, bytes(tip["content"]), context=content_context(tip_id, "content")
            ),
            type=TipFields,
        ),
        has_identity=bool(tip["has_identity"]),
        attachments=await _attachments(tip_id, tip["ledger_no"]),
        messages=await intake.open_messages(tip_id, data_key),
    )
    async with db.write_transaction():
        await append_event(
            Actor.account(user.account_id),
            "tip.viewed",
            "tip",
            tip_id,
            {"ledger_no": tip["ledger_no"]},
        )
    return view


async def open_attachment(
    user: CurrentUser, key: X25519PrivateKey, ledger_no: str, uid: str, *, inline: bool = False
) -> CaseFileDownload:
    """One attachment decrypted in memory, named ``<ledger no>-<n>.<ext>``, recorded as
    ``tip.attachment_downloaded``. Only JPEG and PNG images may be shown inline."""
    tip = await _tip(ledger_no)
    tip_id = int(tip["id"])
    attachment = next(
        (item for item in await _attachments(tip_id, tip["ledger_no"]) if item.uid == uid),
        None,
    )
    if attachment is None or not UID.fullmatch(uid):
        raise CaseNotFound()
    await _content_key(tip_id, user, key)
    try:
        opened = await intake.open_attachment(tip_id, uid, key, "officer", user.account_id)
    except intake_errors.NotARecipient:
        raise NotARecipient() from None
    show_inline = inline and attachment.inline
    async with db.write_transaction():
        await append_event(
            Actor.account(user.account_id),
            "tip.attachment_downloaded",
            "tip",
            tip_id,
            {"ledger_no": tip["ledger_no"], "attachment": attachment.number, "inline": show_inline},
        )
    return CaseFileDownload(
        filename=attachment.filename,
        media_type=attachment.media_type,
        data=opened.data,
        inline=show_inline,
    )


async def reply(user: CurrentUser, key: X25519PrivateKey, ledger_no: str, text: str) -> int:
    """Send the tipster a message, sealed with the tip's content key (so the tipster, the
    designated officers and the escrow key can read it); recorded as ``tip.message_sent``
    in the same transaction. Returns the message id."""
    tip = await _tip(ledger_no)
    tip_id = int(tip["id"])
    await _content_key(tip_id, user, key)
    async with db.write_transaction():
        message_id = await intake.add_officer_message(tip_id, user.account_id, text, key)
        await append_event(
            Actor.account(user.account_id),
            "tip.message_sent",
            "tip",
            tip_id,
            {"ledger_no": tip["ledger_no"], "message_id": message_id},
        )
    return message_id


# --- the ledger: metadata, filters, search --------------------------------------------------
#
# 纪检监察机关处理检举控告工作规则 (2020) Art. 14: designated officers register every tip
# item by item in a ledger (逐件登记、建立台账). The ledger shows and searches metadata
# only: the ledger number, what the officer wrote on purpose (category, township, a short
# summary), status, officer and due dates. Searching never decrypts anything.

CHINA = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
CASE_ACTIONS = frozenset({Action.assess, Action.close, Action.merge})
REQUESTABLE = frozenset(
    {ApprovalAction.void, ApprovalAction.close_without_transfer, ApprovalAction.open_identity}
)
# Actions another package carries out on its own pages (tipline.authorities).
ELSEWHERE = frozenset({Action.transfer, Action.record_feedback})


def _aware(moment: dt.datetime | str) -> dt.datetime:
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def minute_text(moment: dt.datetime | str | None) -> str:
    """An officer's action time in China time, to the minute: ``2026-11-29 14:05``."""
    if moment is None:
        return ""
    return _aware(moment).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def _reason(text: str | None) -> str:
    """The reason an officer signs a step with: required, kept as written (trimmed)."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise ReasonRequired(field="reason")
    if len(cleaned) > MAX_REASON_CHARS:
        raise ReasonRequired(field="reason")
    return cleaned


async def officer_names(ids: Iterable[int] | None = None) -> dict[int, str]:
    """Display names of accounts (all designated officers when ``ids`` is None)."""
    query = Account.select(Account.id, Account.display_name)
    if ids is None:
        query = query.where(Account.role == Role.officer.value)
    else:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        query = query.where(Account.id.is_in(wanted))
    return {int(row["id"]): row["display_name"] for row in await query}


async def officer_choices() -> list[Choice]:
    """Active designated officers, for the assign and grant pick lists."""
    rows = (
        await Account.select(Account.id, Account.display_name)
        .where((Account.role == Role.officer.value) & (Account.disabled == False))  # noqa: E712
        .order_by(Account.display_name)
    )
    return [Choice(id=int(row["id"]), name=row["display_name"]) for row in rows]


async def township_choices() -> list[Choice]:
    rows = (
        await OrgUnit.select(OrgUnit.id, OrgUnit.name)
        .where(OrgUnit.kind.is_in(list(TOWNSHIP_KINDS)))
        .order_by(OrgUnit.code)
    )
    return [Choice(id=int(row["id"]), name=row["name"]) for row in rows]


NextDeadlines = Callable[[Sequence[int], dt.date | None], Awaitable[Mapping[int, NextDeadlineOut]]]
"""Each tip's earliest open due date, given the tips' ids and the day (None: today)."""

_next_deadline_source: NextDeadlines | None = None


def read_next_deadlines_from(source: NextDeadlines) -> None:
    """Where the ledger list reads each tip's nearest due date.

    ``tipline.duedates`` computes and stores due dates from this package's transition
    hooks, so it sits above ``cases`` and registers its reader here (its ``install``,
    called by ``create_app``) rather than ``cases`` importing it: docs/ARCHITECTURE.md,
    no package-level import cycles. Registering again replaces the reader.
    """
    global _next_deadline_source
    _next_deadline_source = source


async def _next_deadlines(
    tip_ids: Sequence[int], today: dt.date | None = None
) -> Mapping[int, NextDeadlineOut]:
    """Each tip's earliest open due date, from the registered reader (none: no due dates)."""
    if _next_deadline_source is None:
        return {}
    return await _next_deadline_source(tip_ids, today)


def _matches(row: CaseRow, filters: CaseFilter) -> bool:
    if filters.category and row.category != filters.category:
        return False
    if filters.township is not None and row.township_id != filters.township:
        return False
    if filters.officer is not None and row.assigned_officer_id != filters.officer:
        return False
    if filters.deadline:
        state = row.next_deadline.state if row.next_deadline else "none"
        if state != filters.deadline:
            return False
    needle = (filters.q or "").strip().casefold()
    return not needle or needle in row.ledger_no or needle in row.summary.casefold()


PAGE_SIZE = 100
"""Tips on one page of the ledger list (``/cases?page=``)."""
_CHUNK = 1000
"""Tips read at a time: ids go into ``IN (...)`` lists, far below a database's limit."""


class LedgerPage(msgspec.Struct, frozen=True):
    """One page of the tip ledger (1-based ``page``), and whether another follows."""

    rows: list[CaseRow]
    page: int
    page_size: int
    has_next: bool


def _tips_query(filters: CaseFilter, ledger_no: str | None) -> Any:
    """The tips that pass the filters SQL can decide exactly, newest ledger number first.

    ``ledger_no`` is ``YYYY-NNNNNN`` (fixed width), so its unique index gives the order of
    (year, sequence) and a page is read from the index, not by sorting every tip.
    """
    query = Tip.select(Tip.id, Tip.ledger_no, Tip.received_at, Tip.channel, Tip.status).order_by(
        Tip.ledger_no, ascending=False
    )
    if filters.status:
        query = query.where(Tip.status == filters.status)
    if filters.channel:
        query = query.where(Tip.channel == filters.channel)
    if ledger_no is not None:
        query = query.where(Tip.ledger_no == ledger_no)
    for sql, value in (
        ("tip.id IN (SELECT tip FROM case_file WHERE category = {})", filters.category),
        ("tip.id IN (SELECT tip FROM case_file WHERE township = {})", filters.township),
        (
            "tip.id IN (SELECT tip FROM case_file WHERE assigned_officer_id = {})",
            filters.officer,
        ),
    ):
        if value is not None and value != "":
            query = query.where(WhereRaw(sql, value))
    return query


async def _case_rows(
    tips: Sequence[dict[str, Any]], today: dt.date | None, townships: dict[int, str]
) -> list[CaseRow]:
    """The ledger lines of ``tips`` (at most :data:`_CHUNK`), in their order."""
    ids = [int(tip["id"]) for tip in tips]
    if not ids:
        return []
    counts = {
        int(row["tip"]): int(row["count"])
        for row in await TipAttachment.select(TipAttachment.tip, Count())
        .where(TipAttachment.tip.is_in(ids))
        .group_by(TipAttachment.tip)
    }
    files = {int(row["tip"]): row for row in await CaseFile.select().where(CaseFile.tip.is_in(ids))}
    names = await officer_names(
        int(row["assigned_officer_id"])
        for row in files.values()
        if row["assigned_officer_id"] is not None
    )
    deadlines = await _next_deadlines(ids, today)
    result: list[CaseRow] = []
    for tip in tips:
        tip_id = int(tip["id"])
        case_file = files.get(tip_id)
        officer_id = case_file["assigned_officer_id"] if case_file else None
        township_id = case_file["township"] if case_file else None
        result.append(
            CaseRow(
                ledger_no=tip["ledger_no"],
                received_at=intake.hour_text(tip["received_at"]),
                channel=tip["channel"],
                status=tip["status"],
                attachments=counts.get(tip_id, 0),
                category=(case_file["category"] or None) if case_file else None,
                township_id=township_id,
                township=townships.get(township_id) if township_id is not None else None,
                summary=case_file["summary"] if case_file else "",
                assigned_officer_id=officer_id,
                assigned_officer=names.get(officer_id) if officer_id is not None else None,
                merged_into=case_file["merged_into"] if case_file else None,
                next_deadline=deadlines.get(tip_id),
            )
        )
    return result


async def _scan(
    filters: CaseFilter,
    *,
    today: dt.date | None,
    ledger_no: str | None = None,
    skip: int = 0,
    limit: int | None = None,
) -> tuple[list[CaseRow], bool]:
    """The matching ledger lines after the first ``skip`` (``limit`` of them, or all), and
    whether more match.

    Status, channel, category, township and officer are decided in SQL, so without a
    search or a deadline state a page is one ``LIMIT``/``OFFSET`` read. The search (over
    summaries, case-folded) and the deadline state (working days elapsed) are decided
    here, reading the SQL-filtered tips a chunk at a time until the page is full.
    """
    townships = {choice.id: choice.name for choice in await township_choices()}
    in_python = bool(filters.deadline or (filters.q or "").strip())
    if not in_python and limit is not None:
        tips = await _tips_query(filters, ledger_no).offset(skip).limit(limit + 1)
        return await _case_rows(tips[:limit], today, townships), len(tips) > limit
    found: list[CaseRow] = []
    last: str | None = None
    while True:
        query = _tips_query(filters, ledger_no)
        if last is not None:
            query = query.where(Tip.ledger_no < last)
        tips = await query.limit(_CHUNK)
        for row in await _case_rows(tips, today, townships):
            if not _matches(row, filters):
                continue
            if skip:
                skip -= 1
            elif limit is not None and len(found) == limit:
                return found, True
            else:
                found.append(row)
        if len(tips) < _CHUNK:
            return found, False
        last = tips[-1]["ledger_no"]


async def list_cases(
    filters: CaseFilter | None = None,
    *,
    today: dt.date | None = None,
    ledger_no: str | None = None,
) -> list[CaseRow]:
    """The tip ledger by ledger number, newest first: metadata only, nothing is decrypted.

    Filters: status, channel, category, township, assigned officer, deadline state
    (``ok``/``warning``/``overdue``/``none``); ``q`` matches the ledger number or the
    officer's summary. Every matching tip: pages use :func:`list_cases_page`.
    """
    rows, _ = await _scan(filters or CaseFilter(), today=today, ledger_no=ledger_no)
    return rows


async def list_cases_page(
    filters: CaseFilter | None = None,
    page: int = 1,
    *,
    page_size: int | None = None,
    today: dt.date | None = None,
) -> LedgerPage:
    """Page ``page`` (from 1) of :func:`list_cases`, ``page_size`` tips a page (default
    :data:`PAGE_SIZE`)."""
    page, page_size = max(1, page), page_size or PAGE_SIZE
    rows, has_next = await _scan(
        filters or CaseFilter(), today=today, skip=(page - 1) * page_size, limit=page_size
    )
    return LedgerPage(rows=rows, page=page, page_size=page_size, has_next=has_next)


async def case_row(ledger_no: str) -> CaseRow:
    """The ledger line of one tip (the case page's facts; no decryption)."""
    tip = await _tip(ledger_no)
    rows = await list_cases(ledger_no=tip["ledger_no"])
    if not rows:
        raise CaseNotFound()
    return rows[0]


# --- registration and assignment ------------------------------------------------------------


async def _check_officer(officer_id: int) -> str:
    row = (
        await Account.select(Account.display_name)
        .where(
            (Account.id == officer_id)
            & (Account.role == Role.officer.value)
            & (Account.disabled == False)  # noqa: E712
        )
        .first()
    )
    if row is None:
        raise UnknownOfficer(field="officer")
    return str(row["display_name"])


async def _check_township(township_id: int | None) -> None:
    if township_id is None:
        return
    row = await OrgUnit.select(OrgUnit.kind).where(OrgUnit.id == township_id).first()
    if row is None or row["kind"] not in TOWNSHIP_KINDS:
        raise InvalidRegistration("cases.error.unknown_township", field="township")


async def _check_registration(category: str, summary: str, township_id: int | None) -> str:
    """The summary as stored, once category, summary and township are checked."""
    if category not in CATEGORIES:
        raise InvalidRegistration("cases.error.unknown_category", field="category")
    cleaned = summary.strip()
    if not cleaned or len(cleaned) > MAX_SUMMARY_CHARS:
        raise InvalidRegistration("cases.error.summary_required", field="summary")
    await _check_township(township_id)
    return cleaned


async def case_file_out(ledger_no: str) -> CaseFileOut:
    row = await case_row(ledger_no)
    return CaseFileOut(
        ledger_no=row.ledger_no,
        status=row.status,
        category=row.category or "",
        township_id=row.township_id,
        township=row.township,
        summary=row.summary,
        assigned_officer_id=row.assigned_officer_id,
        assigned_officer=row.assigned_officer,
        merged_into=row.merged_into,
    )


async def register(user: CurrentUser, ledger_no: str, data: RegisterBody) -> CaseFileOut:
    """Register a received tip (登记): its CaseFile (category, township, the officer's
    plaintext summary, the assigned officer) is written in the transaction of the
    ``tip.registered`` event (检举控告工作规则 Art. 14: item by item, by named officers)."""
    tip = await _tip(ledger_no)
    reason = _reason(data.reason)
    summary = await _check_registration(data.category, data.summary, data.township_id)
    officer_id = data.assigned_officer_id or user.account_id
    await _check_officer(officer_id)
    tip_id = int(tip["id"])
    async with db.write_transaction():
        # The CaseFile goes in first so that the transition's hooks (due dates, the
        # assigned officer's notifications) see it; a second registration finds the row
        # (or waits for it on PostgreSQL) and writes nothing.
        inserted = (
            await CaseFile.insert(
                CaseFile(
                    tip=tip_id,
                    category=data.category,
                    township=data.township_id,
                    summary=summary,
                    assigned_officer_id=officer_id,
                )
            )
            .on_conflict(action="DO NOTHING")
            .returning(CaseFile.id)
        )
        if not inserted:
            raise TransitionNotAllowed()
        await apply_transition(
            tip_id,
            Action.register,
            Actor.account(user.account_id),
            reason,
            {
                "category": data.category,
                "township_id": data.township_id,
                "assigned_officer_id": officer_id,
            },
        )
    return await case_file_out(ledger_no)


async def correct_registration(
    user: CurrentUser, ledger_no: str, data: RegistrationBody
) -> CaseFileOut:
    """Correct a registration's category, township or summary, recorded as
    ``tip.registration_corrected`` with the names of the changed fields.

    The summary itself is never copied into the ledger (neither here nor at
    registration): a summary that turns out to say too much about the tipster can be
    rewritten without leaving the old text in the permanent record.
    """
    tip = await _tip(ledger_no)
    why = _reason(data.reason)
    summary = await _check_registration(data.category, data.summary, data.township_id)
    tip_id = int(tip["id"])
    async with db.write_transaction():
        current = await CaseFile.select().where(CaseFile.tip == tip_id).first()
        if current is None or not current["category"]:
            raise NotRegistered()
        new = {"category": data.category, "township": data.township_id, "summary": summary}
        changed = sorted(key for key, value in new.items() if current[key] != value)
        if not changed:
            return await case_file_out(ledger_no)
        await CaseFile.update(
            {
                CaseFile.category: data.category,
                CaseFile.township: data.township_id,
                CaseFile.summary: summary,
                CaseFile.updated_at: dt.datetime.now(dt.UTC),
            }
        ).where(CaseFile.tip == tip_id)
        await append_event(
            Actor.account(user.account_id),
            "tip.registration_corrected",
            "tip",
            tip_id,
            {
                "ledger_no": tip["ledger_no"],
                "changed": changed,
                "category": data.category,
                "township_id": data.township_id,
                "reason": why,
            },
        )
    return await case_file_out(ledger_no)


async def assign(user: CurrentUser, ledger_no: str, officer_id: int, reason: str) -> CaseFileOut:
    """Name the officer in charge of a registered tip (指定专人), recorded as ``tip.assigned``."""
    tip = await _tip(ledger_no)
    why = _reason(reason)
    await _check_officer(officer_id)
    tip_id = int(tip["id"])
    async with db.write_transaction():
        current = (
            await CaseFile.select(CaseFile.assigned_officer_id)
            .where(CaseFile.tip == tip_id)
            .first()
        )
        if current is None or tip["status"] == Status.received:
            raise NotRegistered()
        await CaseFile.update(
            {CaseFile.assigned_officer_id: officer_id, CaseFile.updated_at: dt.datetime.now(dt.UTC)}
        ).where(CaseFile.tip == tip_id)
        await append_event(
            Actor.account(user.account_id),
            "tip.assigned",
            "tip",
            tip_id,
            {
                "ledger_no": tip["ledger_no"],
                "from_officer_id": current["assigned_officer_id"],
                "to_officer_id": officer_id,
                "reason": why,
            },
        )
    return await case_file_out(ledger_no)


# --- transitions ----------------------------------------------------------------------------


def _transition_out(done: TransitionDone) -> TransitionOut:
    return TransitionOut(
        ledger_no=done.ledger_no,
        action=done.action.value,
        source=done.source.value,
        target=done.target.value,
        at=minute_text(done.at),
    )


async def _merge_target(tip: dict[str, Any], merge_into: str | None) -> str:
    """Merging (duplicate of another tip) points at an existing tip that is neither the
    tip itself nor merged or voided (so a chain of merges always ends at a live tip)."""
    target_no = (merge_into or "").strip()
    if not LEDGER_NO.fullmatch(target_no) or target_no == tip["ledger_no"]:
        raise InvalidMergeTarget(field="merge_into")
    target = await Tip.select(Tip.id, Tip.status).where(Tip.ledger_no == target_no).first()
    if target is None or target["status"] in (Status.merged, Status.voided):
        raise InvalidMergeTarget(field="merge_into")
    return target_no


async def transition(
    user: CurrentUser, ledger_no: str, action: str, reason: str, merge_into: str | None = None
) -> TransitionOut:
    """Assess, close (after feedback) or merge a tip, each a custody event with its reason.

    Voiding and closing without transfer need a second officer (:func:`request_approval`);
    transfer and feedback are recorded on the transfers pages (``tipline.authorities``).
    """
    tip = await _tip(ledger_no)
    why = _reason(reason)
    try:
        step = Action(action)
    except ValueError:
        raise ActionNotHere() from None
    if step in NEEDS_SECOND_OFFICER:
        raise NeedsApproval()
    if step not in CASE_ACTIONS:
        raise ActionNotHere()
    tip_id = int(tip["id"])
    actor = Actor.account(user.account_id)
    async with db.write_transaction():
        if step is Action.merge:
            target_no = await _merge_target(tip, merge_into)
            done = await apply_transition(tip_id, step, actor, why, {"merged_into": target_no})
            await CaseFile.insert(
                CaseFile(tip=tip_id, category="", merged_into=target_no)
            ).on_conflict(action="DO NOTHING")
            await CaseFile.update(
                {CaseFile.merged_into: target_no, CaseFile.updated_at: dt.datetime.now(dt.UTC)}
            ).where(CaseFile.tip == tip_id)
        else:
            done = await apply_transition(tip_id, step, actor, why)
    return _transition_out(done)


# --- two-person approvals -------------------------------------------------------------------
#
# Voiding a tip and closing one that was never transferred are how a tip could be quietly
# dropped (扣压、隐藏); opening a real-name tipster's identity is how a tipster could be
# exposed to the accused. Each needs a stated reason and a second designated officer, and
# the officer who asked can never be the one who approves (双人审批; 监督执纪工作规则 Art. 23).


async def _approval_rows(where: Any = None, limit: int | None = None) -> list[dict[str, Any]]:
    query = CaseApproval.select(
        *CaseApproval.all_columns(), CaseApproval.tip.ledger_no.as_alias("ledger_no")
    ).order_by(CaseApproval.id, ascending=False)
    if where is not None:
        query = query.where(where)
    if limit is not None:
        query = query.limit(limit)
    return list(await query)


async def _approvals_out(rows: list[dict[str, Any]], user: CurrentUser) -> list[ApprovalOut]:
    names = await officer_names(
        [int(r["requested_by"]) for r in rows]
        + [int(r["decided_by"]) for r in rows if r["decided_by"] is not None]
    )
    return [
        ApprovalOut(
            id=int(row["id"]),
            ledger_no=row["ledger_no"],
            action=row["action"],
            status=row["status"],
            requested_by_id=int(row["requested_by"]),
            requested_by=names.get(int(row["requested_by"]), str(row["requested_by"])),
            requested_at=minute_text(row["requested_at"]),
            reason=row["reason"],
            decided_by_id=row["decided_by"],
            decided_by=names.get(int(row["decided_by"])) if row["decided_by"] else None,
            decided_at=minute_text(row["decided_at"]) or None,
            decision_reason=row["decision_reason"] or "",
            may_decide=row["status"] == "pending" and int(row["requested_by"]) != user.account_id,
        )
        for row in rows
    ]


async def list_approvals(user: CurrentUser, *, decided: int = 50) -> list[ApprovalOut]:
    """Pending requests (oldest first), then the latest ``decided`` ones."""
    pending = await _approval_rows(CaseApproval.status == "pending")
    pending.reverse()
    done = await _approval_rows(CaseApproval.status != "pending", limit=decided)
    return await _approvals_out(pending + done, user)


async def tip_approvals(user: CurrentUser, tip_id: int) -> list[ApprovalOut]:
    return await _approvals_out(await _approval_rows(CaseApproval.tip == tip_id), user)


async def request_approval(
    user: CurrentUser, ledger_no: str, action: str, reason: str
) -> ApprovalOut:
    """Ask a second designated officer to approve voiding, closing without transfer, or
    opening the real-name identity; recorded as ``tip.approval_requested``."""
    tip = await _tip(ledger_no)
    why = _reason(reason)
    try:
        wanted = ApprovalAction(action)
    except ValueError:
        raise ActionNotHere() from None
    if wanted not in REQUESTABLE:
        raise ActionNotHere()
    tip_id = int(tip["id"])
    async with db.write_transaction():
        current = await Tip.select(Tip.status, Tip.has_identity).where(Tip.id == tip_id).first()
        assert current is not None
        if wanted is ApprovalAction.open_identity:
            if not current["has_identity"]:
                raise NoIdentity()
        elif Status(current["status"]) not in TRANSITIONS[Action(wanted.value)].sources:
            raise TransitionNotAllowed()
        pending = await CaseApproval.exists().where(
            (CaseApproval.tip == tip_id)
            & (CaseApproval.action == wanted.value)
            & (CaseApproval.status == "pending")
        )
        if pending:
            raise ApprovalPending()
        rows = await CaseApproval.insert(
            CaseApproval(
                tip=tip_id,
                action=wanted.value,
                status="pending",
                requested_by=user.account_id,
                requested_at=dt.datetime.now(dt.UTC),
                reason=why,
            )
        ).returning(CaseApproval.id)
        approval_id = int(rows[0]["id"])
        await append_event(
            Actor.account(user.account_id),
            "tip.approval_requested",
            "tip",
            tip_id,
            {
                "ledger_no": tip["ledger_no"],
                "approval_id": approval_id,
                "approval_action": wanted.value,
                "reason": why,
            },
        )
    (out,) = await _approvals_out(await _approval_rows(CaseApproval.id == approval_id), user)
    return out


async def _settle_approval(
    user: CurrentUser,
    row: dict[str, Any],
    status: str,
    event: str,
    why: str,
    details: dict[str, Any],
) -> int:
    """Close a pending request (``row``) as ``status`` by ``user`` with a reason, by a
    compare-and-set on ``pending`` (:class:`ApprovalDecided` if someone was first),
    and record ``event`` with ``details`` on its tip; returns the tip's id."""
    approval_id = int(row["id"])
    changed = (
        await CaseApproval.update(
            {
                CaseApproval.status: status,
                CaseApproval.decided_by: user.account_id,
                CaseApproval.decided_at: dt.datetime.now(dt.UTC),
                CaseApproval.decision_reason: why,
            }
        )
        .where((CaseApproval.id == approval_id) & (CaseApproval.status == "pending"))
        .returning(CaseApproval.id)
    )
    if not changed:
        raise ApprovalDecided()
    tip_id = int(row["tip"])
    ledger = await Tip.select(Tip.ledger_no).where(Tip.id == tip_id).first()
    assert ledger is not None
    await append_event(
        Actor.account(user.account_id),
        event,
        "tip",
        tip_id,
        {
            "ledger_no": ledger["ledger_no"],
            "approval_id": approval_id,
            "approval_action": row["action"],
            **details,
            "reason": why,
        },
    )
    return tip_id


async def decide_approval(
    user: CurrentUser, approval_id: int, approve: bool, reason: str
) -> ApprovalOut:
    """A second designated officer approves or refuses a request, with a reason.

    Approving a void or a close without transfer applies that transition in the same
    transaction (``approved=True``); if the tip moved on meanwhile, nothing is written.
    The requester can never decide their own request (:class:`SelfApproval`).
    """
    why = _reason(reason)
    actor = Actor.account(user.account_id)
    async with db.write_transaction():
        row = await CaseApproval.select().where(CaseApproval.id == approval_id).first()
        if row is None:
            raise ApprovalNotFound()
        if int(row["requested_by"]) == user.account_id:
            raise SelfApproval()
        if row["status"] != "pending":
            raise ApprovalDecided()
        tip_id = await _settle_approval(
            user,
            row,
            "approved" if approve else "refused",
            "tip.approval_granted" if approve else "tip.approval_refused",
            why,
            {"requested_by": int(row["requested_by"])},
        )
        if approve and row["action"] in (
            ApprovalAction.void.value,
            ApprovalAction.close_without_transfer.value,
        ):
            await apply_transition(
                tip_id,
                Action(row["action"]),
                actor,
                row["reason"],
                {
                    "approval_id": approval_id,
                    "requested_by": int(row["requested_by"]),
                    "approved_by": user.account_id,
                },
                approved=True,
            )
    (out,) = await _approvals_out(await _approval_rows(CaseApproval.id == approval_id), user)
    return out


async def withdraw_approval(user: CurrentUser, approval_id: int, reason: str) -> ApprovalOut:
    """The requester takes back a pending request (asked by mistake, or no longer
    needed); recorded as ``tip.approval_withdrawn``. Nobody else may withdraw it."""
    why = _reason(reason)
    async with db.write_transaction():
        row = await CaseApproval.select().where(CaseApproval.id == approval_id).first()
        if row is None:
            raise ApprovalNotFound()
        if int(row["requested_by"]) != user.account_id:
            raise NotRequester()
        await _settle_approval(user, row, "withdrawn", "tip.approval_withdrawn", why, {})
    (out,) = await _approvals_out(await _approval_rows(CaseApproval.id == approval_id), user)
    return out


# --- the real-name identity -----------------------------------------------------------------


async def open_identity(
    user: CurrentUser, key: X25519PrivateKey, ledger_no: str, approval_id: int
) -> IdentityOut:
    """Open a real-name tipster's identity once, under this officer's approved request;
    the request becomes ``used`` and the opening is recorded as ``tip.identity_opened``
    in the same transaction (the person accused must never learn who reported them)."""
    tip = await _tip(ledger_no)
    tip_id = int(tip["id"])
    row = (
        await CaseApproval.select()
        .where(
            (CaseApproval.id == approval_id)
            & (CaseApproval.tip == tip_id)
            & (CaseApproval.action == ApprovalAction.open_identity.value)
        )
        .first()
    )
    if row is None:
        raise ApprovalNotFound()
    if row["status"] != "approved" or int(row["requested_by"]) != user.account_id:
        raise NotApproved()
    try:
        identity = await intake.open_tip_identity(tip_id, key, "officer", user.account_id)
    except intake_errors.NotARecipient:
        raise NotARecipient() from None
    if identity is None:
        raise NoIdentity()
    async with db.write_transaction():
        used = (
            await CaseApproval.update({CaseApproval.status: "used"})
            .where((CaseApproval.id == approval_id) & (CaseApproval.status == "approved"))
            .returning(CaseApproval.id)
        )
        if not used:
            raise NotApproved()
        await append_event(
            Actor.account(user.account_id),
            "tip.identity_opened",
            "tip",
            tip_id,
            {
                "ledger_no": tip["ledger_no"],
                "approval_id": approval_id,
                "approved_by": row["decided_by"],
            },
        )
    return IdentityOut(
        ledger_no=tip["ledger_no"],
        approval_id=approval_id,
        name=identity.name,
        contact=identity.contact,
    )


async def identity_history(tip_id: int) -> list[IdentityHistoryEntry]:
    """Every request to open the identity, its decision and its opening, with times."""
    rows = (
        await CaseApproval.select()
        .where(
            (CaseApproval.tip == tip_id)
            & (CaseApproval.action == ApprovalAction.open_identity.value)
        )
        .order_by(CaseApproval.id)
    )
    openings = {
        int(json.loads(event["payload"]).get("approval_id", 0)): event
        for event in await events_for("tip", tip_id)
        if event["action"] == "tip.identity_opened"
    }
    names = await officer_names(
        [int(r["requested_by"]) for r in rows]
        + [int(r["decided_by"]) for r in rows if r["decided_by"] is not None]
        + [int(e["actor_id"]) for e in openings.values() if e["actor_id"]]
    )
    entries: list[IdentityHistoryEntry] = []
    for row in rows:
        approval_id = int(row["id"])
        entries.append(
            IdentityHistoryEntry(
                approval_id=approval_id,
                step="requested",
                at=minute_text(row["requested_at"]),
                officer=names.get(int(row["requested_by"]), ""),
                reason=row["reason"],
            )
        )
        if row["decided_by"] is not None:
            entries.append(
                IdentityHistoryEntry(
                    approval_id=approval_id,
                    step=row["status"] if row["status"] in ("refused", "withdrawn") else "approved",
                    at=minute_text(row["decided_at"]),
                    officer=names.get(int(row["decided_by"]), ""),
                    reason=row["decision_reason"] or "",
                )
            )
        opened = openings.get(approval_id)
        if opened is not None:
            entries.append(
                IdentityHistoryEntry(
                    approval_id=approval_id,
                    step="opened",
                    at=minute_text(opened["occurred_at"]),
                    officer=names.get(int(opened["actor_id"]), ""),
                    reason="",
                )
            )
    return entries


# --- who holds access -----------------------------------------------------------------------
#
# A tip is readable only by the designated officers its data key is sealed to, and by the
# escrow key. Granting access re-seals the key to another designated officer (a newly
# designated one, or one whose key was replaced); revoking removes that officer's sealed
# copies. Both are custody events (检举控告工作规则 Art. 15: 不得扩大知情范围 — the circle
# of those who know is widened only on record). The escrow copy and the last officer's
# copy are never revoked, so no tip becomes unreadable (遗失).


async def access_holders(tip_id: int) -> list[AccessHolder]:
    rows = await TipKey.select(
        TipKey.purpose, TipKey.recipient_kind, TipKey.recipient_id, TipKey.fingerprint
    ).where((TipKey.tip == tip_id) & TipKey.recipient_kind.is_in(["officer", "escrow"]))
    holders: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        entry = holders.setdefault(
            (row["recipient_kind"], row["recipient_id"] or ""),
            {"fingerprint": row["fingerprint"], "purposes": set()},
        )
        entry["purposes"].add(row["purpose"])
    names = await officer_names(int(rid) for kind, rid in holders if kind == "officer" and rid)
    officers = [rid for kind, rid in holders if kind == "officer"]
    result = [
        AccessHolder(
            kind="officer",
            officer_id=int(rid),
            name=names.get(int(rid), rid),
            fingerprint=holders[("officer", rid)]["fingerprint"],
            purposes=sorted(holders[("officer", rid)]["purposes"]),
            revocable=len(officers) > 1,
        )
        for rid in sorted(officers, key=int)
    ]
    result += [
        AccessHolder(
            kind="escrow",
            officer_id=None,
            name="escrow",
            fingerprint=entry["fingerprint"],
            purposes=sorted(entry["purposes"]),
            revocable=False,
        )
        for (kind, _), entry in holders.items()
        if kind == "escrow"
    ]
    return result


async def grant_access(
    user: CurrentUser, key: X25519PrivateKey, ledger_no: str, officer_id: int, reason: str
) -> list[AccessHolder]:
    """Re-seal the tip's data keys (content, and the identity key when the granting
    officer holds it) to another designated officer's current key; ``tip.access_granted``."""
    tip = await _tip(ledger_no)
    tip_id = int(tip["id"])
    why = _reason(reason)
    await _check_officer(officer_id)
    recipients = [r for r in await crypto.active_recipients([officer_id]) if r.kind == "officer"]
    if not recipients:
        raise UnknownOfficer(field="officer")
    (recipient,) = recipients
    keys = {"content": await _content_key(tip_id, user, key)}
    if tip["has_identity"]:
        with contextlib.suppress(intake_errors.NotARecipient):
            keys["identity"] = await intake.tip_data_key(
                tip_id, key, "officer", user.account_id, purpose="identity"
            )
    async with db.write_transaction():
        held = await TipKey.exists().where(
            (TipKey.tip == tip_id)
            & (TipKey.recipient_kind == "officer")
            & (TipKey.recipient_id == str(officer_id))
            & (TipKey.fingerprint == recipient.fingerprint)
            & (TipKey.purpose == "content")
        )
        if held:
            raise AlreadyHoldsAccess()
        rows: list[tuple[Any, ...]] = []
        for purpose, data_key in keys.items():
            rows += intake.tip_key_rows(tip_id, purpose, data_key, [recipient], None)
        await intake.store_tip_keys(rows)
        await append_event(
            Actor.account(user.account_id),
            "tip.access_granted",
            "tip",
            tip_id,
            {
                "ledger_no": tip["ledger_no"],
                "officer_id": officer_id,
                "fingerprint": recipient.fingerprint,
                "purposes": sorted(keys),
                "reason": why,
            },
        )
    return await access_holders(tip_id)


async def revoke_access(
    user: CurrentUser, ledger_no: str, officer_id: int, reason: str
) -> list[AccessHolder]:
    """Remove an officer's sealed copies of the tip's keys; ``tip.access_revoked``.
    Never the escrow's, never the last officer's (:class:`LastOfficer`)."""
    tip = await _tip(ledger_no)
    tip_id = int(tip["id"])
    why = _reason(reason)
    async with db.write_transaction():
        officers = {
            row["recipient_id"]
            for row in await TipKey.select(TipKey.recipient_id).where(
                (TipKey.tip == tip_id)
                & (TipKey.recipient_kind == "officer")
                & (TipKey.purpose == "content")
            )
        }
        if str(officer_id) not in officers:
            raise NoAccessToRevoke()
        if len(officers) <= 1:
            raise LastOfficer()
        removed = (
            await TipKey.delete()
            .where(
                (TipKey.tip == tip_id)
                & (TipKey.recipient_kind == "officer")
                & (TipKey.recipient_id == str(officer_id))
            )
            .returning(TipKey.purpose)
        )
        await append_event(
            Actor.account(user.account_id),
            "tip.access_revoked",
            "tip",
            tip_id,
            {
                "ledger_no": tip["ledger_no"],
                "officer_id": officer_id,
                "purposes": sorted({row["purpose"] for row in removed}),
                "reason": why,
            },
        )
    return await access_holders(tip_id)


# --- the timeline ---------------------------------------------------------------------------

_HIDDEN_DETAILS = frozenset({"ledger_no", "reason"})


def _detail_text(value: Any) -> str:
    """A payload value for the page: hashes and fingerprints cut to 16 characters (the
    full values stay in the ledger and its JSON)."""
    if isinstance(value, (list, tuple)):
        return ", ".join(_detail_text(item) for item in value)
    text = "" if value is None else str(value)
    return text[:16] + "…" if len(text) > 40 and " " not in text else text


async def timeline(tip_id: int) -> list[TimelineEntry]:
    """Every custody event of the tip, oldest first, with actor names and reasons."""
    events = await events_for("tip", tip_id)
    names = await officer_names(
        int(e["actor_id"]) for e in events if e["actor_type"] == "account" and e["actor_id"]
    )
    entries = []
    for event in events:
        payload = json.loads(event["payload"] or "{}")
        if event["actor_type"] == "account" and event["actor_id"]:
            actor = names.get(int(event["actor_id"]), f"#{event['actor_id']}")
        else:
            actor = event["actor_type"]
        entries.append(
            TimelineEntry(
                seq=int(event["seq"]),
                at=minute_text(event["occurred_at"]),
                action=event["action"],
                actor_type=event["actor_type"],
                actor_id=event["actor_id"],
                actor=actor,
                reason=payload.get("reason"),
                details={
                    key: _detail_text(value)
                    for key, value in sorted(payload.items())
                    if key not in _HIDDEN_DETAILS and value is not None
                },
            )
        )
    return entries


class CasePage(msgspec.Struct, frozen=True):
    """Everything the case page shows beside the decrypted tip: metadata only."""

    row: CaseRow
    tip_id: int
    allowed: list[str]
    approvals: list[ApprovalOut]
    identity_history: list[IdentityHistoryEntry]
    access: list[AccessHolder]
    timeline: list[TimelineEntry]
    officers: list[Choice]
    townships: list[Choice]


async def case_page(user: CurrentUser, ledger_no: str) -> CasePage:
    tip = await _tip(ledger_no)
    tip_id = int(tip["id"])
    return CasePage(
        row=await case_row(ledger_no),
        tip_id=tip_id,
        allowed=[action.value for action in allowed_actions(tip["status"])],
        approvals=await tip_approvals(user, tip_id),
        identity_history=await identity_history(tip_id),
        access=await access_holders(tip_id),
        timeline=await timeline(tip_id),
        officers=await officer_choices(),
        townships=await township_choices(),
    )


async def case_page_timeline(ledger_no: str) -> list[TimelineEntry]:
    return await timeline(int((await _tip(ledger_no))["id"]))


async def case_access(ledger_no: str) -> list[AccessHolder]:
    return await access_holders(int((await _tip(ledger_no))["id"]))
