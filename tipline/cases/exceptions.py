"""What the officer side refuses; each maps to a 4xx with a message in both languages."""

from __future__ import annotations

from tipline.errors import Conflict, Forbidden, NotFound


class CaseNotFound(NotFound):
    """No tip (or no attachment of it) under this ledger number."""

    message_key = "cases.error.not_found"


class KeyLocked(Forbidden):
    """This session holds no unlocked officer key: the ``tipline_key`` cookie is missing,
    altered, or belongs to a session that ended. Signing in again unlocks it."""

    message_key = "cases.error.key_locked"


class NotARecipient(Forbidden):
    """The tip was sealed before this officer's key existed (or before it was replaced);
    another designated officer must grant access (the case-handling issue)."""

    message_key = "cases.error.not_a_recipient"


class TransitionNotAllowed(Conflict):
    """The tip's status does not allow this step (it moved on, or the step needs a
    second designated officer's approval first)."""

    message_key = "cases.error.transition_not_allowed"
