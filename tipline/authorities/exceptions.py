"""What the authority registry and transfers refuse; each maps to a 4xx in both languages."""

from __future__ import annotations

from tipline.errors import Conflict, Invalid, NotFound


class AuthorityNotFound(NotFound):
    message_key = "authorities.error.not_found"


class DuplicateAuthority(Conflict):
    message_key = "authorities.error.duplicate_name"


class AuthoritiesInvalid(Invalid):
    """The root of the registry's and the transfers' refusals of what was typed."""

    message_key = "authorities.error.form"


class FormInvalid(AuthoritiesInvalid):
    """A form's field not of its kind (a date, a number, a choice): ``field=`` names it."""

    message_key = "authorities.error.form"


class BadPublicKey(AuthoritiesInvalid):
    """Not an X25519 public key as 64 hex digits or a PEM ``PUBLIC KEY`` block."""

    message_key = "authorities.error.bad_key"


class InactiveAuthority(Conflict):
    """The authority no longer takes transfers (made inactive in the registry)."""

    message_key = "authorities.error.inactive"


class TransferNotFound(NotFound):
    message_key = "authorities.error.transfer_not_found"


class DuplicateDocumentNo(Conflict):
    """This authority already received a transfer under this document number (移送函号)."""

    message_key = "authorities.error.duplicate_document_no"


class BadDate(AuthoritiesInvalid):
    """A date in the future, or before the transfer it answers."""

    message_key = "authorities.error.bad_date"


class AlreadyAcknowledged(Conflict):
    """Already acknowledged (acknowledgement is recorded once)."""

    message_key = "authorities.error.already_acknowledged"


class FeedbackAlreadyRecorded(Conflict):
    message_key = "authorities.error.feedback_recorded"


class ReplyLinkGone(NotFound):
    """The one-time link was used already or has expired."""

    status_code = 410
    message_key = "authorities.error.link_gone"


class ReplyLinkNotFound(NotFound):
    message_key = "authorities.error.link_not_found"


class FontMissing(AuthoritiesInvalid):
    """No CJK font to draw the transfer package with (install fonts-wqy-microhei or set
    ``TIPLINE_PDF_FONT``)."""

    status_code = 503
    message_key = "authorities.error.font_missing"


class BadPackage(AuthoritiesInvalid):
    """Not a sealed transfer package, or not sealed to this key, or altered."""

    message_key = "authorities.error.bad_package"


class MissingField(AuthoritiesInvalid):
    """A required field holds only spaces."""

    message_key = "authorities.error.required"
