"""Look-back review pages for township staff, the register's Excel export, and the
JSON mirror under ``/api/v1/villageaffairs/lookbacks``."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.params import JSONBody, PathParameter, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tipline.auth import User
from tipline.web.i18n import translate
from tipline.web.templating import request_locale
from villageaffairs.reports import services as reports
from villageaffairs.reviews import services
from villageaffairs.reviews.schemas import DecisionForm, DecisionIn, ReviewOut, StartForm, StartIn
from villageaffairs.reviews.tables import Action, Issue
from villageaffairs.web import (
    VILLAGE_STAFF,
    AnyRequest,
    workbook,
    xlsx_response,
)

Id = Annotated[int, PathParameter(ge=1)]
PAGE = "/villageaffairs/lookbacks"


class LookbackPageController(Controller):
    path = PAGE
    guards = [VILLAGE_STAFF]
    include_in_schema = False

    @get("/", name="reviews-lookbacks")
    async def list_page(self, user: User) -> Template:
        items = await services.list_reviews(user)
        return Template("villageaffairs/reviews/list.html", context={"items": items})

    @get("/export.xlsx", name="reviews-lookbacks-export")
    async def export(self, request: AnyRequest, user: User) -> Response[bytes]:
        """The look-back register: one row per person reviewed."""
        locale = request_locale(request)

        def t(key: str) -> str:
            return translate(locale, key) if key.rsplit(".", 1)[-1] else ""

        rows: list[list[Any]] = []
        for summary in await services.list_reviews(user):
            review = await services.get_review(user, summary.id)
            for item in review.items:
                role = (
                    f"committees.post.{item.role}"
                    if item.role in ("director", "deputy", "member")
                    else f"people.post.{item.role}"
                )
                rows.append(
                    [
                        review.village_name,
                        review.campaign,
                        item.name,
                        t(role),
                        t(f"reviews.outcome.{item.outcome}"),
                        t(f"reviews.issue.{item.issue}"),
                        t(f"reviews.action.{item.action}"),
                        item.referral_ledger_no,
                        item.document_ref,
                        item.decided_on,
                        t(f"reviews.status.{review.status.value}"),
                    ]
                )
        header = [
            t("villageaffairs.common.village"),
            t("reviews.campaign"),
            t("reviews.col.name"),
            t("reviews.col.role"),
            t("reviews.col.outcome"),
            t("reviews.col.issue"),
            t("reviews.col.action"),
            t("reviews.col.ledger_no"),
            t("reviews.col.document_ref"),
            t("villageaffairs.common.date"),
            t("villageaffairs.common.status"),
        ]
        return xlsx_response("lookbacks.xlsx", workbook(t("reviews.title"), header, rows))

    @post("/", name="reviews-lookbacks-start")
    async def start(self, user: User, data: URLEncodedBody[StartForm]) -> Redirect:
        body = data.body()
        review = await services.start_review(user, body.village_id, body.campaign)
        return Redirect(f"{PAGE}/{review.id}", status_code=HTTP_303_SEE_OTHER)

    @get("/{review_id:int}", name="reviews-lookback")
    async def detail(self, user: User, review_id: Id) -> Template:
        review = await services.get_review(user, review_id)
        report = await reports.latest_for_subject(services.KIND, review_id)
        return Template(
            "villageaffairs/reviews/detail.html",
            context={
                "r": review,
                "issues": [i.value for i in Issue],
                "actions": [a.value for a in Action],
                "report_view": await reports.report_view(user, report),
                "report_next": f"{PAGE}/{review_id}",
                "correcting": report is not None and report.version > 1,
            },
        )

    @post("/items/{item_id:int}", name="reviews-lookback-decide")
    async def decide(self, user: User, item_id: Id, data: URLEncodedBody[DecisionForm]) -> Redirect:
        body = data.body()
        review = await services.decide(
            user,
            item_id,
            body.outcome,
            body.issue,
            body.action,
            body.referral_ledger_no,
            body.document_ref,
        )
        return Redirect(f"{PAGE}/{review.id}", status_code=HTTP_303_SEE_OTHER)

    @post("/{review_id:int}/sign-off", name="reviews-lookback-sign-off")
    async def sign_off(self, user: User, review_id: Id) -> Redirect:
        await services.sign_off(user, review_id)
        return Redirect(f"{PAGE}/{review_id}", status_code=HTTP_303_SEE_OTHER)


class LookbackApiController(Controller):
    path = "/api/v1/villageaffairs/lookbacks"
    guards = [VILLAGE_STAFF]
    tags = ["villageaffairs"]

    @get("/", name="reviews-api-lookbacks")
    async def list_all(self, user: User) -> list[ReviewOut]:
        return await services.list_reviews(user)

    @post("/", name="reviews-api-lookback-start", status_code=201)
    async def start(self, user: User, data: JSONBody[StartIn]) -> ReviewOut:
        return await services.start_review(user, data.village_id, data.campaign)

    @get("/{review_id:int}", name="reviews-api-lookback")
    async def get_one(self, user: User, review_id: Id) -> ReviewOut:
        return await services.get_review(user, review_id)

    @post("/items/{item_id:int}", name="reviews-api-lookback-decide", status_code=200)
    async def decide(self, user: User, item_id: Id, data: JSONBody[DecisionIn]) -> ReviewOut:
        return await services.decide(
            user,
            item_id,
            data.outcome,
            data.issue,
            data.action,
            data.referral_ledger_no,
            data.document_ref,
            data.decided_on,
        )

    @post("/{review_id:int}/sign-off", name="reviews-api-lookback-sign-off", status_code=200)
    async def sign_off(self, user: User, review_id: Id) -> ReviewOut:
        return await services.sign_off(user, review_id)


route_handlers = [LookbackPageController, LookbackApiController]
