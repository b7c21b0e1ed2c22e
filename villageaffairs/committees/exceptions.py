"""What the committee register refuses."""

from __future__ import annotations

from tipline.errors import Conflict, Invalid, NotFound


class CommitteeNotFound(NotFound):
    message_key = "committees.error.not_found"


class MembershipNotFound(NotFound):
    message_key = "committees.error.membership_not_found"


class VacancyNotFound(NotFound):
    message_key = "committees.error.vacancy_not_found"


class MembershipAlreadyEnded(Conflict):
    message_key = "committees.error.already_ended"


class CommitteesInvalid(Invalid):
    """The root of the committee register's refusals of what was typed."""


class BadField(CommitteesInvalid):
    """A form field is missing or not of its kind (a number, a date): ``field=`` names it."""

    message_key = "villageaffairs.error.field"


class BadEndReason(CommitteesInvalid):
    message_key = "committees.error.bad_end_reason"


class PersonOfOtherVillage(CommitteesInvalid):
    message_key = "committees.error.other_village"


class VacancyNotOpen(Conflict):
    message_key = "committees.error.vacancy_not_open"


class TermOverlaps(Conflict):
    message_key = "committees.error.term_overlaps"
