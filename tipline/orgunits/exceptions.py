"""What the org-unit rules refuse; each maps to a 4xx with a message in both languages."""

from __future__ import annotations

from tipline.errors import Forbidden, Invalid, NotFound
from tipline.orgunits.schemas import Problem


class OrgUnitNotFound(NotFound):
    message_key = "orgunits.error.not_found"


class OutsideYourUnit(Forbidden):
    """A township's staff asked for a unit of another township."""

    message_key = "orgunits.error.forbidden"


class OrgUnitsInvalid(Invalid):
    """The root of the org-unit importer's refusals."""


class ImportFileError(OrgUnitsInvalid):
    """The file cannot be read as a table at all (nothing is validated or written)."""

    message_key = "orgunits.error.unreadable"


class UnsupportedFileType(ImportFileError):
    message_key = "orgunits.error.unsupported_type"


class FileTooLarge(ImportFileError):
    status_code = 413
    message_key = "orgunits.error.too_large"


class TooManyRows(ImportFileError):
    status_code = 413
    message_key = "orgunits.error.too_many_rows"


class EmptyFile(ImportFileError):
    message_key = "orgunits.error.empty"


class ImportRejected(OrgUnitsInvalid):
    """At least one row is wrong, so nothing was written; ``problems`` lists every one."""

    status_code = 422
    message_key = "orgunits.error.rejected"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(count=len(problems))
        self.problems = problems
