"""What the appraisal register refuses."""

from __future__ import annotations

from tipline.errors import Conflict, Forbidden, Invalid, NotFound


class RoundNotFound(NotFound):
    message_key = "appraisals.error.not_found"


class WrongRoundStatus(Conflict):
    message_key = "appraisals.error.wrong_status"


class NotTownshipStaff(Forbidden):
    message_key = "appraisals.error.township_only"


class AppraisalsInvalid(Invalid):
    """The root of the democratic appraisals' refusals of what was typed."""


class BadField(AppraisalsInvalid):
    """A form field is missing or not of its kind (a number, a date): ``field=`` names it."""

    message_key = "villageaffairs.error.field"


class NotAMember(AppraisalsInvalid):
    message_key = "appraisals.error.not_a_member"


class NotApprovedYet(Conflict):
    """Results are published only after the township approved the report."""

    message_key = "appraisals.error.not_approved"


class BadRound(AppraisalsInvalid):
    message_key = "appraisals.error.bad_round"
