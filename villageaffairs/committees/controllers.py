"""The township staff's forms of a village's page (committee, people, posts, vacancies),
and the JSON mirror under ``/api/v1/villageaffairs``.

The page itself, which also lists the village's by-elections, reviews and appraisals
(packages above this one), is shown by :mod:`villageaffairs.overview.controllers`.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import JSONBody, PathParameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER

from tipline.auth import current_user
from tipline.orgunits.services import require_visible
from villageaffairs.committees import services
from villageaffairs.committees.schemas import (
    CommitteeIn,
    CommitteeOut,
    CommitteeView,
    EndMembershipIn,
    MemberIn,
    VacancyOut,
    WaiveIn,
)
from villageaffairs.committees.tables import EndReason, MemberPost
from villageaffairs.people import services as people
from villageaffairs.people.schemas import PersonIn, PersonOut, PostIn, PostOut, RelationIn
from villageaffairs.people.tables import PostKind
from villageaffairs.web import (
    VILLAGE_STAFF,
    AnyRequest,
    BadField,
    read_form,
)

Id = Annotated[int, PathParameter(ge=1)]
MAX_MEMBERS = 7


def _key(request: AnyRequest) -> bytes:
    return people.id_key(request.app.state.settings)


def _to_village(village_id: int, anchor: str = "") -> Redirect:
    return Redirect(
        f"/villageaffairs/villages/{village_id}{anchor}", status_code=HTTP_303_SEE_OTHER
    )


class VillagePageController(Controller):
    path = "/villageaffairs"
    guards = [VILLAGE_STAFF]
    include_in_schema = False

    @post("/villages/{village_id:int}/people", name="committees-village-person")
    async def add_person(self, request: AnyRequest, village_id: Id) -> Redirect:
        form = await read_form(request)
        await people.create_person(
            current_user(request),
            _key(request),
            village_id,
            form.text("name", 50, required=True),
            form.text("gender", 8, required=True),
            form.text("id_number", 20, required=True),
        )
        return _to_village(village_id, "#people")

    @post("/villages/{village_id:int}/relations", name="committees-village-relation")
    async def add_relation(self, request: AnyRequest, village_id: Id) -> Redirect:
        form = await read_form(request)
        await people.add_relation(
            current_user(request),
            form.integer("person_a"),
            form.integer("person_b"),
            form.text("kind", 8, required=True),
        )
        return _to_village(village_id, "#people")

    @post("/villages/{village_id:int}/posts", name="committees-village-post")
    async def add_post(self, request: AnyRequest, village_id: Id) -> Redirect:
        form = await read_form(request)
        kind = form.text("kind", 24, required=True)
        if kind not in tuple(PostKind):
            raise BadField(field="kind")
        await people.add_post(
            current_user(request), form.integer("person_id"), kind, form.date("start"), village_id
        )
        return _to_village(village_id, "#posts")

    @post("/villages/{village_id:int}/committee", name="committees-village-committee")
    async def record_committee(self, request: AnyRequest, village_id: Id) -> Redirect:
        """A general election's result: up to seven rows of person and post."""
        form = await read_form(request)
        members = []
        for slot in range(1, MAX_MEMBERS + 1):
            person_id = form.integer(f"person_{slot}", 0)
            if not person_id:
                continue
            post_value = form.text(f"post_{slot}", 16) or MemberPost.member.value
            if post_value not in tuple(MemberPost):
                raise BadField(field=f"post_{slot}")
            members.append(MemberIn(person_id=person_id, post=MemberPost(post_value)))
        await services.record_committee(
            current_user(request),
            village_id,
            form.date("term_start"),
            form.integer("seats"),
            members,
        )
        return _to_village(village_id)

    @post("/memberships/{membership_id:int}/end", name="committees-membership-end")
    async def end_membership(self, request: AnyRequest, membership_id: Id) -> Redirect:
        form = await read_form(request)
        reason = form.text("reason", 32, required=True)
        if reason not in tuple(EndReason):
            raise BadField(field="reason")
        vacancy = await services.end_membership_by_hand(
            current_user(request), membership_id, form.date("end"), reason
        )
        village_id = form.integer("village_id", 0) or (vacancy.village_id if vacancy else 0)
        return _to_village(village_id, "#vacancies")

    @post("/vacancies/{vacancy_id:int}/waive", name="committees-vacancy-waive")
    async def waive(self, request: AnyRequest, vacancy_id: Id) -> Redirect:
        form = await read_form(request)
        vacancy = await services.waive_vacancy(
            current_user(request), vacancy_id, form.text("decision_ref", 200)
        )
        return _to_village(vacancy.village_id, "#vacancies")


class CommitteeApiController(Controller):
    path = "/api/v1/villageaffairs"
    guards = [VILLAGE_STAFF]
    tags = ["villageaffairs"]

    @get("/villages", name="committees-api-villages")
    async def villages(self, request: AnyRequest) -> list[services.VillageRow]:
        """Visible villages with committee size, women, open vacancies and rule failures."""
        return await services.register_rows(current_user(request))

    @get("/villages/{village_id:int}/committee", name="committees-api-committee")
    async def committee(self, request: AnyRequest, village_id: Id) -> CommitteeView:
        return await services.committee_view(current_user(request), village_id)

    @post("/committees", name="committees-api-committee-record", status_code=201)
    async def record(self, request: AnyRequest, data: JSONBody[CommitteeIn]) -> CommitteeOut:
        """Record a general election's result; 422 lists every failed rule with its article."""
        return await services.record_committee(
            current_user(request), data.village_id, data.term_start, data.seats, data.members
        )

    @get("/villages/{village_id:int}/people", name="committees-api-people")
    async def people_list(self, request: AnyRequest, village_id: Id) -> list[PersonOut]:
        await require_visible(current_user(request), village_id)
        return await people.people_of_village(village_id)

    @post("/people", name="committees-api-person", status_code=201)
    async def person(self, request: AnyRequest, data: JSONBody[PersonIn]) -> PersonOut:
        """Register a person; the id number is kept only hashed and masked."""
        return await people.create_person(
            current_user(request),
            _key(request),
            data.village_id,
            data.name,
            data.gender.value,
            data.id_number,
        )

    @post("/relations", name="committees-api-relation", status_code=204)
    async def relation(self, request: AnyRequest, data: JSONBody[RelationIn]) -> None:
        await people.add_relation(
            current_user(request), data.person_a, data.person_b, data.kind.value
        )

    @post("/posts", name="committees-api-post", status_code=201)
    async def post_(self, request: AnyRequest, data: JSONBody[PostIn]) -> PostOut:
        return await people.add_post(
            current_user(request), data.person_id, data.kind.value, data.start
        )

    @post("/memberships/{membership_id:int}/end", name="committees-api-end", status_code=200)
    async def end(
        self, request: AnyRequest, membership_id: Id, data: JSONBody[EndMembershipIn]
    ) -> VacancyOut | None:
        """Record a departure; the answer is the vacancy it opened."""
        return await services.end_membership_by_hand(
            current_user(request), membership_id, data.end, data.reason
        )

    @get("/vacancies", name="committees-api-vacancies")
    async def vacancies(self, request: AnyRequest) -> list[VacancyOut]:
        return await services.visible_vacancies(current_user(request))

    @post("/vacancies/{vacancy_id:int}/waive", name="committees-api-vacancy-waive", status_code=200)
    async def waive(
        self, request: AnyRequest, vacancy_id: Id, data: JSONBody[WaiveIn]
    ) -> VacancyOut:
        return await services.waive_vacancy(current_user(request), vacancy_id, data.decision_ref)


route_handlers = [VillagePageController, CommitteeApiController]
