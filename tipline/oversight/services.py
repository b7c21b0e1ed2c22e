"""The discipline inspector's view, supervision notes, the 台账 exports and statistics.

Rules and where they come from:

- 纪检监察机关处理检举控告工作规则 (2020) Art. 14: designated officers register every tip
  item by item in a ledger (逐件登记、建立台账); the Excel 台账 is that ledger, metadata
  only. Art. 15: 不得扩大知情范围，不得复制、摘抄检举控告内容 — so an export *with*
  content is the exception: a second designated officer approves it, it is made once,
  watermarked with the officer's name and the time, and its SHA-256 is recorded.
- 中国共产党纪律检查机关监督执纪工作规则 (2019) Art. 23: every hand-off is recorded for
  inspection (全程登记备查). The inspector reads the custody trail of every case, but
  never its content: no function here opens a tip except :func:`produce_content_export`,
  which needs the approved officer's own key.
- Supervision (督办) by the discipline inspector is itself recorded: a note is a
  custody event ``tip.supervision_note`` whose payload is the note, metadata written on
  purpose by the inspector.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import statistics as stats
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from tipline import db
from tipline.accounts.tables import Account
from tipline.auth import CurrentUser
from tipline.authorities.tables import Authority, Transfer
from tipline.cases.lifecycle import ApprovalAction
from tipline.cases.tables import CaseFile
from tipline.duedates import services as duedates
from tipline.duedates.tables import CaseDeadline
from tipline.intake import exceptions as intake_errors
from tipline.intake.services import open_tip_content
from tipline.intake.tables import Tip
from tipline.ledger import checkpoints
from tipline.ledger.services import Actor, append_event, events_for, verify_chain
from tipline.notifications import services as notifications
from tipline.orgunits.tables import OrgUnit
from tipline.oversight.exceptions import (
    AlreadyDecided,
    CaseNotFound,
    ContentNotOpenable,
    ExportRequestInvalid,
    ExportRequestNotFound,
    NotApproved,
    NoteInvalid,
    NotRequester,
    OwnRequest,
)
from tipline.oversight.schemas import (
    MAX_NOTE_CHARS,
    CaseTrail,
    CheckpointFacts,
    CountItem,
    DeadlineFacts,
    DeadlineState,
    EscalationOut,
    ExportRequestOut,
    LedgerRow,
    OfficerCounts,
    OnTimeRate,
    OversightOverview,
    Statistics,
    TrailEvent,
    TransferFacts,
    VerificationOut,
)
from tipline.oversight.tables import ContentExportRequest, LedgerVerification
from tipline.settings import Settings
from tipline.web.i18n import translate
from tipline.workdays.services import WorkingCalendar, load_calendar

CHINA = ZoneInfo("Asia/Shanghai")
LEDGER_NO = re.compile(r"^\d{4}-\d{6}$")
MAX_EXPORT_TIPS = 500
NOTE_EVENT = "tip.supervision_note"

# Deadline kinds in the order a tip meets them; unknown kinds follow, sorted.
DEADLINE_ORDER = (
    "assess",
    "transfer",
    "first_reply",
    "acceptance_notice",
    "feedback",
    "result_notice",
)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def local_date(moment: dt.datetime) -> dt.date:
    """The day in China of a stored instant (deadlines and months are local)."""
    return _aware(moment).astimezone(CHINA).date()


def local_text(moment: dt.datetime) -> str:
    return _aware(moment).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def _as_date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def label(locale: str, prefix: str, code: str | None, none_key: str) -> str:
    """A code's text in ``locale`` (``prefix + code``), the code itself if unknown."""
    if code is None:
        return translate(locale, none_key)
    key = prefix + code
    text = translate(locale, key)
    return code if text == key else text


def deadline_order(kind: str) -> tuple[int, str]:
    return (
        DEADLINE_ORDER.index(kind) if kind in DEADLINE_ORDER else len(DEADLINE_ORDER),
        kind,
    )


# --- the ledger's metadata ---------------------------------------------------------------


async def account_names(ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return {}
    rows = await Account.select(Account.id, Account.display_name).where(Account.id.is_in(wanted))
    return {int(row["id"]): row["display_name"] for row in rows}


async def _transfers(tip_ids: Sequence[int] | None) -> dict[int, list[TransferFacts]]:
    """The transfers of ``tip_ids`` (None: of every tip, read without an ``IN`` list)."""
    found: dict[int, list[TransferFacts]] = {}
    if tip_ids is not None and not tip_ids:
        return found
    names = {
        int(row["id"]): row["name"] for row in await Authority.select(Authority.id, Authority.name)
    }
    rows = (
        await Transfer.select(
            Transfer.tip,
            Transfer.authority,
            Transfer.document_no,
            Transfer.transferred_on,
            Transfer.acknowledged_on,
            Transfer.feedback_on,
        )
        .where(*([] if tip_ids is None else [Transfer.tip.is_in(list(tip_ids))]))
        .order_by(Transfer.transferred_on)
        .order_by(Transfer.id)
    )
    for row in rows:
        transferred_on = _as_date(row["transferred_on"])
        assert transferred_on is not None
        found.setdefault(int(row["tip"]), []).append(
            TransferFacts(
                authority=names.get(int(row["authority"]), ""),
                document_no=row["document_no"],
                transferred_on=transferred_on,
                acknowledged_on=_as_date(row["acknowledged_on"]),
                feedback_on=_as_date(row["feedback_on"]),
            )
        )
    return found


def deadline_state(due_on: dt.date, met_on: dt.date | None, today: dt.date) -> DeadlineState:
    """``met`` (on or before the due day), ``late``, ``open`` (not yet due) or ``overdue``."""
    if met_on is not None:
        return "met" if met_on <= due_on else "late"
    return "overdue" if today > due_on else "open"


async def _deadlines(
    tip_ids: Sequence[int] | None, today: dt.date
) -> dict[int, list[DeadlineFacts]]:
    """Each tip's stored due dates (``tipline.duedates``), in lifecycle order; a due date
    made moot (the tip closed, merged or voided before the step was needed) is left out.
    ``tip_ids`` None: every tip's, read without an ``IN`` list."""
    found: dict[int, list[DeadlineFacts]] = {}
    if tip_ids is not None and not tip_ids:
        return found
    rows = await CaseDeadline.select(
        CaseDeadline.tip,
        CaseDeadline.kind,
        CaseDeadline.due_on,
        CaseDeadline.outcome,
        CaseDeadline.met_at,
    ).where(
        CaseDeadline.outcome != "moot",
        *([] if tip_ids is None else [CaseDeadline.tip.is_in(list(tip_ids))]),
    )
    for row in rows:
        due_on = _as_date(row["due_on"])
        assert due_on is not None
        met_on = local_date(row["met_at"]) if row["met_at"] else None
        found.setdefault(int(row["tip"]), []).append(
            DeadlineFacts(
                kind=row["kind"],
                due_on=due_on,
                met_on=met_on,
                state=deadline_state(due_on, met_on, today),
            )
        )
    for facts in found.values():
        facts.sort(key=lambda fact: (deadline_order(fact.kind), fact.due_on))
    return found


async def ledger_rows(
    today: dt.date | None = None,
    *,
    tip_id: int | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> list[LedgerRow]:
    """Every tip (or the one ``tip_id``, or ``limit`` tips after the first ``offset``) in
    ledger order with its registration, transfers and due dates."""
    today = today or dt.datetime.now(CHINA).date()
    query = Tip.select(Tip.id, Tip.ledger_no, Tip.received_at, Tip.channel, Tip.status)
    files_query = CaseFile.select(
        CaseFile.tip, CaseFile.category, CaseFile.township, CaseFile.assigned_officer_id
    )
    if tip_id is not None:
        query = query.where(Tip.id == tip_id)
    if limit is None:
        tips = await query.order_by(Tip.ledger_year).order_by(Tip.ledger_seq)
    else:
        # YYYY-NNNNNN is fixed width: its unique index is the ledger order, read a page.
        tips = await query.order_by(Tip.ledger_no).offset(offset).limit(limit)
    ids = [int(tip["id"]) for tip in tips]
    # Every tip: every row, read without an IN list (no limit on the number of tips).
    some: list[int] | None = ids if tip_id is not None or limit is not None else None
    if some is not None:
        files_query = files_query.where(CaseFile.tip.is_in(some or [0]))
    files = {int(row["tip"]): row for row in await files_query}
    townships = {
        int(row["id"]): row["name"]
        for row in await OrgUnit.select(OrgUnit.id, OrgUnit.name).where(
            OrgUnit.id.is_in(
                sorted({int(f["township"]) for f in files.values() if f["township"]}) or [0]
            )
        )
    }
    officers = await account_names(
        f["assigned_officer_id"] for f in files.values() if f["assigned_officer_id"]
    )
    transfers = await _transfers(some)
    deadlines = await _deadlines(some, today)
    rows = []
    for tip in tips:
        tip_id = int(tip["id"])
        case = files.get(tip_id)
        rows.append(
            LedgerRow(
                ledger_no=tip["ledger_no"],
                received_on=local_date(tip["received_at"]),
                received_at=local_text(tip["received_at"]),
                channel=tip["channel"],
                status=tip["status"],
                category=case["category"] if case else None,
                township=townships.get(int(case["township"]))
                if case and case["township"]
                else None,
                assigned_officer=(
                    officers.get(int(case["assigned_officer_id"]))
                    if case and case["assigned_officer_id"]
                    else None
                ),
                transfers=transfers.get(tip_id, []),
                deadlines=deadlines.get(tip_id, []),
            )
        )
    return rows


async def _tip(ledger_no: str) -> dict[str, Any]:
    if not LEDGER_NO.fullmatch(ledger_no):
        raise CaseNotFound()
    row = await Tip.select(Tip.id, Tip.ledger_no).where(Tip.ledger_no == ledger_no).first()
    if row is None:
        raise CaseNotFound()
    return row


# --- the inspector -----------------------------------------------------------------------


async def officer_counts(locale: str, today: dt.date | None = None) -> list[OfficerCounts]:
    """Open due dates per assigned officer: on time, warning, overdue (``tipline.duedates``)."""
    return [
        OfficerCounts(
            officer=row.officer_name or translate(locale, "oversight.unassigned"),
            on_time=row.on_time,
            warning=row.warning,
            overdue=row.overdue,
        )
        for row in await duedates.officer_counts(today=today)
    ]


async def open_escalations() -> list[EscalationOut]:
    """Breached due dates escalated to the inspector and not yet resolved."""
    return [
        EscalationOut(
            ledger_no=row.ledger_no,
            kind=row.kind,
            due_on=row.due_on,
            escalated_at=local_text(row.escalated_at),
            officer=row.officer_name,
        )
        for row in await duedates.open_escalations()
    ]


def _actor_text(locale: str, actor_type: str, actor_id: str | None, names: dict[int, str]) -> str:
    if actor_type == "account" and actor_id is not None:
        return names.get(int(actor_id), f"#{actor_id}")
    return translate(locale, f"oversight.actor.{actor_type}")


def _detail_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


async def case_trail(ledger_no: str, locale: str, today: dt.date | None = None) -> CaseTrail:
    """One case's ledger line and its whole chain of custody — metadata only.

    The events' payloads are metadata by construction (``append_event`` is only ever
    given metadata), so the inspector sees who did what and when, never what the
    tipster wrote.
    """
    tip = await _tip(ledger_no)
    rows = await ledger_rows(today, tip_id=int(tip["id"]))
    events = await events_for("tip", int(tip["id"]))
    names = await account_names(
        int(event["actor_id"])
        for event in events
        if event["actor_type"] == "account" and event["actor_id"]
    )
    trail = []
    for event in events:
        payload = json.loads(event["payload"] or "{}")
        note = payload.pop("note", None) if event["action"] == NOTE_EVENT else None
        payload.pop("ledger_no", None)
        trail.append(
            TrailEvent(
                seq=int(event["seq"]),
                occurred_at=local_text(event["occurred_at"]),
                actor=_actor_text(locale, event["actor_type"], event["actor_id"], names),
                action=event["action"],
                details={key: _detail_text(value) for key, value in sorted(payload.items())},
                note=note,
            )
        )
    return CaseTrail(case=rows[0], events=trail)


def clean_note(text: str) -> str:
    cleaned = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip()
    if not cleaned or len(cleaned) > MAX_NOTE_CHARS:
        raise NoteInvalid(max=MAX_NOTE_CHARS)
    return cleaned


async def add_supervision_note(user: CurrentUser, ledger_no: str, text: str) -> dict[str, Any]:
    """Record a supervision note (督办) on a case as the custody event ``tip.supervision_note``
    and tell the assigned officer in their inbox (without the note: only the ledger no.)."""
    note = clean_note(text)
    tip = await _tip(ledger_no)
    tip_id = int(tip["id"])
    async with db.write_transaction():
        event = await append_event(
            Actor.account(user.account_id),
            NOTE_EVENT,
            "tip",
            tip_id,
            {"ledger_no": tip["ledger_no"], "note": note},
        )
        await _notify_assigned_officer(tip_id, tip["ledger_no"], int(event["seq"]))
    return event


async def _notify_assigned_officer(tip_id: int, ledger_no: str, seq: int) -> None:
    """The assigned officer learns that ledger no. X has a supervision note (the note
    itself stays in the ledger: an inbox or e-mail carries no more than the number)."""
    case = await CaseFile.select(CaseFile.assigned_officer_id).where(CaseFile.tip == tip_id).first()
    if case is None or not case["assigned_officer_id"]:
        return
    await notifications.notify(
        [int(case["assigned_officer_id"])],
        "supervision_note",
        "oversight.notify.note",
        {"ledger_no": ledger_no},
        f"/cases/{ledger_no}",
        dedupe_key=f"supervision-note:{seq}",
    )


# --- ledger verification -----------------------------------------------------------------


async def run_verification(
    settings: Settings, trigger: str, account_id: int | None = None
) -> VerificationOut:
    """Verify the whole chain now and keep the result for the inspector's page."""
    result = await verify_chain(checkpoints.log_verifier(settings))
    async with db.write_transaction():
        await LedgerVerification.insert(
            LedgerVerification(
                trigger=trigger,
                account_id=account_id,
                ok=result.ok,
                events=result.events,
                first_bad_seq=result.first_bad_seq,
                reason=result.reason or "",
                checkpoints=result.checkpoints,
                root=result.root or "",
            )
        )
    last = await last_verification()
    assert last is not None
    return last


async def last_verification() -> VerificationOut | None:
    row = await LedgerVerification.select().order_by(LedgerVerification.id, ascending=False).first()
    if row is None:
        return None
    return VerificationOut(
        ran_at=local_text(row["ran_at"]),
        trigger=row["trigger"],
        ok=bool(row["ok"]),
        events=int(row["events"]),
        first_bad_seq=row["first_bad_seq"],
        reason=row["reason"],
        checkpoints=int(row["checkpoints"]),
    )


def verify_job(settings: Settings) -> Any:
    """The scheduler's hourly verification, so the page shows a fresh result."""

    async def oversight_verify() -> None:
        await run_verification(settings, "scheduler")

    return oversight_verify


CASES_PAGE_SIZE = 100
"""Cases on one page of the inspector's overview (``/oversight?page=``)."""


async def overview(
    locale: str, today: dt.date | None = None, *, page: int = 1
) -> OversightOverview:
    """The inspector's page; its list of cases in ledger order, :data:`CASES_PAGE_SIZE`
    a page (``page`` from 1)."""
    latest = await checkpoints.latest_checkpoint()
    page = max(1, page)
    cases = await ledger_rows(today, offset=(page - 1) * CASES_PAGE_SIZE, limit=CASES_PAGE_SIZE + 1)
    return OversightOverview(
        officers=await officer_counts(locale, today),
        escalations=await open_escalations(),
        cases=cases[:CASES_PAGE_SIZE],
        cases_page=page,
        cases_has_next=len(cases) > CASES_PAGE_SIZE,
        verification=await last_verification(),
        checkpoint=(
            CheckpointFacts(latest.size, latest.root, local_text(latest.created_at))
            if latest
            else None
        ),
    )


# --- the Excel 台账 ----------------------------------------------------------------------


def _kinds(rows: Sequence[LedgerRow]) -> list[str]:
    return sorted({d.kind for row in rows for d in row.deadlines}, key=deadline_order)


def _day(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def ledger_table(rows: Sequence[LedgerRow], locale: str) -> tuple[list[str], list[list[str]]]:
    """The 台账 as header and rows of text, in ledger order (the sheet and its test)."""
    kinds = _kinds(rows)
    t = lambda key, **values: translate(locale, key, **values)  # noqa: E731
    header = [
        t("oversight.col.ledger_no"),
        t("oversight.col.received_on"),
        t("oversight.col.channel"),
        t("oversight.col.category"),
        t("oversight.col.township"),
        t("oversight.col.status"),
        t("oversight.col.authority"),
        t("oversight.col.document_no"),
        t("oversight.col.transferred_on"),
        t("oversight.col.feedback_on"),
    ]
    for kind in kinds:
        name = label(locale, "duedates.kind.", kind, "oversight.none")
        header += [t("oversight.col.due_on", kind=name), t("oversight.col.met", kind=name)]
    table = []
    for row in rows:
        line = [
            row.ledger_no,
            row.received_on.isoformat(),
            label(locale, "cases.channel.", row.channel, "oversight.none"),
            label(locale, "intake.category.", row.category, "oversight.none")
            if row.category
            else "",
            row.township or "",
            label(locale, "cases.status.", row.status, "oversight.none"),
            "; ".join(transfer.authority for transfer in row.transfers),
            "; ".join(transfer.document_no for transfer in row.transfers),
            "; ".join(_day(transfer.transferred_on) for transfer in row.transfers),
            "; ".join(_day(transfer.feedback_on) for transfer in row.transfers),
        ]
        by_kind = {d.kind: d for d in row.deadlines}
        for kind in kinds:
            deadline = by_kind.get(kind)
            line += (
                [deadline.due_on.isoformat(), t(f"oversight.state.{deadline.state}")]
                if deadline
                else ["", ""]
            )
        table.append(line)
    return header, table


def _autosize(sheet: Any, header: Sequence[str], table: Sequence[Sequence[str]]) -> None:
    for index, title in enumerate(header, start=1):
        width = max([len(title), *(len(line[index - 1]) for line in table)], default=8)
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 4, 10), 60)


def _workbook_bytes(workbook: Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def ledger_workbook(rows: Sequence[LedgerRow], locale: str, made_by: str, at: dt.datetime) -> bytes:
    """The 台账 as an .xlsx file: one sheet, one line per tip, metadata only."""
    header, table = ledger_table(rows, locale)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = translate(locale, "oversight.export.sheet")[:31]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for line in table:
        sheet.append(line)
    sheet.freeze_panes = "A2"
    _autosize(sheet, header, table)
    workbook.properties.title = translate(locale, "oversight.export.title")
    workbook.properties.creator = made_by
    workbook.properties.created = at.replace(tzinfo=None)
    return _workbook_bytes(workbook)


class ExportFile:
    """A file made for download: its bytes, name and SHA-256 (as recorded)."""

    def __init__(self, data: bytes, filename: str) -> None:
        self.data = data
        self.filename = filename
        self.sha256 = hashlib.sha256(data).hexdigest()


async def export_ledger(
    user: CurrentUser, locale: str, now: dt.datetime | None = None
) -> ExportFile:
    """The Excel 台账 for download, recorded as ``ledger.exported`` (rows and SHA-256)."""
    now = now or dt.datetime.now(dt.UTC)
    rows = await ledger_rows(local_date(now))
    file = ExportFile(
        ledger_workbook(rows, locale, user.display_name, now),
        f"tip-ledger-{local_date(now).isoformat()}.xlsx",
    )
    async with db.write_transaction():
        await append_event(
            Actor.account(user.account_id),
            "ledger.exported",
            "ledger",
            "tip-ledger",
            {
                "format": "xlsx",
                "rows": len(rows),
                "first": rows[0].ledger_no if rows else None,
                "last": rows[-1].ledger_no if rows else None,
                "sha256": file.sha256,
            },
        )
    return file


# --- exports with content: two officers, one use -----------------------------------------


def parse_ledger_nos(text: str) -> list[str]:
    numbers = [part for part in re.split(r"[\s,，;；]+", text.strip()) if part]
    if not numbers or len(numbers) > MAX_EXPORT_TIPS:
        raise ExportRequestInvalid()
    if any(not LEDGER_NO.fullmatch(number) for number in numbers):
        raise ExportRequestInvalid()
    return sorted(set(numbers))


async def _request_out(rows: Sequence[dict[str, Any]]) -> list[ExportRequestOut]:
    names = await account_names(
        [int(r["requested_by"]) for r in rows]
        + [int(r["decided_by"]) for r in rows if r["decided_by"]]
    )
    return [
        ExportRequestOut(
            id=int(row["id"]),
            status=row["status"],
            ledger_nos=json.loads(row["ledger_nos"]),
            reason=row["reason"],
            requested_by=names.get(int(row["requested_by"]), ""),
            requested_by_id=int(row["requested_by"]),
            requested_at=local_text(row["requested_at"]),
            decided_by=names.get(int(row["decided_by"])) if row["decided_by"] else None,
            decision_reason=row["decision_reason"],
            used_at=local_text(row["used_at"]) if row["used_at"] else None,
            file_sha256=row["file_sha256"],
        )
        for row in rows
    ]


async def export_requests() -> list[ExportRequestOut]:
    rows = await ContentExportRequest.select().order_by(ContentExportRequest.id, ascending=False)
    return await _request_out(rows)


async def _request(request_id: int) -> dict[str, Any]:
    row = await ContentExportRequest.select().where(ContentExportRequest.id == request_id).first()
    if row is None:
        raise ExportRequestNotFound()
    return row


async def request_content_export(user: CurrentUser, ledger_nos: str, reason: str) -> int:
    """Ask for an export of the named tips' content; a second officer must approve it.

    Recorded as ``ledger.content_export_requested`` with the ledger numbers and reason.
    """
    numbers = parse_ledger_nos(ledger_nos)
    reason = reason.strip()
    if not reason or len(reason) > 500:
        raise ExportRequestInvalid()
    known = {
        row["ledger_no"]
        for row in await Tip.select(Tip.ledger_no).where(Tip.ledger_no.is_in(numbers))
    }
    if known != set(numbers):
        raise ExportRequestInvalid()
    async with db.write_transaction():
        rows = await ContentExportRequest.insert(
            ContentExportRequest(
                action=ApprovalAction.export_content.value,
                ledger_nos=json.dumps(numbers),
                reason=reason,
                requested_by=user.account_id,
            )
        ).returning(ContentExportRequest.id)
        request_id = int(rows[0]["id"])
        await append_event(
            Actor.account(user.account_id),
            "ledger.content_export_requested",
            "content_export",
            request_id,
            {"ledger_nos": numbers, "reason": reason},
        )
    return request_id


async def decide_content_export(
    user: CurrentUser, request_id: int, approve: bool, reason: str, now: dt.datetime | None = None
) -> None:
    """A second designated officer approves or refuses a content export (双人审批)."""
    row = await _request(request_id)
    if int(row["requested_by"]) == user.account_id:
        raise OwnRequest()
    reason = reason.strip()[:500]
    status = "approved" if approve else "refused"
    async with db.write_transaction():
        changed = (
            await ContentExportRequest.update(
                {
                    ContentExportRequest.status: status,
                    ContentExportRequest.decided_by: user.account_id,
                    ContentExportRequest.decided_at: now or dt.datetime.now(dt.UTC),
                    ContentExportRequest.decision_reason: reason,
                }
            )
            .where(
                (ContentExportRequest.id == request_id) & (ContentExportRequest.status == "pending")
            )
            .returning(ContentExportRequest.id)
        )
        if not changed:
            raise AlreadyDecided()
        await append_event(
            Actor.account(user.account_id),
            f"ledger.content_export_{status}",
            "content_export",
            request_id,
            {"reason": reason, "requested_by": int(row["requested_by"])},
        )


def watermark_text(locale: str, officer: str, at: dt.datetime) -> str:
    return translate(locale, "oversight.watermark", officer=officer, time=local_text(at))


def content_workbook(
    contents: Sequence[Any], locale: str, officer: str, at: dt.datetime, request_id: int
) -> bytes:
    """The decrypted tips as .xlsx, watermarked on every sheet and in the file properties.

    A copy that leaks names who made it and when (保密纪律): the watermark stands in
    the first row, in every printed page's header and footer and in the document
    properties (author, title, subject, keywords).
    """
    mark = watermark_text(locale, officer, at)
    t = lambda key: translate(locale, key)  # noqa: E731
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = t("oversight.content.sheet")[:31]
    sheet.append([mark])
    sheet["A1"].font = Font(bold=True, color="C00000")
    header = [
        t("oversight.col.ledger_no"),
        t("oversight.col.received_on"),
        t("oversight.col.channel"),
        t("oversight.col.category"),
        t("oversight.content.place"),
        t("oversight.content.occurred"),
        t("oversight.content.who"),
        t("oversight.content.text"),
    ]
    sheet.append(header)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    table = []
    for content in contents:
        fields = content.fields
        place = " ".join(part for part in (fields.township, fields.village) if part)
        line = [
            content.ledger_no,
            content.received_at,
            label(locale, "cases.channel.", content.channel, "oversight.none"),
            label(locale, "intake.category.", fields.category, "oversight.none"),
            place,
            fields.occurred or "",
            fields.who or "",
            fields.content,
        ]
        table.append(line)
        sheet.append(line)
    _autosize(sheet, header, table)
    messages = workbook.create_sheet(t("oversight.content.messages_sheet")[:31])
    messages.append([mark])
    messages["A1"].font = Font(bold=True, color="C00000")
    messages.append(
        [
            t("oversight.col.ledger_no"),
            t("oversight.content.author"),
            t("oversight.content.at"),
            t("oversight.content.text"),
        ]
    )
    for content in contents:
        for message in content.messages:
            messages.append(
                [
                    content.ledger_no,
                    label(locale, "cases.messages.author.", message.author, "oversight.none"),
                    message.created_at,
                    message.text,
                ]
            )
    for each in workbook.worksheets:
        each.oddHeader.center.text = mark
        each.evenHeader.center.text = mark
        each.oddFooter.center.text = mark
        each.evenFooter.center.text = mark
    workbook.properties.creator = officer
    workbook.properties.lastModifiedBy = officer
    workbook.properties.title = t("oversight.content.title")
    workbook.properties.subject = mark
    workbook.properties.keywords = f"content-export-{request_id}"
    workbook.properties.description = mark
    workbook.properties.created = at.replace(tzinfo=None)
    return _workbook_bytes(workbook)


async def produce_content_export(
    user: CurrentUser,
    key: X25519PrivateKey,
    request_id: int,
    locale: str,
    now: dt.datetime | None = None,
) -> ExportFile:
    """Make the approved export once, with the requesting officer's own session key.

    Every tip is opened before anything is written; then, in one transaction, the
    approval is spent (compare-and-set ``approved`` → ``used``, so two clicks cannot
    both export) and ``ledger.content_exported`` records the ledger numbers and the
    file's SHA-256, with a ``tip.content_exported`` event on each tip's own trail.
    """
    now = now or dt.datetime.now(dt.UTC)
    row = await _request(request_id)
    if int(row["requested_by"]) != user.account_id:
        raise NotRequester()
    if row["status"] != "approved":
        raise NotApproved()
    numbers: list[str] = json.loads(row["ledger_nos"])
    tips = {
        row["ledger_no"]: int(row["id"])
        for row in await Tip.select(Tip.id, Tip.ledger_no).where(Tip.ledger_no.is_in(numbers))
    }
    contents = []
    for number in numbers:
        try:
            contents.append(await open_tip_content(tips[number], key, "officer", user.account_id))
        except intake_errors.NotARecipient:
            raise ContentNotOpenable(ledger_no=number) from None
    file = ExportFile(
        content_workbook(contents, locale, user.display_name, now, request_id),
        f"tip-content-{request_id}-{local_date(now).isoformat()}.xlsx",
    )
    async with db.write_transaction():
        spent = (
            await ContentExportRequest.update(
                {
                    ContentExportRequest.status: "used",
                    ContentExportRequest.used_at: now,
                    ContentExportRequest.file_sha256: file.sha256,
                }
            )
            .where(
                (ContentExportRequest.id == request_id)
                & (ContentExportRequest.status == "approved")
            )
            .returning(ContentExportRequest.id)
        )
        if not spent:
            raise NotApproved()
        actor = Actor.account(user.account_id)
        await append_event(
            actor,
            "ledger.content_exported",
            "ledger",
            "tip-ledger",
            {"request": request_id, "ledger_nos": numbers, "sha256": file.sha256},
        )
        for number in numbers:
            await append_event(
                actor,
                "tip.content_exported",
                "tip",
                tips[number],
                {"ledger_no": number, "request": request_id, "sha256": file.sha256},
            )
    return file


# --- statistics --------------------------------------------------------------------------


def working_days_between(calendar: WorkingCalendar, start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 for the same day):
    the count a deadline of N working days is measured in."""
    if end <= start:
        return 0
    return sum(
        1
        for offset in range(1, (end - start).days + 1)
        if calendar.is_working_day(start + dt.timedelta(days=offset))
    )


def _median(values: Sequence[int]) -> float | None:
    return float(stats.median(values)) if values else None


def _month_range(months: Counter[str]) -> list[str]:
    """Every month from the first to the last with a tip, so a quiet month shows as 0."""
    if not months:
        return []
    first, last = min(months), max(months)
    year, month = int(first[:4]), int(first[5:])
    found = []
    while f"{year:04d}-{month:02d}" <= last:
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def compute_statistics(
    rows: Sequence[LedgerRow], calendar: WorkingCalendar, locale: str
) -> Statistics:
    """The numbers of the statistics page from the ledger's metadata (pure, for tests)."""
    months = Counter(row.received_on.strftime("%Y-%m") for row in rows)
    categories = Counter(
        label(locale, "intake.category.", row.category, "oversight.unregistered") for row in rows
    )
    townships = Counter(row.township or translate(locale, "oversight.none") for row in rows)
    to_transfer = [
        working_days_between(calendar, row.received_on, row.transfers[0].transferred_on)
        for row in rows
        if row.transfers
    ]
    to_feedback = []
    for row in rows:
        answered = next((t for t in row.transfers if t.feedback_on is not None), None)
        if answered is not None and answered.feedback_on is not None:
            to_feedback.append(
                working_days_between(calendar, answered.transferred_on, answered.feedback_on)
            )
    on_time: dict[str, list[int]] = {}
    for row in rows:
        for deadline in row.deadlines:
            counts = on_time.setdefault(deadline.kind, [0, 0])
            if deadline.state == "met":
                counts[0] += 1
            elif deadline.state in ("late", "overdue"):
                counts[1] += 1
    rates = [
        OnTimeRate(
            kind=kind,
            on_time=good,
            late=bad,
            rate=round(good / (good + bad), 4) if good + bad else None,
        )
        for kind, (good, bad) in sorted(on_time.items(), key=lambda item: deadline_order(item[0]))
    ]
    return Statistics(
        total=len(rows),
        per_month=[CountItem(month, months[month]) for month in _month_range(months)],
        per_category=[CountItem(name, n) for name, n in categories.most_common()],
        per_township=[CountItem(name, n) for name, n in townships.most_common()],
        median_days_to_transfer=_median(to_transfer),
        transfers_counted=len(to_transfer),
        median_days_to_feedback=_median(to_feedback),
        feedbacks_counted=len(to_feedback),
        on_time=rates,
    )


async def statistics(locale: str, today: dt.date | None = None) -> Statistics:
    return compute_statistics(await ledger_rows(today), await load_calendar(), locale)
