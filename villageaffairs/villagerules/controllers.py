"""Village rules pages (draft, reviews, adoption, filing, publication) and their JSON mirror."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import JSONBody, PathParameter, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tipline.auth import CurrentUser, Role, User, current_user, requires
from tipline.web.forms import form_page
from villageaffairs.access import require_village
from villageaffairs.villagerules import services
from villageaffairs.villagerules.exceptions import BadField
from villageaffairs.villagerules.schemas import AdoptionIn, DraftIn, ReviewIn, StepForm
from villageaffairs.villagerules.services import RulesOut

VIEWERS = requires(Role.township_staff, Role.county_staff, Role.admin, Role.inspector)
WRITERS = requires(Role.township_staff, Role.county_staff)
Id = Annotated[int, PathParameter(ge=1)]
AnyRequest = Request[Any, Any, Any]
STEPS = ("edit", "submit", "review", "adopt", "file", "publish")


async def village_page(request: AnyRequest) -> Template:
    """A village's rules, every version, and the form of the step it is at (as refused:
    ``tipline.web.forms`` adds ``error``, ``problems`` and ``form``)."""
    user = current_user(request)
    village_id = int(request.path_params["village_id"])
    village = await require_village(user, village_id)
    versions = await services.versions_of(village_id)
    return Template(
        "villagerules/village.html",
        context={
            "village": village,
            "versions": versions,
            "current": next((v for v in versions if v.status.value != "superseded"), None),
            "role": user.role.value,
            "problems": [],
            "form": {},
            "today": dt.date.today().isoformat(),
        },
    )


async def _run(user: CurrentUser, step: str, village_id: int, form: StepForm) -> RulesOut:
    if step == "new":
        return await services.create_draft(user, village_id, form.draft())
    rules_id = form.rules()
    if rules_id is None or (await services.get_rules(rules_id)).village_id != village_id:
        raise BadField(field="rules_id")
    if step == "edit":
        return await services.update_draft(user, rules_id, form.draft())
    if step == "submit":
        return await services.submit(user, rules_id)
    if step == "review":
        return await services.review(user, rules_id, form.review())
    if step == "adopt":
        return await services.record_adoption(user, rules_id, form.adoption())
    if step == "file":
        return await services.file_with_township(user, rules_id, form.filed())
    if step == "publish":
        return await services.publish(user, rules_id, form.published())
    raise BadField(field="step")


class VillageRulesPageController(Controller):
    path = "/villageaffairs/villagerules"
    guards = [VIEWERS]
    include_in_schema = False

    @get("/villages/{village_id:int}", name="villagerules-village")
    async def village(self, request: AnyRequest, village_id: Id) -> Template:
        return await village_page(request)

    @post(
        "/villages/{village_id:int}/{step:str}",
        name="villagerules-step",
        guards=[WRITERS],
        opt=form_page(village_page),
    )
    async def step(
        self,
        user: User,
        village_id: Id,
        step: Annotated[str, PathParameter(max_length=10)],
        data: URLEncodedBody[StepForm],
    ) -> Redirect:
        """One step of the workflow; a refusal re-shows the page with every reason."""
        await _run(user, step, village_id, data)
        return Redirect(
            f"/villageaffairs/villagerules/villages/{village_id}", status_code=HTTP_303_SEE_OTHER
        )

    @get("/queue", name="villagerules-queue")
    async def queue(self, user: User) -> Template:
        """Versions waiting for the account's review (township, or county legal)."""
        items = await services.review_queue(user)
        return Template("villagerules/queue.html", context={"items": items})


class VillageRulesApiController(Controller):
    path = "/api/v1/villageaffairs/villagerules"
    guards = [VIEWERS]
    tags = ["villageaffairs"]

    @get("/villages/{village_id:int}", name="villagerules-api-list")
    async def versions(self, user: User, village_id: Id) -> list[RulesOut]:
        await require_village(user, village_id)
        return await services.versions_of(village_id)

    @post("/villages/{village_id:int}", name="villagerules-api-draft", guards=[WRITERS])
    async def draft(self, user: User, village_id: Id, data: JSONBody[DraftIn]) -> RulesOut:
        return await services.create_draft(user, village_id, data)

    @post("/{rules_id:int}/submit", name="villagerules-api-submit", guards=[WRITERS])
    async def submit(self, user: User, rules_id: Id) -> RulesOut:
        return await services.submit(user, rules_id)

    @post("/{rules_id:int}/review", name="villagerules-api-review", guards=[WRITERS])
    async def review(self, user: User, rules_id: Id, data: JSONBody[ReviewIn]) -> RulesOut:
        return await services.review(user, rules_id, data)

    @post("/{rules_id:int}/adoption", name="villagerules-api-adopt", guards=[WRITERS])
    async def adopt(self, user: User, rules_id: Id, data: JSONBody[AdoptionIn]) -> RulesOut:
        """Record the vote or signatures (422 with each failing threshold and its article)."""
        return await services.record_adoption(user, rules_id, data)


route_handlers = [VillageRulesPageController, VillageRulesApiController]
