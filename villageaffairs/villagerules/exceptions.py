"""What the village rules workflow refuses."""

from __future__ import annotations

from tipline.errors import Conflict, Invalid, NotFound


class VillageRulesInvalid(Invalid):
    """The root of the package's refusals of what was typed."""

    message_key = "supervision.error.bad_form"


class BadField(VillageRulesInvalid):
    """A field of the form not of its kind (a number, a date, a choice): ``field=``."""


class RulesNotFound(NotFound):
    message_key = "villagerules.error.not_found"


class WrongStep(Conflict):
    message_key = "villagerules.error.wrong_step"


class TextRequired(VillageRulesInvalid):
    message_key = "villagerules.error.text_required"


class CommentRequired(VillageRulesInvalid):
    message_key = "villagerules.error.comment_required"


class ReasonRequired(VillageRulesInvalid):
    message_key = "villagerules.error.reason_required"


class OpenVersionExists(Conflict):
    message_key = "villagerules.error.open_version"
