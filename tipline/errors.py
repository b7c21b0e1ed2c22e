"""The root of every domain's exception hierarchy.

Services raise subclasses of :class:`DomainError`; one handler in
``tipline.web.errors`` turns them into a 4xx answer in the user's language (a JSON
body under ``/api``, an HTML page elsewhere). A message is a key of the message
catalogue (``tipline/web/locales/*.json``) plus named values, never free text, so
every error reads in Chinese and in English.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """A request the rules refuse; never a bug."""

    status_code: ClassVar[int] = 400
    message_key: ClassVar[str] = "error.bad_request"

    def __init__(self, message_key: str | None = None, /, **values: Any) -> None:
        self.key = message_key or self.message_key
        self.values = values
        super().__init__(self.key, values)


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
