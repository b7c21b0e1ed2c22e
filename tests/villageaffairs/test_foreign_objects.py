"""No IDOR: township staff reach no object of another township by putting its id in a URL.

The demo county (13 townships, 160 villages, the village-affairs demo records) is
created; a clerk of the first township then requests every village-affairs GET route
the authorization table (``tests/tipline/test_authorization.py``) opens to township
staff, twice: with ids of objects of their own township (the control: it must
succeed or redirect, so the ids are real) and with ids of the same kind from another township
(it must be refused with 403 or 404). The route list comes from the app, so a new
route with an id parameter this file cannot resolve fails the test until it is added.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from piccolo.table import Table

from tests.conftest import sign_in
from tests.tipline.test_authorization import EXPECTED, PUBLIC, _routes
from tipline.auth import Role
from tipline.demo import create_demo
from tipline.orgunits.tables import OrgUnit, OrgUnitKind
from tipline.settings import Settings
from villageaffairs.appraisals.tables import AppraisalRound
from villageaffairs.campaigns.tables import CampaignTask
from villageaffairs.elections.tables import ByElection
from villageaffairs.noticeboards.tables import NoticeBoard
from villageaffairs.reports.tables import VillageReport
from villageaffairs.reviews.tables import LookbackReview
from villageaffairs.supervision.tables import SupervisoryCommittee
from villageaffairs.villagerules.tables import RulesVersion

Client = AsyncTestClient[Litestar]
PARAMETER = re.compile(r"\{([^}:]+):(int|str|path)\}")

# An id parameter → the table whose rows it names and the column holding their village.
OWNED_BY_VILLAGE: dict[str, tuple[type[Table], str]] = {
    "round_id": (AppraisalRound, "village"),
    "by_election_id": (ByElection, "village"),
    "review_id": (LookbackReview, "village"),
    "report_id": (VillageReport, "village"),
    "committee_id": (SupervisoryCommittee, "village"),
    "rules_id": (RulesVersion, "village"),
    "photo_id": (NoticeBoard, "village"),
}


async def _villages_of(township_id: int) -> list[int]:
    rows = await OrgUnit.select(OrgUnit.id).where(OrgUnit.parent == township_id)
    return [int(row["id"]) for row in rows]


async def _object_id(name: str, villages: list[int]) -> int | None:
    table, column = OWNED_BY_VILLAGE[name]
    id_column = table.photo if name == "photo_id" else table.id  # type: ignore[attr-defined]
    row = (
        await table.select(id_column.as_alias("id"))
        .where(getattr(table, column).is_in(villages), id_column.is_not_null())
        .order_by(id_column)
        .first()
    )
    return None if row is None else int(row["id"])


async def _ids_for(township_id: int, village_id: int) -> dict[str, Any]:
    villages = await _villages_of(township_id)
    ids: dict[str, Any] = {"village_id": village_id, "township_id": township_id}
    code = await OrgUnit.select(OrgUnit.code).where(OrgUnit.id == village_id).first()
    ids["code"] = code["code"] if code else None
    for name in OWNED_BY_VILLAGE:
        ids[name] = await _object_id(name, villages)
    # A campaign task is the county's; its drill-down to a township is what is guarded.
    task = await CampaignTask.select(CampaignTask.id).order_by(CampaignTask.id).first()
    ids["task_id"] = task["id"] if task else None
    return ids


def _village_routes(app: Litestar) -> list[str]:
    keys = []
    for key in _routes(app):
        method, path = key.split(" ", 1)
        allowed = EXPECTED.get(key)
        if method != "GET" or allowed == PUBLIC or allowed is None:
            continue
        if Role.township_staff not in allowed or not PARAMETER.search(path):
            continue
        if "villageaffairs" in path:
            keys.append(key)
    return keys


def _fill(path: str, ids: dict[str, Any]) -> str | None:
    """The URL with ``ids``; None when an object of that kind is missing for the township."""
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        name = match[1]
        assert name in ids, f"no way to find an object for {{{name}}} in {path}: add it above"
        if ids[name] is None:
            missing = True
            return "0"
        return str(ids[name])

    url = PARAMETER.sub(value, path)
    return None if missing else url


async def test_township_staff_reach_no_object_of_another_township(
    app: Litestar, client: Client, settings: Settings
) -> None:
    await create_demo(settings)
    townships = [
        int(row["id"])
        for row in await OrgUnit.select(OrgUnit.id)
        .where(OrgUnit.kind.is_in([OrgUnitKind.township, OrgUnitKind.farm]))
        .order_by(OrgUnit.code)
    ]
    own, foreign = townships[0], townships[1]
    own_ids = await _ids_for(own, (await _villages_of(own))[0])
    foreign_ids = await _ids_for(foreign, (await _villages_of(foreign))[0])
    await sign_in(client, "township_staff", org_unit_id=own)

    checked, leaks, control_failures = 0, [], []
    for key in _village_routes(app):
        path = key.split(" ", 1)[1]
        own_url, foreign_url = _fill(path, own_ids), _fill(path, foreign_ids)
        if own_url is None or foreign_url is None:
            continue
        own_answer = await client.get(own_url, follow_redirects=False)
        if own_answer.status_code not in (200, 302, 303):
            control_failures.append(f"{own_url} → {own_answer.status_code}")
        foreign_answer = await client.get(foreign_url, follow_redirects=False)
        if foreign_answer.status_code not in (403, 404):
            leaks.append(f"{foreign_url} → {foreign_answer.status_code}")
        checked += 1

    assert checked >= 15, f"only {checked} routes could be checked"
    assert not control_failures, "own objects refused:\n" + "\n".join(control_failures)
    assert not leaks, "another township's objects served:\n" + "\n".join(leaks)
