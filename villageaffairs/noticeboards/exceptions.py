"""What the notice board records refuse (an unsupported photo is
``tipline.filecleaning.UnsupportedType``)."""

from __future__ import annotations

from tipline.errors import Invalid, NotFound


class NoticeBoardInvalid(Invalid):
    """The root of the package's refusals of what was typed."""

    message_key = "supervision.error.bad_form"


class BadField(NoticeBoardInvalid):
    """A field of the form not of its kind (a date, a number): ``field=`` names it."""


class BoardNotFound(NotFound):
    message_key = "noticeboards.error.not_found"


class InspectionNotFound(NotFound):
    message_key = "noticeboards.error.inspection_not_found"


class PhotoNotFound(NotFound):
    message_key = "noticeboards.error.photo_not_found"


class BadDisclosure(NoticeBoardInvalid):
    message_key = "noticeboards.error.bad_disclosure"


class SignOffRequired(NoticeBoardInvalid):
    """A posting needs the supervisory committee's sign-off (by one of its members)."""

    message_key = "noticeboards.error.sign_off"


class BadInspection(NoticeBoardInvalid):
    message_key = "noticeboards.error.bad_inspection"


class LocationRequired(NoticeBoardInvalid):
    message_key = "noticeboards.error.location_required"
