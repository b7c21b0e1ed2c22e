"""Democratic appraisal pages for township staff, the register's Excel export, and
the JSON mirror under ``/api/v1/villageaffairs/appraisals``."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.params import JSONBody, PathParameter, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tipline.auth import User, current_user
from tipline.web.forms import form_page
from tipline.web.i18n import translate
from tipline.web.templating import request_locale
from villageaffairs.appraisals import services
from villageaffairs.appraisals.schemas import (
    ResultsForm,
    ResultsIn,
    RoundForm,
    RoundIn,
    RoundOut,
)
from villageaffairs.appraisals.tables import RoundStatus
from villageaffairs.committees import services as committees
from villageaffairs.legal import province_profile
from villageaffairs.reports import services as reports
from villageaffairs.web import VILLAGE_STAFF, AnyRequest, workbook, xlsx_response

Id = Annotated[int, PathParameter(ge=1)]
PAGE = "/villageaffairs/appraisals"


async def detail_page(request: AnyRequest) -> Template:
    """The round with its results form while a draft (as refused: ``error`` and the
    ``form`` typed)."""
    user = current_user(request)
    round_id = int(request.path_params["round_id"])
    r = await services.get_round(user, round_id)
    report = await reports.latest_for_subject(services.KIND, round_id)
    members = (
        await committees.current_members(r.village_id, r.held_on)
        if r.status is RoundStatus.draft
        else []
    )
    return Template(
        "villageaffairs/appraisals/detail.html",
        context={
            "r": r,
            "members": members,
            "profile": province_profile(r.province),
            "report_view": await reports.report_view(user, report),
            "report_next": f"{PAGE}/{round_id}",
            "form": {},
            "error": None,
            "problems": [],
        },
    )


class AppraisalPageController(Controller):
    path = PAGE
    guards = [VILLAGE_STAFF]
    include_in_schema = False

    @get("/", name="appraisals-appraisals")
    async def list_page(self, user: User) -> Template:
        items = await services.list_rounds(user)
        return Template("villageaffairs/appraisals/list.html", context={"items": items})

    @get("/export.xlsx", name="appraisals-appraisals-export")
    async def export(self, request: AnyRequest, user: User) -> Response[bytes]:
        """The appraisal register: one row per cadre per round."""
        locale = request_locale(request)

        def t(key: str) -> str:
            return translate(locale, key)

        rows: list[list[Any]] = []
        for summary in await services.list_rounds(user):
            r = await services.get_round(user, summary.id)
            for v in r.votes:
                rows.append(
                    [
                        r.village_name,
                        r.year,
                        t(f"appraisals.kind.{r.kind.value}"),
                        t(f"appraisals.forum.{r.forum.value}"),
                        r.participants,
                        r.held_on,
                        v.name,
                        t(f"committees.post.{v.post}"),
                        v.competent,
                        v.basically_competent,
                        v.not_competent,
                        t(f"appraisals.verdict.{v.verdict}"),
                        t("appraisals.yes") if v.gang_involvement else t("appraisals.no"),
                        t("appraisals.yes") if v.law_discipline_violation else t("appraisals.no"),
                        t("appraisals.yes") if v.office_ended else t("appraisals.no"),
                        r.published_on,
                    ]
                )
        header = [
            t("villageaffairs.common.village"),
            t("appraisals.col.year"),
            t("appraisals.col.kind"),
            t("appraisals.col.forum"),
            t("appraisals.col.participants"),
            t("appraisals.col.held_on"),
            t("appraisals.col.cadre"),
            t("committees.col.post"),
            t("appraisals.col.competent"),
            t("appraisals.col.basically_competent"),
            t("appraisals.col.not_competent"),
            t("appraisals.col.verdict"),
            t("appraisals.col.gang"),
            t("appraisals.col.law"),
            t("appraisals.col.office_ended"),
            t("appraisals.status.published"),
        ]
        return xlsx_response("appraisals.xlsx", workbook(t("appraisals.title"), header, rows))

    @post("/", name="appraisals-appraisals-create")
    async def create(self, user: User, data: URLEncodedBody[RoundForm]) -> Redirect:
        """Posted from the village's page (drawn by ``villageaffairs.overview``, above
        this package): a refusal is the error page with a link back."""
        village_id, year, participants, held_on = data.numbers()
        created = await services.create_round(
            user,
            village_id,
            year,
            data.kind.strip()[:16],
            data.forum.strip()[:32],
            participants,
            held_on,
            data.host.strip()[:100],
        )
        return Redirect(f"{PAGE}/{created.id}", status_code=HTTP_303_SEE_OTHER)

    @get("/{round_id:int}", name="appraisals-appraisal")
    async def detail(self, request: AnyRequest, round_id: Id) -> Template:
        return await detail_page(request)

    @post(
        "/{round_id:int}/results",
        name="appraisals-appraisal-results",
        opt=form_page(detail_page),
    )
    async def results(
        self, user: User, round_id: Id, data: URLEncodedBody[ResultsForm]
    ) -> Redirect:
        await services.record_results(user, round_id, data.body().votes)
        return Redirect(f"{PAGE}/{round_id}", status_code=HTTP_303_SEE_OTHER)

    @post("/{round_id:int}/publish", name="appraisals-appraisal-publish")
    async def publish(self, user: User, round_id: Id) -> Redirect:
        await services.publish(user, round_id)
        return Redirect(f"{PAGE}/{round_id}", status_code=HTTP_303_SEE_OTHER)


class AppraisalApiController(Controller):
    path = "/api/v1/villageaffairs/appraisals"
    guards = [VILLAGE_STAFF]
    tags = ["villageaffairs"]

    @get("/", name="appraisals-api-appraisals")
    async def list_all(self, user: User) -> list[RoundOut]:
        return await services.list_rounds(user)

    @post("/", name="appraisals-api-appraisal-create", status_code=201)
    async def create(self, user: User, data: JSONBody[RoundIn]) -> RoundOut:
        return await services.create_round(
            user,
            data.village_id,
            data.year,
            data.kind.value,
            data.forum.value,
            data.participants,
            data.held_on,
            data.host,
        )

    @get("/{round_id:int}", name="appraisals-api-appraisal")
    async def get_one(self, user: User, round_id: Id) -> RoundOut:
        return await services.get_round(user, round_id)

    @post("/{round_id:int}/results", name="appraisals-api-appraisal-results", status_code=200)
    async def results(self, user: User, round_id: Id, data: JSONBody[ResultsIn]) -> RoundOut:
        """Votes per cadre; verdicts are computed and a second "not competent" ends the office."""
        return await services.record_results(user, round_id, data.votes)

    @post("/{round_id:int}/publish", name="appraisals-api-appraisal-publish", status_code=200)
    async def publish(self, user: User, round_id: Id) -> RoundOut:
        return await services.publish(user, round_id)


route_handlers = [AppraisalPageController, AppraisalApiController]
