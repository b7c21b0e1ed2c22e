"""Deadline rules (``/admin/duedates``) and escalations (``/escalations``), with JSON twins.

Escalations are shown to the discipline inspector, the bureau leader and the
designated officers; only the inspector's page has the form to resolve one (the
service refuses everyone else with 403 as well).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromQuery, JSONBody, PathParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tipline.auth import Role, current_user, requires
from tipline.duedates import services
from tipline.duedates.services import (
    EscalationOut,
    OfficerDeadlineCounts,
    RuleInput,
    RuleOut,
)
from tipline.ledger.services import Actor
from tipline.web.templating import ADMIN, NavItem

AnyRequest = Request[Any, Any, Any]
Id = Annotated[int, PathParameter(ge=1)]
ADMIN_ONLY = requires(Role.admin)
ESCALATION_READERS = requires(Role.inspector, Role.leader, Role.officer)
# The officer must not dismiss an escalation; the service refuses anyone else too.
INSPECTOR_ONLY = requires(Role.inspector)


class ResolveBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: str


class EscalationsOut(msgspec.Struct, frozen=True):
    open: list[EscalationOut]
    resolved: list[EscalationOut]
    officers: list[OfficerDeadlineCounts]


def _flag(form: Any, name: str) -> bool:
    return str(form.get(name, "")).lower() in ("1", "on", "true", "yes")


def _int(value: Any) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise services.BadRule(field="working_days") from None


class DueDateRulesPageController(Controller):
    path = "/admin/duedates"
    guards = [ADMIN_ONLY]
    include_in_schema = False

    @get("/", name="admin-duedates")
    async def show(self, done: FromQuery[int | None] = None) -> Template:
        """The rules with one form each; a change applies from the next triggering event."""
        return Template(
            "duedates/rules.html",
            context={
                "rules": await services.list_rules(),
                "triggers": services.TRIGGERS,
                "events": services.SATISFYING_EVENTS,
                "done": bool(done),
            },
        )

    @post("/{rule_id:int}", name="admin-duedates-update")
    async def update(self, request: AnyRequest, rule_id: Id) -> Redirect:
        form = await request.form()
        data = RuleInput(
            trigger=str(form.get("trigger", "")),
            working_days=_int(form.get("working_days", "")),
            satisfied_by=[str(item) for item in form.getall("satisfied_by", [])],
            real_name_only=_flag(form, "real_name_only"),
            active=_flag(form, "active"),
        )
        await services.update_rule(Actor.account(current_user(request).account_id), rule_id, data)
        return Redirect("/admin/duedates?done=1", status_code=HTTP_303_SEE_OTHER)


class EscalationsPageController(Controller):
    path = "/escalations"
    guards = [ESCALATION_READERS]
    include_in_schema = False

    @get("/", name="escalations")
    async def show(self, request: AnyRequest, done: FromQuery[int | None] = None) -> Template:
        """Open escalations, the recently resolved, and each officer's deadlines by state."""
        user = current_user(request)
        return Template(
            "duedates/escalations.html",
            context={
                "open": await services.open_escalations(),
                "resolved": await services.resolved_escalations(),
                "officers": await services.officer_counts(),
                "can_resolve": user.role is Role.inspector,
                "done": bool(done),
            },
        )

    @post("/{deadline_id:int}/resolve", name="escalations-resolve", guards=[INSPECTOR_ONLY])
    async def resolve(self, request: AnyRequest, deadline_id: Id) -> Redirect:
        form = await request.form()
        await services.resolve_escalation(
            current_user(request), deadline_id, str(form.get("reason", ""))
        )
        return Redirect("/escalations?done=1", status_code=HTTP_303_SEE_OTHER)


async def _escalations_out() -> EscalationsOut:
    return EscalationsOut(
        open=await services.open_escalations(),
        resolved=await services.resolved_escalations(),
        officers=await services.officer_counts(),
    )


class DueDatesApiController(Controller):
    path = "/api/v1"
    tags = ["deadlines"]

    @get("/escalations", name="api-escalations", guards=[ESCALATION_READERS])
    async def escalations(self) -> EscalationsOut:
        """Open and recently resolved escalations, and open deadlines per officer by state."""
        return await _escalations_out()

    @post(
        "/escalations/{deadline_id:int}/resolve",
        name="api-escalations-resolve",
        guards=[INSPECTOR_ONLY],
        status_code=200,
    )
    async def resolve(
        self, request: AnyRequest, deadline_id: Id, data: JSONBody[ResolveBody]
    ) -> EscalationsOut:
        """The discipline inspector resolves an escalation with a reason (403 for others)."""
        await services.resolve_escalation(current_user(request), deadline_id, data.reason)
        return await _escalations_out()

    @get("/admin/duedates", name="api-admin-duedates", guards=[ADMIN_ONLY])
    async def rules(self) -> list[RuleOut]:
        """The deadline rules (defaults from 检举控告工作规则 Art. 15–18, editable)."""
        return await services.list_rules()

    @post(
        "/admin/duedates/{rule_id:int}",
        name="api-admin-duedates-update",
        guards=[ADMIN_ONLY],
        status_code=200,
    )
    async def update_rule(
        self, request: AnyRequest, rule_id: Id, data: JSONBody[RuleInput]
    ) -> RuleOut:
        return await services.update_rule(
            Actor.account(current_user(request).account_id), rule_id, data
        )


# The pages of the top navigation (registered by tipline.app, which orders the bar).
NAV: list[NavItem] = [
    NavItem("/escalations", "duedates.nav", frozenset({Role.inspector, Role.leader, Role.officer})),
    NavItem("/admin/duedates", "duedates.rules.title", ADMIN),
]


route_handlers = [DueDateRulesPageController, EscalationsPageController, DueDatesApiController]
