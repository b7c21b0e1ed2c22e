"""By-election pages for township staff (one form per stage), the register with its
Excel export, and the JSON mirror under ``/api/v1/villageaffairs/by-elections``."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.params import JSONBody, Parameter, PathParameter, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tipline.auth import User, current_user
from tipline.web.forms import form_page
from tipline.web.i18n import translate
from tipline.web.templating import request_locale
from villageaffairs.elections import services
from villageaffairs.elections.exceptions import BadField
from villageaffairs.elections.schemas import (
    ByElectionDetail,
    ByElectionOut,
    CandidateOut,
    CheckIn,
    CloseVettingIn,
    FailIn,
    NominateIn,
    PlanForm,
    PlanIn,
    PublishIn,
    StepForm,
    TallyIn,
    TallyOutcome,
)
from villageaffairs.elections.tables import Eligibility
from villageaffairs.people.services import people_of_village
from villageaffairs.reports import services as reports
from villageaffairs.web import VILLAGE_STAFF, AnyRequest, workbook, xlsx_response

Id = Annotated[int, PathParameter(ge=1)]
PAGE = "/villageaffairs/by-elections"


def _to(by_election_id: int, anchor: str = "") -> Redirect:
    return Redirect(f"{PAGE}/{by_election_id}{anchor}", status_code=HTTP_303_SEE_OTHER)


async def detail_page(request: AnyRequest) -> Template:
    """The by-election with its stage's forms (as refused: ``error``, ``problems`` and
    the ``form`` typed)."""
    user = current_user(request)
    by_election_id = int(request.path_params["by_election_id"])
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
                c for c in detail.candidates if c.eligibility is Eligibility.clear and not c.elected
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
            "form": {},
            "error": None,
            "problems": [],
        },
    )


class ByElectionPageController(Controller):
    path = PAGE
    guards = [VILLAGE_STAFF]
    include_in_schema = False

    @get("/", name="elections-by-elections")
    async def list_page(
        self,
        user: User,
        township: Annotated[int | None, Parameter(required=False, ge=1)] = None,
    ) -> Template:
        items = await services.list_by_elections(user, township_id=township)
        return Template("villageaffairs/elections/list.html", context={"items": items})

    @get("/export.xlsx", name="elections-by-elections-export")
    async def export(self, request: AnyRequest, user: User) -> Response[bytes]:
        """The by-election register as Excel: one row per candidate."""
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
    async def plan(self, user: User, data: URLEncodedBody[PlanForm]) -> Redirect:
        """Posted from the village's page (drawn by ``villageaffairs.overview``, above
        this package): a refusal is the error page with a link back."""
        election = await services.plan(user, data.vacancy_ids(), data.method_named(), data.date())
        return _to(election.id)

    @get("/{by_election_id:int}", name="elections-by-election")
    async def detail(self, request: AnyRequest, by_election_id: Id) -> Template:
        return await detail_page(request)

    @post(
        "/{by_election_id:int}/{step:str}",
        name="elections-by-election-step",
        opt=form_page(detail_page),
    )
    async def step(
        self,
        user: User,
        by_election_id: Id,
        step: Annotated[str, PathParameter(max_length=20)],
        data: URLEncodedBody[StepForm],
    ) -> Redirect:
        if step == "approve":
            await services.approve_plan(user, by_election_id)
        elif step == "nominate":
            nominee = data.nominate()
            await services.nominate(user, by_election_id, nominee.person_id, nominee.post)
        elif step == "start-vetting":
            await services.start_vetting(user, by_election_id)
        elif step == "check":
            check = data.check()
            await services.record_check(
                user,
                by_election_id,
                check.candidate_id,
                check.agency,
                check.result,
                check.flag,
                check.document_ref,
            )
            return _to(by_election_id, "#vetting")
        elif step == "close-vetting":
            await services.close_vetting(
                user, by_election_id, data.close_vetting().joint_review_ref
            )
        elif step == "publish":
            published = data.publish()
            await services.publish(
                user,
                by_election_id,
                published.registered_voters,
                published.voter_list_published_on,
                published.candidates_published_on,
            )
        elif step == "tally":
            tally = data.tally()
            await services.record_tally(
                user, by_election_id, tally.held_on, tally.ballots_cast, tally.votes
            )
            return _to(by_election_id, "#tally")
        elif step == "file":
            await services.file(user, by_election_id)
        elif step == "fail":
            await services.fail(user, by_election_id, data.fail().reason)
        else:
            raise BadField(field="step")
        return _to(by_election_id)


class ByElectionApiController(Controller):
    path = "/api/v1/villageaffairs/by-elections"
    guards = [VILLAGE_STAFF]
    tags = ["villageaffairs"]

    @get("/", name="elections-api-list")
    async def list_all(self, user: User) -> list[ByElectionOut]:
        return await services.list_by_elections(user)

    @post("/", name="elections-api-plan", status_code=201)
    async def plan(self, user: User, data: JSONBody[PlanIn]) -> ByElectionOut:
        return await services.plan(user, data.vacancy_ids, data.method.value, data.election_date)

    @get("/{by_election_id:int}", name="elections-api-by-election")
    async def get_one(self, user: User, by_election_id: Id) -> ByElectionDetail:
        return await services.detail(user, by_election_id)

    @post("/{by_election_id:int}/approve", name="elections-api-approve", status_code=200)
    async def approve(self, user: User, by_election_id: Id) -> ByElectionOut:
        return await services.approve_plan(user, by_election_id)

    @post("/{by_election_id:int}/candidates", name="elections-api-nominate", status_code=201)
    async def nominate(
        self, user: User, by_election_id: Id, data: JSONBody[NominateIn]
    ) -> CandidateOut:
        return await services.nominate(user, by_election_id, data.person_id, data.post)

    @post("/{by_election_id:int}/start-vetting", name="elections-api-vet", status_code=200)
    async def start_vetting(self, user: User, by_election_id: Id) -> ByElectionOut:
        return await services.start_vetting(user, by_election_id)

    @post("/{by_election_id:int}/checks", name="elections-api-check", status_code=204)
    async def check(self, user: User, by_election_id: Id, data: JSONBody[CheckIn]) -> None:
        await services.record_check(
            user,
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
        self, user: User, by_election_id: Id, data: JSONBody[CloseVettingIn]
    ) -> ByElectionOut:
        """County joint review; 422 lists incomplete vetting or too few candidates."""
        return await services.close_vetting(user, by_election_id, data.joint_review_ref)

    @post("/{by_election_id:int}/publish", name="elections-api-publish", status_code=200)
    async def publish(
        self, user: User, by_election_id: Id, data: JSONBody[PublishIn]
    ) -> ByElectionOut:
        return await services.publish(
            user,
            by_election_id,
            data.registered_voters,
            data.voter_list_published_on,
            data.candidates_published_on,
        )

    @post("/{by_election_id:int}/tally", name="elections-api-tally", status_code=200)
    async def tally(self, user: User, by_election_id: Id, data: JSONBody[TallyIn]) -> TallyOutcome:
        """One round's count; 422 lists each failed Art. 15 check."""
        return await services.record_tally(
            user, by_election_id, data.held_on, data.ballots_cast, data.votes
        )

    @post("/{by_election_id:int}/file", name="elections-api-file", status_code=200)
    async def file(self, user: User, by_election_id: Id) -> ByElectionOut:
        return await services.file(user, by_election_id)

    @post("/{by_election_id:int}/fail", name="elections-api-fail", status_code=200)
    async def fail(self, user: User, by_election_id: Id, data: JSONBody[FailIn]) -> ByElectionOut:
        return await services.fail(user, by_election_id, data.reason)


route_handlers = [ByElectionPageController, ByElectionApiController]
