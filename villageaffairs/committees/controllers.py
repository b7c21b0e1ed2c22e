"""The township staff's forms of a village's page (committee, people, posts, vacancies),
and the JSON mirror under ``/api/v1/villageaffairs``.

The page itself, which also lists the village's by-elections, reviews and appraisals
(packages above this one), is shown by :mod:`villageaffairs.overview.controllers`.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import JSONBody, PathParameter, URLEncodedBody
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER

from tipline.auth import User
from tipline.orgunits.services import require_visible
from villageaffairs.committees import services
from villageaffairs.committees.exceptions import BadField
from villageaffairs.committees.schemas import (
    MAX_MEMBERS,
    CommitteeForm,
    CommitteeIn,
    CommitteeOut,
    CommitteeView,
    EndForm,
    EndMembershipIn,
    PersonForm,
    PostForm,
    RelationForm,
    VacancyOut,
    WaiveForm,
    WaiveIn,
    day,
    integer,
    text,
)
from villageaffairs.committees.tables import EndReason
from villageaffairs.people import services as people
from villageaffairs.people.schemas import PersonIn, PersonOut, PostIn, PostOut, RelationIn
from villageaffairs.people.tables import PostKind
from villageaffairs.web import VILLAGE_STAFF, AnyRequest

Id = Annotated[int, PathParameter(ge=1)]
__all__ = ["MAX_MEMBERS", "route_handlers"]


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

    # The village's page that holds these forms is drawn by villageaffairs.overview
    # (above this package): a refusal is the error page with a link back.

    @post("/villages/{village_id:int}/people", name="committees-village-person")
    async def add_person(
        self, request: AnyRequest, user: User, village_id: Id, data: URLEncodedBody[PersonForm]
    ) -> Redirect:
        await people.create_person(
            user,
            _key(request),
            village_id,
            text(data.name, "name", 50, required=True),
            text(data.gender, "gender", 8, required=True),
            text(data.id_number, "id_number", 20, required=True),
        )
        return _to_village(village_id, "#people")

    @post("/villages/{village_id:int}/relations", name="committees-village-relation")
    async def add_relation(
        self, user: User, village_id: Id, data: URLEncodedBody[RelationForm]
    ) -> Redirect:
        await people.add_relation(
            user,
            integer(data.person_a, "person_a"),
            integer(data.person_b, "person_b"),
            text(data.kind, "kind", 8, required=True),
        )
        return _to_village(village_id, "#people")

    @post("/villages/{village_id:int}/posts", name="committees-village-post")
    async def add_post(
        self, user: User, village_id: Id, data: URLEncodedBody[PostForm]
    ) -> Redirect:
        kind = text(data.kind, "kind", 24, required=True)
        if kind not in tuple(PostKind):
            raise BadField(field="kind")
        await people.add_post(
            user,
            integer(data.person_id, "person_id"),
            kind,
            day(data.start, "start"),
            village_id,
        )
        return _to_village(village_id, "#posts")

    @post("/villages/{village_id:int}/committee", name="committees-village-committee")
    async def record_committee(
        self, user: User, village_id: Id, data: URLEncodedBody[CommitteeForm]
    ) -> Redirect:
        """A general election's result: up to seven rows of person and post."""
        members = data.members()
        await services.record_committee(
            user,
            village_id,
            day(data.term_start, "term_start"),
            integer(data.seats, "seats"),
            members,
        )
        return _to_village(village_id)

    @post("/memberships/{membership_id:int}/end", name="committees-membership-end")
    async def end_membership(
        self, user: User, membership_id: Id, data: URLEncodedBody[EndForm]
    ) -> Redirect:
        reason = text(data.reason, "reason", 32, required=True)
        if reason not in tuple(EndReason):
            raise BadField(field="reason")
        vacancy = await services.end_membership_by_hand(
            user, membership_id, day(data.end, "end"), reason
        )
        village_id = integer(data.village_id, "village_id", 0) or (
            vacancy.village_id if vacancy else 0
        )
        return _to_village(village_id, "#vacancies")

    @post("/vacancies/{vacancy_id:int}/waive", name="committees-vacancy-waive")
    async def waive(self, user: User, vacancy_id: Id, data: URLEncodedBody[WaiveForm]) -> Redirect:
        vacancy = await services.waive_vacancy(
            user, vacancy_id, text(data.decision_ref, "decision_ref", 200)
        )
        return _to_village(vacancy.village_id, "#vacancies")


class CommitteeApiController(Controller):
    path = "/api/v1/villageaffairs"
    guards = [VILLAGE_STAFF]
    tags = ["villageaffairs"]

    @get("/villages", name="committees-api-villages")
    async def villages(self, user: User) -> list[services.VillageRow]:
        """Visible villages with committee size, women, open vacancies and rule failures."""
        return await services.register_rows(user)

    @get("/villages/{village_id:int}/committee", name="committees-api-committee")
    async def committee(self, user: User, village_id: Id) -> CommitteeView:
        return await services.committee_view(user, village_id)

    @post("/committees", name="committees-api-committee-record", status_code=201)
    async def record(self, user: User, data: JSONBody[CommitteeIn]) -> CommitteeOut:
        """Record a general election's result; 422 lists every failed rule with its article."""
        return await services.record_committee(
            user, data.village_id, data.term_start, data.seats, data.members
        )

    @get("/villages/{village_id:int}/people", name="committees-api-people")
    async def people_list(self, user: User, village_id: Id) -> list[PersonOut]:
        await require_visible(user, village_id)
        return await people.people_of_village(village_id)

    @post("/people", name="committees-api-person", status_code=201)
    async def person(self, request: AnyRequest, user: User, data: JSONBody[PersonIn]) -> PersonOut:
        """Register a person; the id number is kept only hashed and masked."""
        return await people.create_person(
            user,
            _key(request),
            data.village_id,
            data.name,
            data.gender.value,
            data.id_number,
        )

    @post("/relations", name="committees-api-relation", status_code=204)
    async def relation(self, user: User, data: JSONBody[RelationIn]) -> None:
        await people.add_relation(user, data.person_a, data.person_b, data.kind.value)

    @post("/posts", name="committees-api-post", status_code=201)
    async def post_(self, user: User, data: JSONBody[PostIn]) -> PostOut:
        return await people.add_post(user, data.person_id, data.kind.value, data.start)

    @post("/memberships/{membership_id:int}/end", name="committees-api-end", status_code=200)
    async def end(
        self, user: User, membership_id: Id, data: JSONBody[EndMembershipIn]
    ) -> VacancyOut | None:
        """Record a departure; the answer is the vacancy it opened."""
        return await services.end_membership_by_hand(user, membership_id, data.end, data.reason)

    @get("/vacancies", name="committees-api-vacancies")
    async def vacancies(self, user: User) -> list[VacancyOut]:
        return await services.visible_vacancies(user)

    @post("/vacancies/{vacancy_id:int}/waive", name="committees-api-vacancy-waive", status_code=200)
    async def waive(self, user: User, vacancy_id: Id, data: JSONBody[WaiveIn]) -> VacancyOut:
        return await services.waive_vacancy(user, vacancy_id, data.decision_ref)


route_handlers = [VillagePageController, CommitteeApiController]
