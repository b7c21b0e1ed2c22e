"""What the officer side refuses; each maps to a 4xx with a message in both languages."""

from __future__ import annotations

from tipline.errors import Conflict, Forbidden, Invalid, NotFound


class CaseInvalid(Invalid):
    """The root of the case pages' refusals of what was typed."""

    message_key = "error.bad_request"


class CaseNotFound(NotFound):
    """No tip (or no attachment of it) under this ledger number."""

    message_key = "cases.error.not_found"


class KeyLocked(Forbidden):
    """This session holds no unlocked officer key: the ``tipline_key`` cookie is missing,
    altered, or belongs to a session that ended. Signing in again unlocks it."""

    message_key = "cases.error.key_locked"
    page = "cases/locked.html"  # a browser gets the way out: sign in again


class NotARecipient(Forbidden):
    """The tip was sealed before this officer's key existed (or before it was replaced);
    another designated officer must grant access (the case-handling issue)."""

    message_key = "cases.error.not_a_recipient"


class TransitionNotAllowed(Conflict):
    """The tip's status does not allow this step (it moved on, or the step needs a
    second designated officer's approval first)."""

    message_key = "cases.error.transition_not_allowed"


class ReasonRequired(CaseInvalid):
    """Every step of a tip is signed with a reason (监督执纪工作规则 Art. 23)."""

    message_key = "cases.error.reason_required"


class InvalidRegistration(CaseInvalid):
    """A registration field is missing or unknown (category, township, summary, officer)."""

    message_key = "cases.error.invalid_registration"


class NotRegistered(Conflict):
    """The step needs the tip's registration (CaseFile) first."""

    message_key = "cases.error.not_registered"


class NeedsApproval(Conflict):
    """Voiding and closing without transfer are requested, then approved by a second officer."""

    message_key = "cases.error.needs_approval"


class ActionNotHere(CaseInvalid):
    """An action this page does not carry out (transfer and feedback have their own pages)."""

    message_key = "cases.error.action_not_here"


class InvalidMergeTarget(CaseInvalid):
    """A tip merges into another existing, open-or-handled tip: not itself, not a merged
    or voided one."""

    message_key = "cases.error.invalid_merge_target"


class ApprovalNotFound(NotFound):
    message_key = "cases.error.approval_not_found"


class ApprovalPending(Conflict):
    """The same request for this tip is already waiting for a second officer."""

    message_key = "cases.error.approval_pending"


class ApprovalDecided(Conflict):
    """The request was decided (or used) already, possibly by another officer just now."""

    message_key = "cases.error.approval_decided"


class SelfApproval(Forbidden):
    """Two-person rule: whoever requested may not approve or refuse their own request."""

    message_key = "cases.error.self_approval"


class NotApproved(Forbidden):
    """Opening a real-name identity needs an approved request of this officer, used once."""

    message_key = "cases.error.not_approved"


class NoIdentity(Conflict):
    """An anonymous tip has no real-name section to open."""

    message_key = "cases.error.no_identity"


class UnknownOfficer(CaseInvalid):
    """Not an active designated officer with a key."""

    message_key = "cases.error.unknown_officer"


class AlreadyHoldsAccess(Conflict):
    message_key = "cases.error.already_holds_access"


class NoAccessToRevoke(Conflict):
    message_key = "cases.error.no_access_to_revoke"


class LastOfficer(Conflict):
    """Revoking would leave the tip readable by the escrow key alone: refused so that no
    tip is withheld from every designated officer (扣压)."""

    message_key = "cases.error.last_officer"


class NotRequester(Forbidden):
    """Only the officer who asked may withdraw a request."""

    message_key = "cases.error.not_requester"
