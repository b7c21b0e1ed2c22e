"""The root of every domain's exception hierarchy.

Services raise subclasses of :class:`DomainError`; one handler in
``tipline.web.refusals`` turns them into a 4xx answer in the user's language (a JSON
body under ``/api``; elsewhere the page of the refused form again, with what was typed
and the message beside its field, see ``tipline.web.forms``, or an error page). A
message is a key of the message catalogue (``tipline/web/locales/*.json``) plus named
values, never free text, so every error reads in Chinese and in English. A refusal
about one field names it: ``raise MissingField(field="name")``.

Each package keeps its refusals in its ``exceptions.py``, every one a subclass of
:class:`Invalid`, :class:`NotFound`, :class:`Forbidden` or :class:`Conflict` (the
status code comes from there).
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """A request the rules refuse; never a bug."""

    status_code: ClassVar[int] = 400
    message_key: ClassVar[str] = "error.bad_request"
    # The template a browser is shown instead of the error page (or a refused form's
    # page), when the refusal has its own way out (a locked key: sign in again).
    page: ClassVar[str | None] = None

    def __init__(self, message_key: str | None = None, /, **values: Any) -> None:
        self.key = message_key or self.message_key
        self.values = values
        super().__init__(self.key, values)

    @property
    def field(self) -> str | None:
        """The form field the refusal is about (``field=`` among the values), if one."""
        field = self.values.get("field")
        return field if isinstance(field, str) and field else None


class NotFound(DomainError):
    status_code = 404
    message_key = "error.not_found"


class Forbidden(DomainError):
    status_code = 403
    message_key = "error.forbidden"


class Conflict(DomainError):
    status_code = 409
    message_key = "error.conflict"


class Invalid(DomainError):
    status_code = 400
    message_key = "error.bad_request"


class StorageFull(DomainError):
    """The disk (or the database's space) is full: the write was rolled back whole.

    A 503, never a receipt: a tipster told "received" must be able to rely on it
    (docs/ARCHITECTURE.md principle 3: nothing lost), so a write that cannot be made
    durable is refused and the tipster asked to try again later, with nothing
    half-written left behind.
    ``tipline.db`` raises it, so it lives in the base; its message (key unchanged, it
    is the API's error code) is in ``tipline/reliability/locales``, beside the other
    refusals of the machine.
    """

    status_code = 503
    message_key = "reliability.error.storage_full"
