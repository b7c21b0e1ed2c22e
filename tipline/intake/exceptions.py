"""What the tip box refuses; each maps to a 4xx (or 503) with a message in both languages.

A wrong receipt and a receipt that never existed raise the same :class:`WrongReceipt`,
so an answer never tells whether a receipt exists.
"""

from __future__ import annotations

from tipline.errors import DomainError, Forbidden, Invalid, NotFound


class TipBoxClosed(DomainError):
    """No escrow key or no designated officer key yet: a tip could not be sealed."""

    status_code = 503
    message_key = "intake.error.tip_box_closed"


class IntakeInvalid(Invalid):
    """The root of the tip box's refusals of what was typed (or posted)."""

    message_key = "intake.error.invalid"


class InvalidTip(IntakeInvalid):
    """A field of the form is missing, too long or names an unknown place."""

    message_key = "intake.error.invalid"


class PayloadTooLarge(DomainError):
    """A file, the files of one tip, or the form fields are over their limit."""

    status_code = 413
    message_key = "intake.error.too_large"


class BadForm(IntakeInvalid):
    """The request body is not a form this route reads."""

    message_key = "intake.error.bad_form"


class WrongReceipt(Forbidden):
    """The receipt matches no tip (wrong, mistyped or never issued: the same answer)."""

    message_key = "intake.error.wrong_receipt"


class TooManyTries(DomainError):
    status_code = 429
    message_key = "intake.error.too_many_tries"


class TooManySubmissions(DomainError):
    status_code = 429
    message_key = "intake.error.too_many_submissions"


class TipsterSessionEnded(Forbidden):
    """No tipster session (not signed in with a receipt, expired, or signed out)."""

    message_key = "intake.error.session_ended"


class TipNotFound(NotFound):
    message_key = "intake.error.tip_not_found"


class NotARecipient(Forbidden):
    """This key holds no sealed copy of the tip's data key."""

    message_key = "intake.error.not_a_recipient"
