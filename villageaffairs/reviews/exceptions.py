"""What the look-back register refuses."""

from __future__ import annotations

from tipline.errors import Conflict, Forbidden, Invalid, NotFound


class ReviewNotFound(NotFound):
    message_key = "reviews.error.not_found"


class ItemNotFound(NotFound):
    message_key = "reviews.error.item_not_found"


class ReviewExists(Conflict):
    message_key = "reviews.error.exists"


class ReviewClosed(Conflict):
    message_key = "reviews.error.closed"


class NotTownshipStaff(Forbidden):
    message_key = "reviews.error.township_only"


class ReviewsInvalid(Invalid):
    """The root of the look-back reviews' refusals of what was typed."""


class BadField(ReviewsInvalid):
    """A form field is missing or not of its kind (a number): ``field=`` names it."""

    message_key = "villageaffairs.error.field"


class BadItem(ReviewsInvalid):
    message_key = "reviews.error.bad_item"
