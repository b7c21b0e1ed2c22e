"""What the campaign pages refuse (a failed campaign rule is raised by the services)."""

from __future__ import annotations

from tipline.errors import Conflict, Forbidden, Invalid, NotFound


class CampaignsInvalid(Invalid):
    """The root of the campaign pages' refusals of what was typed."""

    message_key = "campaigns.error.bad_task"


class BadCampaignForm(CampaignsInvalid):
    """A field of the campaign form not of its kind (a date, a number, a task kind):
    ``field=`` names it."""

    message_key = "campaigns.error.bad_task"


class CampaignNotFound(NotFound):
    message_key = "campaigns.error.not_found"


class TaskNotFound(NotFound):
    message_key = "campaigns.error.task_not_found"


class CampaignExists(Conflict):
    message_key = "campaigns.error.exists"


class BadTask(CampaignsInvalid):
    message_key = "campaigns.error.bad_task"


class UnknownVillages(CampaignsInvalid):
    message_key = "campaigns.error.unknown_villages"


class NotYourTownship(Forbidden):
    message_key = "campaigns.error.not_your_township"
