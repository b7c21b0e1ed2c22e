"""What the approval chain refuses."""

from __future__ import annotations

from tipline.errors import Conflict, Forbidden, Invalid, NotFound


class ReportNotFound(NotFound):
    message_key = "reports.error.not_found"


class ReportLocked(Conflict):
    """The subject's latest report is submitted, approved or accepted: no edits now."""

    message_key = "reports.error.locked"


class WrongReportStatus(Conflict):
    """The step does not apply to the report's current status (e.g. accepting a draft)."""

    message_key = "reports.error.wrong_status"


class NotYourStep(Forbidden):
    """The account's role or township may not take this step."""

    message_key = "reports.error.not_your_step"


class ReportsInvalid(Invalid):
    """The root of the report chain's refusals of what was typed."""


class ReasonRequired(ReportsInvalid):
    message_key = "reports.error.reason_required"


class NotLatestVersion(Conflict):
    message_key = "reports.error.not_latest"


class SubjectNotReady(ReportsInvalid):
    """A kind's own check refused the submission (e.g. a by-election not yet filed)."""

    message_key = "reports.error.not_ready"
