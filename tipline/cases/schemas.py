"""What the officer side shows: tip metadata for the list, a tip opened for a session."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from tipline.cases.exceptions import ActionNotHere
from tipline.intake.schemas import MAX_MESSAGE_CHARS, MessageOut, TipFields


class NextDeadlineOut(msgspec.Struct, frozen=True):
    """The nearest due date of a tip (from ``tipline.duedates``), coloured by ``state``."""

    kind: str
    due_on: dt.date
    state: Literal["ok", "warning", "overdue"]


class CaseRow(msgspec.Struct, frozen=True):
    """One line of the tip ledger: metadata only, nothing decrypted."""

    ledger_no: str
    received_at: str
    channel: str
    status: str
    attachments: int
    category: str | None = None
    township_id: int | None = None
    township: str | None = None
    summary: str = ""
    assigned_officer_id: int | None = None
    assigned_officer: str | None = None
    merged_into: str | None = None
    next_deadline: NextDeadlineOut | None = None


class CaseAttachment(msgspec.Struct, frozen=True):
    number: int
    uid: str
    media_type: str
    size: int
    removed: list[str]
    filename: str
    inline: bool


class CaseView(msgspec.Struct, frozen=True):
    """A tip opened with the officer's session key. The real-name section is not opened
    here: ``has_identity`` only says that one was sealed apart."""

    ledger_no: str
    channel: str
    status: str
    received_at: str
    fields: TipFields
    has_identity: bool
    attachments: list[CaseAttachment]
    messages: list[MessageOut]


class CaseFile(msgspec.Struct, frozen=True):
    filename: str
    media_type: str
    data: bytes
    inline: bool


class ReplyBody(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_MESSAGE_CHARS)]


class ReplySent(msgspec.Struct, frozen=True):
    message_id: int


MAX_SUMMARY_CHARS = 200
MAX_REASON_CHARS = 2000
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_REASON_CHARS)]
DeadlineState = Literal["ok", "warning", "overdue", "none"]


class CaseFilter(msgspec.Struct, frozen=True):
    """The ledger's filters; ``q`` searches ledger numbers and officers' summaries only."""

    status: str | None = None
    channel: str | None = None
    category: str | None = None
    township: int | None = None
    officer: int | None = None
    deadline: DeadlineState | None = None
    q: str | None = None


class Choice(msgspec.Struct, frozen=True):
    id: int
    name: str


class RegisterBody(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """``POST /api/v1/cases/{ledger_no}/register``: the officer's registration (登记).

    ``summary`` is plaintext metadata shown in the ledger and its exports: it must not
    say who the tipster is. ``assigned_officer_id`` defaults to the registering officer.
    """

    category: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    summary: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_SUMMARY_CHARS)]
    reason: Reason
    township_id: int | None = None
    assigned_officer_id: int | None = None


class RegistrationBody(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """``POST /api/v1/cases/{ledger_no}/registration``: correct category, township or
    summary of a registered tip (the whole registration is sent again)."""

    category: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    summary: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_SUMMARY_CHARS)]
    reason: Reason
    township_id: int | None = None


class CaseFileOut(msgspec.Struct, frozen=True):
    ledger_no: str
    status: str
    category: str
    township_id: int | None
    township: str | None
    summary: str
    assigned_officer_id: int | None
    assigned_officer: str | None
    merged_into: str | None


class AssignBody(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    officer_id: int
    reason: Reason


class TransitionBody(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """``POST /api/v1/cases/{ledger_no}/transitions``: ``assess``, ``close`` or ``merge``
    (with ``merge_into``). Registering, voiding and closing without transfer have their
    own routes; transfers and feedback belong to ``/cases/{ledger_no}/transfers``."""

    action: str
    reason: Reason
    merge_into: str | None = None


class TransitionOut(msgspec.Struct, frozen=True):
    ledger_no: str
    action: str
    source: str
    target: str
    at: str


class ApprovalRequestBody(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """``POST /api/v1/cases/{ledger_no}/approvals``: ``void``, ``close_without_transfer``
    or ``open_identity``, with the reason a second officer will judge."""

    action: str
    reason: Reason


class DecisionBody(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    approve: bool
    reason: Reason


class ApprovalOut(msgspec.Struct, frozen=True):
    id: int
    ledger_no: str
    action: str
    status: str
    requested_by_id: int
    requested_by: str
    requested_at: str
    reason: str
    decided_by_id: int | None
    decided_by: str | None
    decided_at: str | None
    decision_reason: str
    may_decide: bool


class TimelineEntry(msgspec.Struct, frozen=True):
    """One custody event of a tip, with who did it and why (no content)."""

    seq: int
    at: str
    action: str
    actor_type: str
    actor_id: str | None
    actor: str
    reason: str | None
    details: dict[str, str]


class AccessHolder(msgspec.Struct, frozen=True):
    kind: Literal["officer", "escrow"]
    officer_id: int | None
    name: str
    fingerprint: str
    purposes: list[str]
    revocable: bool


class GrantBody(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    officer_id: int
    reason: Reason


class RevokeBody(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    reason: Reason


class IdentityOut(msgspec.Struct, frozen=True):
    """The real-name section, opened once under an approved request."""

    ledger_no: str
    approval_id: int
    name: str
    contact: str


class IdentityHistoryEntry(msgspec.Struct, frozen=True):
    """One step of a real-name request: ``requested``, ``approved``, ``refused``,
    ``opened`` (GlobaLeaks #3210: the history of requests and denials, with times)."""

    approval_id: int
    step: str
    at: str
    officer: str
    reason: str


# The case pages' forms. A page's form posts text (an empty select is ""), so each
# field is a string with a default and the refused form is shown back as typed; each
# derives the API's body above, and the page and the API hand the services the same.


def _id(text: str) -> int | None:
    """An id as a select posts it ("" for none, anything else not a number for none)."""
    text = text.strip()
    return int(text) if text.isdigit() else None


class ReplyForm(msgspec.Struct, frozen=True):
    text: str = ""

    def body(self) -> ReplyBody:
        return ReplyBody(text=self.text)


class RegisterForm(msgspec.Struct, frozen=True):
    """The registration form (register, and correct a registration: no officer)."""

    category: str = ""
    township: str = ""
    summary: str = ""
    officer: str = ""
    reason: str = ""

    def register(self) -> RegisterBody:
        return RegisterBody(
            category=self.category,
            summary=self.summary,
            reason=self.reason,
            township_id=_id(self.township),
            assigned_officer_id=_id(self.officer),
        )

    def registration(self) -> RegistrationBody:
        return RegistrationBody(
            category=self.category,
            summary=self.summary,
            reason=self.reason,
            township_id=_id(self.township),
        )


class OfficerForm(msgspec.Struct, frozen=True):
    """An officer chosen with a reason: assign the tip, grant access to it."""

    officer: str = ""
    reason: str = ""

    def assign(self) -> AssignBody:
        return AssignBody(officer_id=_id(self.officer) or 0, reason=self.reason)

    def grant(self) -> GrantBody:
        return GrantBody(officer_id=_id(self.officer) or 0, reason=self.reason)


class TransitionForm(msgspec.Struct, frozen=True):
    action: str = ""
    reason: str = ""
    merge_into: str = ""

    def body(self) -> TransitionBody:
        return TransitionBody(
            action=self.action, reason=self.reason, merge_into=self.merge_into or None
        )


class ApprovalForm(msgspec.Struct, frozen=True):
    action: str = ""
    reason: str = ""

    def body(self) -> ApprovalRequestBody:
        return ApprovalRequestBody(action=self.action, reason=self.reason)


class DecisionForm(msgspec.Struct, frozen=True):
    decision: str = ""
    reason: str = ""

    def body(self) -> DecisionBody:
        if self.decision not in ("approve", "refuse"):
            raise ActionNotHere(field="decision")
        return DecisionBody(approve=self.decision == "approve", reason=self.reason)


class ReasonForm(msgspec.Struct, frozen=True):
    """A reason alone: withdraw a request, revoke an officer's access."""

    reason: str = ""

    def body(self) -> RevokeBody:
        return RevokeBody(reason=self.reason)
