"""What the supervisory committee records refuse."""

from __future__ import annotations

from tipline.errors import Conflict, Invalid, NotFound


class SupervisionInvalid(Invalid):
    """The root of the package's refusals of what was typed."""

    message_key = "supervision.error.bad_form"


class BadField(SupervisionInvalid):
    """A field of the form that is not of its kind (a person, a post): ``field=`` names it."""

    message_key = "supervision.error.bad_form"


class CommitteeNotFound(NotFound):
    message_key = "supervision.error.not_found"


class PersonNotOfVillage(SupervisionInvalid):
    message_key = "supervision.error.person_not_of_village"


class ReasonRequired(SupervisionInvalid):
    message_key = "supervision.error.reason_required"


class RecordLocked(Conflict):
    """The record is with the township or the county; it changes only once returned."""

    message_key = "supervision.error.locked"


class BadPeriod(SupervisionInvalid):
    message_key = "supervision.error.bad_period"


class NotActive(SupervisionInvalid):
    message_key = "supervision.error.not_active"
