"""The chain of custody for the discipline inspector and the administrator.

Read-only: nobody can change an event through any route.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import Parameter
from litestar.response import Template

from tipline.auth import Role, requires
from tipline.ledger import services
from tipline.ledger.schemas import CustodyEventOut, EventPage

OVERSEERS = requires(Role.admin, Role.inspector)
PAGE_SIZE = 100

Before = Annotated[
    int | None, Parameter(ge=1, required=False, description="events before this seq")
]
Action = Annotated[
    str | None, Parameter(max_length=64, required=False, description="action prefix")
]


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
    async def show(self, before: Before = None, action: Action = None) -> Template:
        page = await _page(before, action, PAGE_SIZE)
        return Template(
            "ledger/events.html", context={"page": page, "action": action or "", "result": None}
        )

    @post("/verify", name="ledger-verify-page", status_code=200)
    async def verify(self) -> Template:
        result = await services.verify_chain()
        page = await _page(None, None, PAGE_SIZE)
        return Template(
            "ledger/events.html",
            context={"page": page, "action": "", "result": result},
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
    async def verify(self) -> services.VerifyResult:
        """Recompute the whole chain now and name the first broken event, if any."""
        return await services.verify_chain()


route_handlers = [LedgerPageController, LedgerApiController]
