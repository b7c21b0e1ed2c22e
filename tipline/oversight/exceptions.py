"""What oversight refuses; each maps to a 4xx with a message in both languages."""

from __future__ import annotations

from tipline.errors import Conflict, Forbidden, Invalid, NotFound


class CaseNotFound(NotFound):
    """No tip under this ledger number."""

    message_key = "oversight.error.case_not_found"


class OversightInvalid(Invalid):
    """The root of the oversight pages' refusals of what was typed."""


class NoteInvalid(OversightInvalid):
    """A supervision note must say something and stay short (it is metadata, kept forever)."""

    message_key = "oversight.error.note_invalid"


class ExportRequestInvalid(OversightInvalid):
    """A content export needs a reason and at least one known ledger number."""

    message_key = "oversight.error.export_request_invalid"


class ExportRequestNotFound(NotFound):
    message_key = "oversight.error.export_request_not_found"


class OwnRequest(Forbidden):
    """The second officer must be a different person from the one who asked."""

    message_key = "oversight.error.own_request"


class NotRequester(Forbidden):
    """Only the officer who asked (and was approved) may produce the export."""

    message_key = "oversight.error.not_requester"


class NotApproved(Conflict):
    """The request is pending, refused or already used: no export without a fresh approval."""

    message_key = "oversight.error.not_approved"


class AlreadyDecided(Conflict):
    message_key = "oversight.error.already_decided"


class ContentNotOpenable(Forbidden):
    """One of the tips was not sealed to this officer's key, so the export cannot be made."""

    message_key = "oversight.error.not_a_recipient"
