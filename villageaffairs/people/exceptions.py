"""What the people register refuses."""

from __future__ import annotations

from tipline.errors import Conflict, Invalid, NotFound


class PersonNotFound(NotFound):
    message_key = "people.error.not_found"


class BadIdNumber(Invalid):
    """Not an 18-character resident identity number with a valid check digit (GB 11643)."""

    message_key = "people.error.bad_id_number"


class NameRequired(Invalid):
    message_key = "people.error.name_required"


class BadGender(Invalid):
    message_key = "people.error.bad_gender"


class PersonExists(Conflict):
    """The identity number is already registered (in this or another village)."""

    message_key = "people.error.exists"


class BadRelation(Invalid):
    message_key = "people.error.bad_relation"


class PostNotFound(NotFound):
    message_key = "people.error.post_not_found"
