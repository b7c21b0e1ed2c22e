"""What the appraisal register refuses."""

from __future__ import annotations

from tipline.errors import Conflict, Forbidden, Invalid, NotFound


class RoundNotFound(NotFound):
    message_key = "appraisals.error.not_found"


class WrongRoundStatus(Conflict):
    message_key = "appraisals.error.wrong_status"


class NotTownshipStaff(Forbidden):
    message_key = "appraisals.error.township_only"


class NotAMember(Invalid):
    message_key = "appraisals.error.not_a_member"


class NotApprovedYet(Conflict):
    """Results are published only after the township approved the report."""

    message_key = "appraisals.error.not_approved"


class BadRound(Invalid):
    message_key = "appraisals.error.bad_round"
