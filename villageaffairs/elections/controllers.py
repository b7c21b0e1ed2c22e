"""By-election pages for township staff (one form per stage), the register with its
Excel export, and the JSON mirror under ``/api/v1/villageaffairs/by-elections``."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.params import JSONBody, Parameter, PathParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tipline.auth import current_user
from tipline.web.i18n import translate
from tipline.web.templating import request_locale
from villageaffairs.elections import services
from villageaffairs.elections.schemas import (
    ByElectionDetail,
    ByElectionOut,
    CandidateOut,
    CheckIn,
    CloseVettingIn,
    FailIn,
    NominateIn,
    PlanIn,
    PublishIn,
    TallyIn,
    TallyOutcome,
    VoteIn,
)
from villageaffairs.elections.tables import Eligibility
from villageaffairs.people.services import people_of_village
from villageaffairs.reports import services as reports
from villageaffairs.web import (
    VILLAGE_STAFF,
    AnyRequest,
    BadField,
    read_form,
    workbook,
    xlsx_response,
)

Id = Annotated[int, PathParameter(ge=1)]
PAGE = "/villageaffairs/by-elections"


def _to(by_election_id: int, anchor: str = "") -> Redirect:
    return Redirect(f"{PAGE}/{by_election_id}{anchor}", status_code=HTTP_303_SEE_OTHER)


class ByElectionPageController(Controller):
    path = PAGE
    guards = [VILLAGE_STAFF]
    include_in_schema = False

    @get("/", name="elections-by-elections")
    async def list_page(
        self,
        request: AnyRequest,
        township: Annotated[int | None, Parameter(required=False, ge=1)] = None,
    ) -> Template:
        items = await services.list_by_elections(current_user(request), township_id=township)
        return Template("villageaffairs/elections/list.html", context={"items": items})

    @get("/export.xlsx", name="elections-by-elections-export")
    async def export(self, request: AnyRequest) -> Response[bytes]:
        """The by-election register as Excel: one row per candidate."""
        user = current_user(request)
        locale = request_locale(request)

        def t(key: str) -> str:
            return translate(locale, key)

        rows: list[list[Any]] = []
        for item in await services.list_by_elections(user):
            detail = await services.detail(user, item.id)
            report = await reports.latest_for_subject(services.KIND, item.id)
            for c in detail.candidates or [None]:  # type: ignore[list-item]
                rows.append(
                    [
                        item.village_name,
                        item.election_date,
                        t(f"elections.method.{item.method.value}"),
                        t(f"elections.status.{item.status.value}"),
                        ", ".join(t(f"committees.post.{s.post}") for s in item.seats),
                        c.name if c else "",
                        t(f"committees.post.{c.post}") if c else "",
                        t(f"elections.eligibility.{c.eligibility.value}") if c else "",
                        (t("appraisals.yes") if c.elected else t("appraisals.no")) if c else "",
                        item.joint_review_ref,
                        item.voter_list_published_on,
                        item.filed_on,
                        t(f"reports.status.{report.status.value}") if report else "",
                    ]
                )
        header = [
            t("elections.col.village"),
            t("elections.col.date"),
            t("elections.col.method"),
            t("elections.col.status"),
            t("elections.col.seats"),
            t("elections.col.candidate"),
            t("elections.col.post"),
            t("elections.col.eligibility"),
            t("elections.col.elected"),
            t("elections.field.joint_review_ref"),
            t("elections.field.voter_list_published_on"),
            t("elections.status.filed"),
            t("reports.block.title"),
        ]
        return xlsx_response("by_elections.xlsx", workbook(t("elections.title"), header, rows))

    @post("/", name="elections-by-elections-plan")
    async def plan(self, request: AnyRequest) -> Redirect:
        form = await read_form(request)
        ids = []
        for raw in form.all("vacancy_id"):
            if not raw.isdigit():
                raise BadField(field="vacancy_id")
            ids.append(int(raw))
        election = await services.plan(
            current_user(request),
            ids,
            form.text("method", 32, required=True),
            form.date("election_date"),
        )
        return _to(election.id)

    @get("/{by_election_id:int}", name="elections-by-election")
    async def detail_page(self, request: AnyRequest, by_election_id: Id) -> Template:
        user = current_user(request)
        detail = await services.detail(user, by_election_id)
        report = await reports.latest_for_subject(services.KIND, by_election_id)
        candidate_people = {c.person_id for c in detail.candidates}
        return Template(
            "villageaffairs/elections/detail.html",
            context={
                "d": detail,
                "b": detail.by_election,
                "people": [
                    p
                    for p in await people_of_village(detail.by_election.village_id)
                    if p.id not in candidate_people
                ],
                "posts": sorted({s.post for s in detail.by_election.seats}),
                "standing": [
                    c
                    for c in detail.candidates
                    if c.eligibility is Eligibility.clear and not c.elected
                ],
                "report_view": await reports.report_view(user, report),
                "report_next": f"{PAGE}/{by_election_id}",
                "results": ["clear", "flagged", "pending"],
                "flags": [
                    "criminal_record",
                    "village_bully",
                    "gang",
                    "cult",
                    "under_investigation",
                    "discipline_period",
                ],
            },
        )

    @post("/{by_election_id:int}/{step:str}", name="elections-by-election-step")
    async def step(
        self,
        request: AnyRequest,
        by_election_id: Id,
        step: Annotated[str, PathParameter(max_length=20)],
    ) -> Redirect:
        user = current_user(request)
        form = await read_form(request)
        if step == "approve":
            await services.approve_plan(user, by_election_id)
        elif step == "nominate":
            await services.nominate(
                user, by_election_id, form.integer("person_id"), form.text("post", 16)
            )
        elif step == "start-vetting":
            await services.start_vetting(user, by_election_id)
        elif step == "check":
            await services.record_check(
                user,
                by_election_id,
                form.integer("candidate_id"),
                form.text("agency", 24),
                form.text("result", 8),
                form.text("flag", 24),
                form.text("document_ref", 100),
            )
            return _to(by_election_id, "#vetting")
        elif step == "close-vetting":
            await services.close_vetting(
                user, by_election_id, form.text("joint_review_ref", 100, required=True)
            )
        elif step == "publish":
            await services.publish(
                user,
                by_election_id,
                form.integer("registered_voters"),
                form.date("voter_list_published_on"),
                form.date("candidates_published_on"),
            )
        elif step == "tally":
            votes = [
                VoteIn(candidate_id=int(key.split("_", 1)[1]), votes=form.integer(key))
                for key in form.data
                if key.startswith("votes_") and key.split("_", 1)[1].isdigit()
            ]
            await services.record_tally(
                user, by_election_id, form.date("held_on"), form.integer("ballots_cast"), votes
            )
            return _to(by_election_id, "#tally")
        elif step == "file":
            await services.file(user, by_election_id)
        elif step == "fail":
            await services.fail(user, by_election_id, form.text("reason", 2000))
        else:
            raise BadField(field="step")
        return _to(by_election_id)


class ByElectionApiController(Controller):
    path = "/api/v1/villageaffairs/by-elections"
    guards = [VILLAGE_STAFF]
    tags = ["villageaffairs"]

    @get("/", name="elections-api-list")
    async def list_all(self, request: AnyRequest) -> list[ByElectionOut]:
        return await services.list_by_elections(current_user(request))

    @post("/", name="elections-api-plan", status_code=201)
    async def plan(self, request: AnyRequest, data: JSONBody[PlanIn]) -> ByElectionOut:
        return await services.plan(
            current_user(request), data.vacancy_ids, data.method.value, data.election_date
        )

    @get("/{by_election_id:int}", name="elections-api-by-election")
    async def get_one(self, request: AnyRequest, by_election_id: Id) -> ByElectionDetail:
        return await services.detail(current_user(request), by_election_id)

    @post("/{by_election_id:int}/approve", name="elections-api-approve", status_code=200)
    async def approve(self, request: AnyRequest, by_election_id: Id) -> ByElectionOut:
        return await services.approve_plan(current_user(request), by_election_id)

    @post("/{by_election_id:int}/candidates", name="elections-api-nominate", status_code=201)
    async def nominate(
        self, request: AnyRequest, by_election_id: Id, data: JSONBody[NominateIn]
    ) -> CandidateOut:
        return await services.nominate(
            current_user(request), by_election_id, data.person_id, data.post
        )

    @post("/{by_election_id:int}/start-vetting", name="elections-api-vet", status_code=200)
    async def start_vetting(self, request: AnyRequest, by_election_id: Id) -> ByElectionOut:
        return await services.start_vetting(current_user(request), by_election_id)

    @post("/{by_election_id:int}/checks", name="elections-api-check", status_code=204)
    async def check(self, request: AnyRequest, by_election_id: Id, data: JSONBody[CheckIn]) -> None:
        await services.record_check(
            current_user(request),
            by_election_id,
            data.candidate_id,
            data.agency,
            data.result,
            data.flag,
            data.document_ref,
            data.checked_on,
        )

    @post("/{by_election_id:int}/close-vetting", name="elections-api-close", status_code=200)
    async def close_vetting(
        self, request: AnyRequest, by_election_id: Id, data: JSONBody[CloseVettingIn]
    ) -> ByElectionOut:
        """County joint review; 422 lists incomplete vetting or too few candidates."""
        return await services.close_vetting(
            current_user(request), by_election_id, data.joint_review_ref
        )

    @post("/{by_election_id:int}/publish", name="elections-api-publish", status_code=200)
    async def publish(
        self, request: AnyRequest, by_election_id: Id, data: JSONBody[PublishIn]
    ) -> ByElectionOut:
        return await services.publish(
            current_user(request),
            by_election_id,
            data.registered_voters,
            data.voter_list_published_on,
            data.candidates_published_on,
        )

    @post("/{by_election_id:int}/tally", name="elections-api-tally", status_code=200)
    async def tally(
        self, request: AnyRequest, by_election_id: Id, data: JSONBody[TallyIn]
    ) -> TallyOutcome:
        """One round's count; 422 lists each failed Art. 15 check."""
        return await services.record_tally(
            current_user(request), by_election_id, data.held_on, data.ballots_cast, data.votes
        )

    @post("/{by_election_id:int}/file", name="elections-api-file", status_code=200)
    async def file(self, request: AnyRequest, by_election_id: Id) -> ByElectionOut:
        return await services.file(current_user(request), by_election_id)

    @post("/{by_election_id:int}/fail", name="elections-api-fail", status_code=200)
    async def fail(
        self, request: AnyRequest, by_election_id: Id, data: JSONBody[FailIn]
    ) -> ByElectionOut:
        return await services.fail(current_user(request), by_election_id, data.reason)


route_handlers = [ByElectionPageController, ByElectionApiController]
