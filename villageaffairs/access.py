"""Who may see and change which village's records, for every village-affairs II package.

Township staff enter and review records of their own township's villages only; the
county reviews and accepts. The rule itself lives in ``tipline.orgunits``
(:func:`require_visible`); this adds "it must be a village" and the writer roles.

Below ``campaigns``, ``noticeboards``, ``supervision`` and ``villagerules``, which all use
it (it was ``villageaffairs.campaigns.access``). Its refusals keep their message keys,
which are API error codes, in the catalogue of ``campaigns``.
"""

from __future__ import annotations

from tipline.auth import CurrentUser, Role
from tipline.errors import Forbidden, Invalid
from tipline.orgunits.schemas import OrgUnitOut
from tipline.orgunits.services import require_visible
from tipline.orgunits.tables import VILLAGE_KINDS


class NotAVillage(Invalid):
    message_key = "campaigns.error.not_a_village"


class TownshipOnly(Forbidden):
    """Entering a village's record is the township's work (township staff of its township)."""

    message_key = "campaigns.error.township_only"


class CountyOnly(Forbidden):
    message_key = "campaigns.error.county_only"


async def require_village(user: CurrentUser, village_id: int) -> OrgUnitOut:
    """The village, if ``user`` may see it (403 outside their township, 400 not a village)."""
    unit = await require_visible(user, village_id)
    if unit.kind not in VILLAGE_KINDS:
        raise NotAVillage(unit_id=village_id)
    return unit


async def require_township_writer(user: CurrentUser, village_id: int) -> OrgUnitOut:
    """The village, if ``user`` is township staff of the village's own township."""
    unit = await require_village(user, village_id)
    if user.role is not Role.township_staff or unit.parent_id != user.org_unit_id:
        raise TownshipOnly()
    return unit


def require_county(user: CurrentUser) -> None:
    if user.role not in (Role.county_staff, Role.admin):
        raise CountyOnly()
