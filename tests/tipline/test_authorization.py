"""The authorization matrix: every route × every role, against one table written by hand.

``EXPECTED`` says, for every route of the assembled app, who may use it. The test walks
the real route table, so a new route that is not in the table fails the first test,
and a route that lets in a role the table does not name fails the second. Requests use
object ids that do not exist, so an allowed role gets a 2xx/3xx/4xx from the handler
(never the guard's 403) and nothing is changed.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from tests.conftest import sign_in
from tipline.auth import Role
from tipline.web.i18n import translate

Client = AsyncTestClient[Litestar]

PUBLIC = "public"
SIGNED_IN = frozenset(Role)
ADMIN = frozenset({Role.admin})
OFFICER = frozenset({Role.officer})
LEDGER_READERS = frozenset({Role.inspector, Role.admin})
ORG_READERS = frozenset(Role)
ORG_VIEWERS = frozenset({Role.admin, Role.county_staff, Role.inspector})
# The bureau leader oversees like the inspector.
OVERSEERS = frozenset({Role.inspector, Role.leader})
LEDGER_EXPORTERS = OVERSEERS | OFFICER
AUTHORITY_READERS = frozenset({Role.admin, Role.officer, Role.inspector, Role.leader})
VA_READERS = frozenset({Role.township_staff, Role.county_staff, Role.admin, Role.inspector})
VA_TOWNSHIP = frozenset({Role.township_staff})
VA_PLANNERS = frozenset({Role.county_staff, Role.admin})
VA_RULES_WRITERS = frozenset({Role.township_staff, Role.county_staff})
# Village affairs I: township staff report, county staff accept (services check the step).
VA_STAFF = frozenset({Role.township_staff, Role.county_staff, Role.admin})

# method + path (as Litestar writes it) → the roles that may use it, or PUBLIC.
EXPECTED: dict[str, frozenset[Role] | str] = {
    "GET /health": PUBLIC,
    "GET /": PUBLIC,
    "GET /lang/{code:str}": PUBLIC,
    "GET /static/{file_path:path}": PUBLIC,
    "HEAD /static/{file_path:path}": PUBLIC,
    "GET /schema": PUBLIC,
    "GET /schema/openapi.json": PUBLIC,
    "GET /schema/{path:str}": PUBLIC,
    # accounts
    "POST /api/v1/auth/login": PUBLIC,
    "POST /api/v1/auth/logout": PUBLIC,
    "GET /api/v1/auth/me": SIGNED_IN,
    "GET /login": PUBLIC,
    "POST /login": PUBLIC,
    "POST /logout": PUBLIC,
    "GET /account": SIGNED_IN,
    "POST /account/password": SIGNED_IN,
    "GET /account/totp": SIGNED_IN,
    "POST /account/totp": SIGNED_IN,
    "GET /admin/accounts": ADMIN,
    "POST /admin/accounts": ADMIN,
    "GET /admin/accounts/{account_id:int}": ADMIN,
    "POST /admin/accounts/{account_id:int}/disable": ADMIN,
    "POST /admin/accounts/{account_id:int}/enable": ADMIN,
    "POST /admin/accounts/{account_id:int}/reset-password": ADMIN,
    "POST /admin/accounts/{account_id:int}/reset-totp": ADMIN,
    "POST /admin/accounts/{account_id:int}/email": ADMIN,
    # notifications: each account's own inbox
    "GET /inbox": SIGNED_IN,
    "POST /inbox/{notification_id:int}/read": SIGNED_IN,
    "POST /inbox/read-all": SIGNED_IN,
    "GET /api/v1/inbox": SIGNED_IN,
    "POST /api/v1/inbox/{notification_id:int}/read": SIGNED_IN,
    "POST /api/v1/inbox/read-all": SIGNED_IN,
    "GET /admin/outbox": ADMIN,
    "GET /api/v1/admin/outbox": ADMIN,
    # deadlines: rules (admin), escalations (read by officers and overseers; only the
    # inspector resolves one)
    "GET /admin/duedates": ADMIN,
    "POST /admin/duedates/{rule_id:int}": ADMIN,
    "GET /api/v1/admin/duedates": ADMIN,
    "POST /api/v1/admin/duedates/{rule_id:int}": ADMIN,
    "GET /escalations": OVERSEERS | OFFICER,
    "POST /escalations/{deadline_id:int}/resolve": frozenset({Role.inspector}),
    "GET /api/v1/escalations": OVERSEERS | OFFICER,
    "POST /api/v1/escalations/{deadline_id:int}/resolve": frozenset({Role.inspector}),
    # org units
    "GET /admin/orgunits": ORG_VIEWERS,
    "GET /admin/orgunits/{unit_id:int}": ORG_VIEWERS,
    "POST /admin/orgunits/import": ADMIN,
    "GET /admin/orgunits/export.csv": ORG_VIEWERS,
    "GET /admin/orgunits/export.xlsx": ORG_VIEWERS,
    "GET /api/v1/orgunits": ORG_READERS,
    "GET /api/v1/orgunits/{unit_id:int}": ORG_READERS,
    # custody ledger
    "GET /ledger": LEDGER_READERS,
    "POST /ledger/verify": LEDGER_READERS,
    "POST /ledger/cosign": frozenset({Role.inspector}),
    "GET /ledger/proof": PUBLIC,
    "GET /api/v1/ledger/events": LEDGER_READERS,
    "POST /api/v1/ledger/verify": LEDGER_READERS,
    # calendar and scheduler
    "GET /admin/holidays": ADMIN,
    "POST /admin/holidays": ADMIN,
    "POST /admin/holidays/{override_id:int}/delete": ADMIN,
    "GET /admin/scheduler": ADMIN,
    "GET /api/v1/admin/holidays": ADMIN,
    "GET /api/v1/admin/scheduler": ADMIN,
    # the tip box and the tipster's mailbox (anonymous by design)
    "GET /tip": PUBLIC,
    "GET /tip/new": PUBLIC,
    "POST /tip/new": PUBLIC,
    "POST /tip/receipt": PUBLIC,
    "GET /tip/mailbox": PUBLIC,
    "POST /tip/mailbox": PUBLIC,
    "POST /tip/mailbox/logout": PUBLIC,
    "POST /tip/mailbox/messages": PUBLIC,
    "POST /api/v1/tips": PUBLIC,
    "POST /api/v1/tipster/session": PUBLIC,
    "POST /api/v1/tipster/logout": PUBLIC,
    "POST /api/v1/tipster/messages": PUBLIC,
    "GET /api/v1/tipster/tip": PUBLIC,
    # hotline: officers enter phone/letter/visit tips; the tipster checks the transcript
    "GET /cases/new": OFFICER,
    "POST /cases/new": OFFICER,
    "POST /api/v1/cases/intake": OFFICER,
    "GET /api/v1/cases/{ledger_no:str}/transcript": OFFICER,
    "GET /tip/mailbox/transcript": PUBLIC,
    "POST /tip/mailbox/transcript/confirm": PUBLIC,
    "POST /tip/mailbox/transcript/corrections": PUBLIC,
    "GET /api/v1/tipster/transcript": PUBLIC,
    "POST /api/v1/tipster/transcript/confirm": PUBLIC,
    "POST /api/v1/tipster/transcript/corrections": PUBLIC,
    # competent authorities and transfers
    "GET /admin/authorities": AUTHORITY_READERS,
    "POST /admin/authorities": ADMIN,
    "GET /admin/authorities/{authority_id:int}": AUTHORITY_READERS,
    "POST /admin/authorities/{authority_id:int}": ADMIN,
    "GET /api/v1/authorities": AUTHORITY_READERS,
    "POST /api/v1/authorities": ADMIN,
    "GET /api/v1/authorities/{authority_id:int}": AUTHORITY_READERS,
    "PUT /api/v1/authorities/{authority_id:int}": ADMIN,
    "GET /cases/{ledger_no:str}/transfers": OFFICER,
    "POST /cases/{ledger_no:str}/transfers": OFFICER,
    "POST /cases/{ledger_no:str}/transfers/{transfer_id:int}/acknowledgement": OFFICER,
    "POST /cases/{ledger_no:str}/transfers/{transfer_id:int}/feedback": OFFICER,
    "POST /cases/{ledger_no:str}/transfers/{transfer_id:int}/links": OFFICER,
    "GET /cases/{ledger_no:str}/transfers/{transfer_id:int}/package": OFFICER,
    "GET /cases/{ledger_no:str}/transfers/{transfer_id:int}/receipt": OFFICER,
    "GET /cases/{ledger_no:str}/transfers/{transfer_id:int}/receipt.json": OFFICER,
    "GET /api/v1/cases/{ledger_no:str}/transfers": OFFICER,
    "POST /api/v1/cases/{ledger_no:str}/transfers": OFFICER,
    "GET /api/v1/cases/{ledger_no:str}/transfers/{transfer_id:int}": OFFICER,
    "POST /api/v1/cases/{ledger_no:str}/transfers/{transfer_id:int}/acknowledgement": OFFICER,
    "POST /api/v1/cases/{ledger_no:str}/transfers/{transfer_id:int}/feedback": OFFICER,
    "POST /api/v1/cases/{ledger_no:str}/transfers/{transfer_id:int}/links": OFFICER,
    "GET /api/v1/cases/{ledger_no:str}/transfers/{transfer_id:int}/package": OFFICER,
    "GET /api/v1/cases/{ledger_no:str}/transfers/{transfer_id:int}/receipt": OFFICER,
    "GET /api/v1/cases/{ledger_no:str}/transfers/{transfer_id:int}/receipt/bundle": OFFICER,
    # the competent authority's one-time link (no account: the token is the key)
    "GET /authority-reply/{token:str}": PUBLIC,
    "POST /authority-reply/{token:str}": PUBLIC,
    # case handling
    "GET /cases": OFFICER,
    "GET /cases/{ledger_no:str}": OFFICER,
    "GET /cases/{ledger_no:str}/attachments/{uid:str}": OFFICER,
    "POST /cases/{ledger_no:str}/messages": OFFICER,
    "GET /api/v1/cases": OFFICER,
    "GET /api/v1/cases/{ledger_no:str}": OFFICER,
    "GET /api/v1/cases/{ledger_no:str}/attachments/{uid:str}": OFFICER,
    "POST /api/v1/cases/{ledger_no:str}/messages": OFFICER,
    "GET /cases/approvals": OFFICER,
    "POST /cases/approvals/{approval_id:int}": OFFICER,
    "POST /cases/approvals/{approval_id:int}/withdraw": OFFICER,
    "POST /cases/{ledger_no:str}/register": OFFICER,
    "POST /cases/{ledger_no:str}/registration": OFFICER,
    "POST /cases/{ledger_no:str}/assign": OFFICER,
    "POST /cases/{ledger_no:str}/transitions": OFFICER,
    "POST /cases/{ledger_no:str}/approvals": OFFICER,
    "POST /cases/{ledger_no:str}/access": OFFICER,
    "POST /cases/{ledger_no:str}/access/{officer_id:int}/revoke": OFFICER,
    "POST /cases/{ledger_no:str}/identity/{approval_id:int}": OFFICER,
    "GET /api/v1/cases/approvals": OFFICER,
    "POST /api/v1/cases/approvals/{approval_id:int}": OFFICER,
    "POST /api/v1/cases/approvals/{approval_id:int}/withdraw": OFFICER,
    "POST /api/v1/cases/{ledger_no:str}/register": OFFICER,
    "POST /api/v1/cases/{ledger_no:str}/registration": OFFICER,
    "POST /api/v1/cases/{ledger_no:str}/assign": OFFICER,
    "POST /api/v1/cases/{ledger_no:str}/transitions": OFFICER,
    "POST /api/v1/cases/{ledger_no:str}/approvals": OFFICER,
    "GET /api/v1/cases/{ledger_no:str}/timeline": OFFICER,
    "GET /api/v1/cases/{ledger_no:str}/access": OFFICER,
    "POST /api/v1/cases/{ledger_no:str}/access": OFFICER,
    "POST /api/v1/cases/{ledger_no:str}/access/{officer_id:int}/revoke": OFFICER,
    "POST /api/v1/cases/{ledger_no:str}/identity/{approval_id:int}": OFFICER,
    # oversight: the inspector's page, exports, statistics
    "GET /oversight": OVERSEERS,
    "GET /oversight/cases/{ledger_no:str}": OVERSEERS,
    "POST /oversight/cases/{ledger_no:str}/notes": OVERSEERS,
    "POST /oversight/verify": OVERSEERS,
    "GET /oversight/export.xlsx": OVERSEERS,
    "GET /api/v1/oversight": OVERSEERS,
    "GET /api/v1/oversight/cases/{ledger_no:str}": OVERSEERS,
    "POST /api/v1/oversight/cases/{ledger_no:str}/notes": OVERSEERS,
    "POST /api/v1/oversight/verify": OVERSEERS,
    "GET /ledger-export.xlsx": LEDGER_EXPORTERS,
    "GET /statistics": LEDGER_EXPORTERS,
    "GET /api/v1/statistics": LEDGER_EXPORTERS,
    "GET /exports": OFFICER,
    "POST /exports": OFFICER,
    "POST /exports/{request_id:int}/decision": OFFICER,
    "POST /exports/{request_id:int}/download": OFFICER,
    "GET /api/v1/exports": OFFICER,
    "POST /api/v1/exports": OFFICER,
    "POST /api/v1/exports/{request_id:int}/decision": OFFICER,
    "POST /api/v1/exports/{request_id:int}/download": OFFICER,
    # village affairs II (issue 7): every village-affairs role reads (township staff
    # only their own villages, checked by the handlers); township staff enter records,
    # the county reviews village rules; the public pages need no account.
    "GET /villageaffairs/dashboard": VA_READERS,
    "GET /villageaffairs/dashboard.xlsx": VA_READERS,
    "GET /villageaffairs/dashboard/tasks/{task_id:int}/townships/{township_id:int}": VA_READERS,
    "GET /villageaffairs/campaigns/villages": VA_READERS,
    "GET /villageaffairs/campaigns": VA_READERS,
    "POST /villageaffairs/campaigns": VA_PLANNERS,
    "GET /api/v1/villageaffairs/campaigns": VA_READERS,
    "POST /api/v1/villageaffairs/campaigns": VA_PLANNERS,
    "GET /villageaffairs/campaigns/villages/{village_id:int}": VA_READERS,
    "GET /api/v1/villageaffairs/dashboard": VA_READERS,
    "GET /api/v1/villageaffairs/dashboard/tasks/{task_id:int}/townships/{township_id:int}": (
        VA_READERS
    ),
    "GET /villageaffairs/supervision/villages/{village_id:int}": VA_READERS,
    "POST /villageaffairs/supervision/villages/{village_id:int}/committee": VA_TOWNSHIP,
    "POST /villageaffairs/supervision/villages/{village_id:int}/work-reports": VA_TOWNSHIP,
    "GET /villageaffairs/supervision/committees/{committee_id:int}": VA_READERS,
    "GET /villageaffairs/supervision/overdue": VA_READERS,
    "GET /api/v1/villageaffairs/supervision/villages/{village_id:int}": VA_READERS,
    "POST /api/v1/villageaffairs/supervision/villages/{village_id:int}/committee": VA_TOWNSHIP,
    "POST /api/v1/villageaffairs/supervision/villages/{village_id:int}/work-reports": (VA_TOWNSHIP),
    "GET /api/v1/villageaffairs/supervision/overdue": VA_READERS,
    "GET /villageaffairs/villagerules/villages/{village_id:int}": VA_READERS,
    "POST /villageaffairs/villagerules/villages/{village_id:int}/{step:str}": VA_RULES_WRITERS,
    "GET /villageaffairs/villagerules/queue": VA_READERS,
    "GET /api/v1/villageaffairs/villagerules/villages/{village_id:int}": VA_READERS,
    "POST /api/v1/villageaffairs/villagerules/villages/{village_id:int}": VA_RULES_WRITERS,
    "POST /api/v1/villageaffairs/villagerules/{rules_id:int}/submit": VA_RULES_WRITERS,
    "POST /api/v1/villageaffairs/villagerules/{rules_id:int}/review": VA_RULES_WRITERS,
    "POST /api/v1/villageaffairs/villagerules/{rules_id:int}/adoption": VA_RULES_WRITERS,
    "GET /villageaffairs/noticeboards/villages/{village_id:int}": VA_READERS,
    "POST /villageaffairs/noticeboards/villages/{village_id:int}/{step:str}": VA_TOWNSHIP,
    "GET /villageaffairs/noticeboards/villages/{village_id:int}/sticker.png": VA_READERS,
    "GET /villageaffairs/noticeboards/villages/{village_id:int}/sticker.pdf": VA_READERS,
    "GET /villageaffairs/noticeboards/photos/{photo_id:int}": VA_READERS,
    "GET /api/v1/villageaffairs/noticeboards/villages/{village_id:int}": VA_READERS,
    "GET /api/v1/villageaffairs/noticeboards/villages/{village_id:int}/disclosures": VA_READERS,
    "GET /api/v1/villageaffairs/noticeboards/villages/{village_id:int}/missing": VA_READERS,
    "GET /api/v1/villageaffairs/noticeboards/villages/{village_id:int}/inspections": VA_READERS,
    # village affairs I: registers, committees, by-elections, look-backs, appraisals, reports
    "GET /api/v1/villageaffairs/appraisals": VA_STAFF,
    "GET /api/v1/villageaffairs/appraisals/{round_id:int}": VA_STAFF,
    "GET /api/v1/villageaffairs/by-elections": VA_STAFF,
    "GET /api/v1/villageaffairs/by-elections/{by_election_id:int}": VA_STAFF,
    "GET /api/v1/villageaffairs/lookbacks": VA_STAFF,
    "GET /api/v1/villageaffairs/lookbacks/{review_id:int}": VA_STAFF,
    "GET /api/v1/villageaffairs/overview": VA_STAFF,
    "GET /api/v1/villageaffairs/reports": VA_STAFF,
    "GET /api/v1/villageaffairs/reports/{report_id:int}": VA_STAFF,
    "GET /api/v1/villageaffairs/vacancies": VA_STAFF,
    "GET /api/v1/villageaffairs/villages": VA_STAFF,
    "GET /api/v1/villageaffairs/villages/{village_id:int}/committee": VA_STAFF,
    "GET /api/v1/villageaffairs/villages/{village_id:int}/people": VA_STAFF,
    "GET /villageaffairs/appraisals": VA_STAFF,
    "GET /villageaffairs/appraisals/export.xlsx": VA_STAFF,
    "GET /villageaffairs/appraisals/{round_id:int}": VA_STAFF,
    "GET /villageaffairs/by-elections": VA_STAFF,
    "GET /villageaffairs/by-elections/export.xlsx": VA_STAFF,
    "GET /villageaffairs/by-elections/{by_election_id:int}": VA_STAFF,
    "GET /villageaffairs/lookbacks": VA_STAFF,
    "GET /villageaffairs/lookbacks/export.xlsx": VA_STAFF,
    "GET /villageaffairs/lookbacks/{review_id:int}": VA_STAFF,
    "GET /villageaffairs/overview": VA_STAFF,
    "GET /villageaffairs/registers": VA_STAFF,
    "GET /villageaffairs/registers/committees.xlsx": VA_STAFF,
    "GET /villageaffairs/registers/people.xlsx": VA_STAFF,
    "GET /villageaffairs/registers/vacancies.xlsx": VA_STAFF,
    "GET /villageaffairs/reports": VA_STAFF,
    "GET /villageaffairs/villages/{village_id:int}": VA_STAFF,
    "POST /api/v1/villageaffairs/appraisals": VA_STAFF,
    "POST /api/v1/villageaffairs/appraisals/{round_id:int}/publish": VA_STAFF,
    "POST /api/v1/villageaffairs/appraisals/{round_id:int}/results": VA_STAFF,
    "POST /api/v1/villageaffairs/by-elections": VA_STAFF,
    "POST /api/v1/villageaffairs/by-elections/{by_election_id:int}/approve": VA_STAFF,
    "POST /api/v1/villageaffairs/by-elections/{by_election_id:int}/candidates": VA_STAFF,
    "POST /api/v1/villageaffairs/by-elections/{by_election_id:int}/checks": VA_STAFF,
    "POST /api/v1/villageaffairs/by-elections/{by_election_id:int}/close-vetting": VA_STAFF,
    "POST /api/v1/villageaffairs/by-elections/{by_election_id:int}/fail": VA_STAFF,
    "POST /api/v1/villageaffairs/by-elections/{by_election_id:int}/file": VA_STAFF,
    "POST /api/v1/villageaffairs/by-elections/{by_election_id:int}/publish": VA_STAFF,
    "POST /api/v1/villageaffairs/by-elections/{by_election_id:int}/start-vetting": VA_STAFF,
    "POST /api/v1/villageaffairs/by-elections/{by_election_id:int}/tally": VA_STAFF,
    "POST /api/v1/villageaffairs/committees": VA_STAFF,
    "POST /api/v1/villageaffairs/lookbacks": VA_STAFF,
    "POST /api/v1/villageaffairs/lookbacks/items/{item_id:int}": VA_STAFF,
    "POST /api/v1/villageaffairs/lookbacks/{review_id:int}/sign-off": VA_STAFF,
    "POST /api/v1/villageaffairs/memberships/{membership_id:int}/end": VA_STAFF,
    "POST /api/v1/villageaffairs/people": VA_STAFF,
    "POST /api/v1/villageaffairs/posts": VA_STAFF,
    "POST /api/v1/villageaffairs/relations": VA_STAFF,
    "POST /api/v1/villageaffairs/reports": VA_STAFF,
    "POST /api/v1/villageaffairs/reports/{report_id:int}/accept": VA_STAFF,
    "POST /api/v1/villageaffairs/reports/{report_id:int}/approve": VA_STAFF,
    "POST /api/v1/villageaffairs/reports/{report_id:int}/new-version": VA_STAFF,
    "POST /api/v1/villageaffairs/reports/{report_id:int}/return": VA_STAFF,
    "POST /api/v1/villageaffairs/reports/{report_id:int}/submit": VA_STAFF,
    "POST /api/v1/villageaffairs/vacancies/{vacancy_id:int}/waive": VA_STAFF,
    "POST /villageaffairs/appraisals": VA_STAFF,
    "POST /villageaffairs/appraisals/{round_id:int}/publish": VA_STAFF,
    "POST /villageaffairs/appraisals/{round_id:int}/results": VA_STAFF,
    "POST /villageaffairs/by-elections": VA_STAFF,
    "POST /villageaffairs/by-elections/{by_election_id:int}/{step:str}": VA_STAFF,
    "POST /villageaffairs/lookbacks": VA_STAFF,
    "POST /villageaffairs/lookbacks/items/{item_id:int}": VA_STAFF,
    "POST /villageaffairs/lookbacks/{review_id:int}/sign-off": VA_STAFF,
    "POST /villageaffairs/memberships/{membership_id:int}/end": VA_STAFF,
    "POST /villageaffairs/reports/new": VA_STAFF,
    "POST /villageaffairs/reports/{report_id:int}/{step:str}": VA_STAFF,
    "POST /villageaffairs/vacancies/{vacancy_id:int}/waive": VA_STAFF,
    "POST /villageaffairs/villages/{village_id:int}/committee": VA_STAFF,
    "POST /villageaffairs/villages/{village_id:int}/people": VA_STAFF,
    "POST /villageaffairs/villages/{village_id:int}/posts": VA_STAFF,
    "POST /villageaffairs/villages/{village_id:int}/relations": VA_STAFF,
    "GET /public": PUBLIC,
    "GET /public/villages/{code:str}": PUBLIC,
}

# Routes whose handler ends the session; they are called last for each role.
SESSION_ENDING = {"POST /logout", "POST /api/v1/auth/logout"}
PARAMETER = re.compile(r"\{([^}:]+):(int|str|path)\}")
MISSING_VALUES = {"int": "987654", "str": "2099-999999", "path": "missing.css"}


def _routes(app: Litestar) -> list[str]:
    keys = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            assert isinstance(handler, HTTPRouteHandler)
            for method in sorted(handler.http_methods - {"OPTIONS"}):
                keys.append(f"{method} {route.path}")
    return keys


def _url(path: str) -> str:
    return PARAMETER.sub(lambda match: MISSING_VALUES[match[2]], path)


def test_every_route_is_in_the_table(app: Litestar) -> None:
    missing = sorted(set(_routes(app)) - set(EXPECTED))
    assert not missing, "routes missing from EXPECTED:\n" + "\n".join(missing)
    stale = sorted(set(EXPECTED) - set(_routes(app)))
    assert not stale, "EXPECTED names routes that no longer exist:\n" + "\n".join(stale)


def _refused_by_guard(response: Any, url: str) -> bool:
    if response.status_code != 403:
        return False
    if url.startswith("/api/"):
        return bool(response.json().get("error") == "error.forbidden")
    return any(translate(locale, "error.forbidden") in response.text for locale in ("zh-CN", "en"))


async def _request(client: Client, method: str, url: str) -> Any:
    if method in ("GET", "HEAD"):
        return await client.request(method, url, follow_redirects=False)
    if url.startswith("/api/"):
        return await client.request(method, url, json={}, follow_redirects=False)
    await client.get("/", follow_redirects=False)
    token = client.cookies.get("csrftoken") or ""
    return await client.request(method, url, data={"_csrf_token": token}, follow_redirects=False)


async def _still_signed_in(client: Client) -> bool:
    return (await client.get("/api/v1/auth/me")).status_code == 200


@pytest.mark.parametrize("role", list(Role))
async def test_each_role_reaches_exactly_the_routes_the_table_gives_it(
    app: Litestar, client: Client, role: Role
) -> None:
    await sign_in(client, role)
    wrongly_admitted: list[str] = []
    wrongly_refused: list[str] = []
    routes = sorted(_routes(app), key=lambda key: key in SESSION_ENDING)
    for key in routes:
        expected = EXPECTED.get(key)
        if expected is None or expected == PUBLIC:
            continue
        method, path = key.split(" ", 1)
        url = _url(path)
        response = await _request(client, method, url)
        assert response.status_code < 500, (key, response.status_code, response.text[:300])
        refused = _refused_by_guard(response, url)
        if role in expected and (refused or response.status_code == 401):
            wrongly_refused.append(f"{key} → {response.status_code}")
        if role not in expected and not refused:
            wrongly_admitted.append(f"{key} → {response.status_code}")
        if key not in SESSION_ENDING and not await _still_signed_in(client):
            await sign_in(client, role)
    assert not wrongly_admitted, f"{role} admitted to:\n" + "\n".join(wrongly_admitted)
    assert not wrongly_refused, f"{role} refused from:\n" + "\n".join(wrongly_refused)


async def test_the_anonymous_reach_only_public_routes(app: Litestar, client: Client) -> None:
    admitted = []
    for key in _routes(app):
        if EXPECTED.get(key, PUBLIC) == PUBLIC:
            continue
        method, path = key.split(" ", 1)
        url = _url(path)
        response = await _request(client, method, url)
        assert response.status_code < 500, (key, response.status_code)
        login_redirect = response.status_code == 302 and response.headers.get(
            "location", ""
        ).startswith("/login")
        if response.status_code not in (401, 403) and not login_redirect:
            admitted.append(f"{key} → {response.status_code}")
    assert not admitted, "the anonymous reached:\n" + "\n".join(admitted)
