"""Village rules pages (draft, reviews, adoption, filing, publication) and their JSON mirror."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import PathParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tipline.auth import Role, current_user, requires
from tipline.errors import Invalid
from tipline.web.i18n import translate
from tipline.web.templating import Locale
from villageaffairs.access import require_village
from villageaffairs.legal import RulesViolated
from villageaffairs.villagerules import services
from villageaffairs.villagerules.services import AdoptionIn, DraftIn, ReviewIn, RulesOut
from villageaffairs.villagerules.tables import AdoptionMethod, RulesKind

VIEWERS = requires(Role.township_staff, Role.county_staff, Role.admin, Role.inspector)
WRITERS = requires(Role.township_staff, Role.county_staff)
Id = Annotated[int, PathParameter(ge=1)]
AnyRequest = Request[Any, Any, Any]
STEPS = ("edit", "submit", "review", "adopt", "file", "publish")


class BadForm(Invalid):
    message_key = "supervision.error.bad_form"


def _date(value: Any) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise BadForm() from None


def _int(value: Any) -> int | None:
    text = str(value or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise BadForm()
    return int(text)


def _draft(form: dict[str, str]) -> DraftIn:
    kind = form.get("kind", RulesKind.village_rules.value)
    if kind not in tuple(RulesKind):
        raise BadForm()
    return DraftIn(
        title=form.get("title", ""),
        text=form.get("text", ""),
        kind=RulesKind(kind),
        anti_gang_marked=bool(form.get("anti_gang_marked")),
        anti_gang_excerpt=form.get("anti_gang_excerpt", ""),
        version_reason=form.get("version_reason", ""),
    )


async def _page(
    request: AnyRequest,
    village_id: int,
    *,
    problems: list[str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    user = current_user(request)
    village = await require_village(user, village_id)
    versions = await services.versions_of(village_id)
    return Template(
        "villagerules/village.html",
        context={
            "village": village,
            "versions": versions,
            "current": next((v for v in versions if v.status.value != "superseded"), None),
            "role": user.role.value,
            "problems": problems or [],
            "form": form or {},
            "today": dt.date.today().isoformat(),
        },
        status_code=status_code,
    )


async def _run(request: AnyRequest, step: str, village_id: int, form: dict[str, str]) -> RulesOut:
    user = current_user(request)
    rules_id = _int(form.get("rules_id"))
    if step == "new":
        return await services.create_draft(user, village_id, _draft(form))
    if rules_id is None:
        raise BadForm()
    current = await services.get_rules(rules_id)
    if current.village_id != village_id:
        raise BadForm()
    if step == "edit":
        return await services.update_draft(user, rules_id, _draft(form))
    if step == "submit":
        return await services.submit(user, rules_id)
    if step == "review":
        return await services.review(
            user,
            rules_id,
            ReviewIn(approved=form.get("decision") == "approve", comment=form.get("comment", "")),
        )
    if step == "adopt":
        method = form.get("method", "")
        if method not in tuple(AdoptionMethod):
            raise BadForm()
        return await services.record_adoption(
            user,
            rules_id,
            AdoptionIn(
                method=AdoptionMethod(method),
                adopted_on=_date(form.get("adopted_on")),
                eligible_voters=_int(form.get("eligible_voters")),
                attended=_int(form.get("attended")),
                votes_for=_int(form.get("votes_for")),
                households_total=_int(form.get("households_total")),
                attended_households=_int(form.get("attended_households")),
                households_signed=_int(form.get("households_signed")),
            ),
        )
    if step == "file":
        return await services.file_with_township(user, rules_id, _date(form.get("filed_on")))
    if step == "publish":
        return await services.publish(user, rules_id, _date(form.get("published_on")))
    raise BadForm()


class VillageRulesPageController(Controller):
    path = "/villageaffairs/villagerules"
    guards = [VIEWERS]
    include_in_schema = False

    @get("/villages/{village_id:int}", name="villagerules-village")
    async def village(self, request: AnyRequest, village_id: Id) -> Template:
        return await _page(request, village_id)

    @post("/villages/{village_id:int}/{step:str}", name="villagerules-step", guards=[WRITERS])
    async def step(
        self,
        request: AnyRequest,
        locale: Locale,
        village_id: Id,
        step: Annotated[str, PathParameter(max_length=10)],
    ) -> Template | Redirect:
        """One step of the workflow; a refusal re-shows the page with every reason."""
        form = {key: str(value) for key, value in (await request.form()).items()}
        try:
            await _run(request, step, village_id, form)
        except RulesViolated as violated:
            return await _page(
                request,
                village_id,
                problems=violated.messages(locale),
                form=form,
                status_code=violated.status_code,
            )
        except Invalid as invalid:
            return await _page(
                request,
                village_id,
                problems=[translate(locale, invalid.key, **invalid.values)],
                form=form,
                status_code=invalid.status_code,
            )
        return Redirect(
            f"/villageaffairs/villagerules/villages/{village_id}", status_code=HTTP_303_SEE_OTHER
        )

    @get("/queue", name="villagerules-queue")
    async def queue(self, request: AnyRequest) -> Template:
        """Versions waiting for the account's review (township, or county legal)."""
        items = await services.review_queue(current_user(request))
        return Template("villagerules/queue.html", context={"items": items})


class VillageRulesApiController(Controller):
    path = "/api/v1/villageaffairs/villagerules"
    guards = [VIEWERS]
    tags = ["villageaffairs"]

    @get("/villages/{village_id:int}", name="villagerules-api-list")
    async def versions(self, request: AnyRequest, village_id: Id) -> list[RulesOut]:
        await require_village(current_user(request), village_id)
        return await services.versions_of(village_id)

    @post("/villages/{village_id:int}", name="villagerules-api-draft", guards=[WRITERS])
    async def draft(self, request: AnyRequest, village_id: Id, data: DraftIn) -> RulesOut:
        return await services.create_draft(current_user(request), village_id, data)

    @post("/{rules_id:int}/submit", name="villagerules-api-submit", guards=[WRITERS])
    async def submit(self, request: AnyRequest, rules_id: Id) -> RulesOut:
        return await services.submit(current_user(request), rules_id)

    @post("/{rules_id:int}/review", name="villagerules-api-review", guards=[WRITERS])
    async def review(self, request: AnyRequest, rules_id: Id, data: ReviewIn) -> RulesOut:
        return await services.review(current_user(request), rules_id, data)

    @post("/{rules_id:int}/adoption", name="villagerules-api-adopt", guards=[WRITERS])
    async def adopt(self, request: AnyRequest, rules_id: Id, data: AdoptionIn) -> RulesOut:
        """Record the vote or signatures (422 with each failing threshold and its article)."""
        return await services.record_adoption(current_user(request), rules_id, data)


route_handlers = [VillageRulesPageController, VillageRulesApiController]
