"""The chain of custody for the discipline inspector and the administrator.

Read-only: nobody can change an event through any route.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Redirect, Template

from tipline.auth import PUBLIC, Role, current_user, requires
from tipline.ledger import checkpoints, services
from tipline.ledger.schemas import CustodyEventOut, EventPage
from tipline.settings import Settings
from tipline.web.templating import NavItem

OVERSEERS = requires(Role.admin, Role.inspector)
PAGE_SIZE = 100

Before = Annotated[
    int | None, Parameter(ge=1, required=False, description="events before this seq")
]
Action = Annotated[
    str | None, Parameter(max_length=64, required=False, description="action prefix")
]


class CosignForm(msgspec.Struct, forbid_unknown_fields=False):
    line: str = ""


def _settings(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _events_page(
    request: Request[Any, Any, Any],
    before: int | None,
    action: str | None,
    result: services.VerifyResult | None,
) -> Template:
    page = await _page(before, action, PAGE_SIZE)
    alarms = await services.recent_events(limit=20, action_prefix="ledger.alarm")
    return Template(
        "ledger/events.html",
        context={
            "page": page,
            "action": action or "",
            "result": result,
            "overview": await checkpoints.overview(_settings(request)),
            "alarms": alarms,
        },
    )


async def _page(before: int | None, action: str | None, limit: int) -> EventPage:
    rows = await services.recent_events(limit=limit, before_seq=before, action_prefix=action)
    events = [CustodyEventOut.from_row(row) for row in rows]
    next_before = events[-1].seq if len(events) == limit else None
    return EventPage(events=events, next_before=next_before)


class LedgerPageController(Controller):
    path = "/ledger"
    guards = [OVERSEERS]
    include_in_schema = False

    @get("/", name="ledger-page")
    async def show(
        self, request: Request[Any, Any, Any], before: Before = None, action: Action = None
    ) -> Template:
        return await _events_page(request, before, action, None)

    @post("/verify", name="ledger-verify-page", status_code=200)
    async def verify(self, request: Request[Any, Any, Any]) -> Template:
        settings = _settings(request)
        result = await services.verify_chain(checkpoints.log_verifier(settings))
        return await _events_page(request, None, None, result)

    # A witness signature must come from someone who does not run the server.
    @post(
        "/cosign",
        name="ledger-cosign-page",
        status_code=200,
        guards=[requires(Role.inspector)],
    )
    async def cosign(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[CosignForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect:
        """Keep an inspector's witness signature line over the latest checkpoint."""
        actor = services.Actor.account(current_user(request).account_id)
        await checkpoints.cosign_latest(actor, data.line)
        return Redirect("/ledger", status_code=303)


class LedgerProofController(Controller):
    """The public proof checker: anyone pastes a checkpoint, an event and its proof."""

    path = "/ledger/proof"
    opt = PUBLIC
    include_in_schema = False

    @get("/", name="ledger-proof-page")
    async def check(
        self,
        request: Request[Any, Any, Any],
        checkpoint: Annotated[str, Parameter(max_length=16384)] = "",
        leaf_index: Annotated[int | None, Parameter(ge=0, required=False)] = None,
        event: Annotated[str, Parameter(max_length=65536)] = "",
        leaf: Annotated[str, Parameter(max_length=64)] = "",
        proof: Annotated[str, Parameter(max_length=8192)] = "",
        pubkey: Annotated[str, Parameter(max_length=512)] = "",
    ) -> Template:
        pasted = checkpoints.PastedProof(checkpoint, leaf_index, event, leaf, proof, pubkey)
        result = checkpoints.check_pasted_proof(_settings(request), pasted)
        return Template(
            "ledger/proof.html",
            context={
                "pasted": pasted,
                "result": result,
                "pubkey": checkpoints.log_verifier(_settings(request)).vkey,
            },
        )


class LedgerApiController(Controller):
    path = "/api/v1/ledger"
    guards = [OVERSEERS]
    tags = ["ledger"]

    @get("/events", name="ledger-events")
    async def events(
        self,
        before: Before = None,
        action: Action = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = PAGE_SIZE,
    ) -> EventPage:
        """Custody events, newest first; page with ``before`` = the last ``seq`` seen."""
        return await _page(before, action, limit)

    @post("/verify", name="ledger-verify", status_code=200)
    async def verify(self, request: Request[Any, Any, Any]) -> services.VerifyResult:
        """Recompute the whole chain, tree and checkpoints now; name the first broken event."""
        return await services.verify_chain(checkpoints.log_verifier(_settings(request)))


# The pages of the top navigation (registered by tipline.app, which orders the bar).
NAV: list[NavItem] = [
    NavItem("/ledger", "nav.ledger", frozenset({Role.admin, Role.inspector})),
]


route_handlers = [LedgerPageController, LedgerProofController, LedgerApiController]
