"""What oversight shows: ledger metadata, custody trails, exports and statistics.

Nothing here ever holds tip content except :class:`ContentRow`, which only lives in
memory while an approved content export is written.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

MAX_NOTE_CHARS = 500

DeadlineState = Literal["met", "late", "open", "overdue"]


class TransferFacts(msgspec.Struct, frozen=True):
    """One transfer of a tip as the ledger shows it (metadata recorded by the officer)."""

    authority: str
    document_no: str
    transferred_on: dt.date
    acknowledged_on: dt.date | None
    feedback_on: dt.date | None


class DeadlineFacts(msgspec.Struct, frozen=True):
    """One due date of a tip: ``met`` on time, ``late``, still ``open``, or ``overdue``."""

    kind: str
    due_on: dt.date
    met_on: dt.date | None
    state: DeadlineState


class LedgerRow(msgspec.Struct, frozen=True):
    """One line of the 台账: metadata only, nothing decrypted."""

    ledger_no: str
    received_on: dt.date
    received_at: str
    channel: str
    status: str
    category: str | None
    township: str | None
    assigned_officer: str | None
    transfers: list[TransferFacts]
    deadlines: list[DeadlineFacts]


class TrailEvent(msgspec.Struct, frozen=True):
    """One custody event of a case as the inspector sees it (its metadata payload)."""

    seq: int
    occurred_at: str
    actor: str
    action: str
    details: dict[str, str]
    note: str | None = None


class CaseTrail(msgspec.Struct, frozen=True):
    """A case for the inspector: its ledger line and every custody event, no content."""

    case: LedgerRow
    events: list[TrailEvent]


class OfficerCounts(msgspec.Struct, frozen=True):
    """How one officer's open due dates stand."""

    officer: str
    on_time: int
    warning: int
    overdue: int


class EscalationOut(msgspec.Struct, frozen=True):
    ledger_no: str
    kind: str
    due_on: dt.date
    escalated_at: str
    officer: str | None


class VerificationOut(msgspec.Struct, frozen=True):
    """The last ``verify_chain`` run, kept by the scheduler or an inspector's button."""

    ran_at: str
    trigger: str
    ok: bool
    events: int
    first_bad_seq: int | None
    reason: str
    checkpoints: int


class CheckpointFacts(msgspec.Struct, frozen=True):
    size: int
    root: str
    signed_at: str


class OversightOverview(msgspec.Struct, frozen=True):
    """What the inspector's page shows."""

    officers: list[OfficerCounts]
    escalations: list[EscalationOut]
    cases: list[LedgerRow]
    verification: VerificationOut | None
    checkpoint: CheckpointFacts | None
    cases_page: int = 1
    """``cases`` is this page (from 1) of every case in ledger order."""
    cases_has_next: bool = False


class NoteBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(max_length=4 * MAX_NOTE_CHARS)]


class NoteAdded(msgspec.Struct, frozen=True):
    seq: int
    ledger_no: str


class ExportRequestBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    ledger_nos: Annotated[str, msgspec.Meta(max_length=20000)]
    reason: Annotated[str, msgspec.Meta(max_length=2000)]


class DecisionBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    approve: bool
    reason: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class ExportRequestOut(msgspec.Struct, frozen=True):
    """A request to export content and where it stands."""

    id: int
    status: str
    ledger_nos: list[str]
    reason: str
    requested_by: str
    requested_by_id: int
    requested_at: str
    decided_by: str | None
    decision_reason: str
    used_at: str | None
    file_sha256: str


class CountItem(msgspec.Struct, frozen=True):
    label: str
    count: int


class OnTimeRate(msgspec.Struct, frozen=True):
    """Of a deadline kind's due dates already decided: how many were met on time."""

    kind: str
    on_time: int
    late: int
    rate: float | None


class Statistics(msgspec.Struct, frozen=True):
    """The statistics page's numbers (the JSON mirror returns exactly this)."""

    total: int
    per_month: list[CountItem]
    per_category: list[CountItem]
    per_township: list[CountItem]
    median_days_to_transfer: float | None
    transfers_counted: int
    median_days_to_feedback: float | None
    feedbacks_counted: int
    on_time: list[OnTimeRate]


# The pages' forms: text with defaults (a refused form is shown back as typed), each
# deriving the API's body above.


class NoteForm(msgspec.Struct, frozen=True):
    text: str = ""

    def body(self) -> NoteBody:
        return NoteBody(text=self.text)


class ExportRequestForm(msgspec.Struct, frozen=True):
    ledger_nos: str = ""
    reason: str = ""

    def body(self) -> ExportRequestBody:
        return ExportRequestBody(ledger_nos=self.ledger_nos, reason=self.reason)


class DecisionForm(msgspec.Struct, frozen=True):
    decision: str = ""
    reason: str = ""

    def body(self) -> DecisionBody:
        return DecisionBody(approve=self.decision == "approve", reason=self.reason)
