"""The village-affairs hub (``/villageaffairs/registers``), a village's page, the county
overview per process, the committee and vacancy registers in Excel, and their JSON mirror.

A village's page shows its committee and people with their forms (posted to
:mod:`villageaffairs.committees.controllers`) beside its by-elections, reviews and
appraisals: those packages build on ``committees``, so the page that gathers them all
lives here, above them (docs/ARCHITECTURE.md, no package-level import cycles).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get
from litestar.params import Parameter, PathParameter
from litestar.response import Template

from tipline.auth import Role, current_user
from tipline.orgunits.services import require_visible
from tipline.web.i18n import translate
from tipline.web.templating import NavItem, request_locale
from villageaffairs.appraisals import services as appraisals
from villageaffairs.committees import services as committees
from villageaffairs.committees.controllers import MAX_MEMBERS
from villageaffairs.committees.tables import MemberPost, VacancyStatus
from villageaffairs.elections import services as elections
from villageaffairs.overview import services
from villageaffairs.people import services as people
from villageaffairs.people.tables import PostKind, RelationKind
from villageaffairs.reviews import services as reviews
from villageaffairs.web import VILLAGE_STAFF, AnyRequest, workbook, xlsx_response


class VillagePageController(Controller):
    path = "/villageaffairs"
    guards = [VILLAGE_STAFF]
    include_in_schema = False

    @get("/villages/{village_id:int}", name="overview-village")
    async def village(
        self, request: AnyRequest, village_id: Annotated[int, PathParameter(ge=1)]
    ) -> Template:
        user = current_user(request)
        unit = await require_visible(user, village_id)
        view = await committees.committee_view(user, village_id)
        return Template(
            "villageaffairs/overview/village.html",
            context={
                "unit": unit,
                "view": view,
                "people": await people.people_of_village(village_id),
                "posts": await people.current_posts(village_id),
                "by_elections": await elections.list_by_elections(user, village_id=village_id),
                "reviews": await reviews.list_reviews(user, village_id=village_id),
                "rounds": await appraisals.list_rounds(user, village_id=village_id),
                "member_posts": [p.value for p in MemberPost],
                "post_kinds": [p.value for p in PostKind],
                "relation_kinds": [k.value for k in RelationKind],
                "end_reasons": [r.value for r in committees.MANUAL_END_REASONS],
                "slots": range(1, MAX_MEMBERS + 1),
                "open_vacancies": [v for v in view.vacancies if v.status is VacancyStatus.open],
            },
        )


class OverviewPageController(Controller):
    path = "/villageaffairs"
    guards = [VILLAGE_STAFF]
    include_in_schema = False

    @get("/registers", name="overview-registers")
    async def registers(
        self,
        request: AnyRequest,
        township: Annotated[int | None, Parameter(required=False, ge=1)] = None,
    ) -> Template:
        user = current_user(request)
        rows = await committees.register_rows(user, township)
        return Template(
            "villageaffairs/overview/registers.html",
            context={"rows": rows, "township": township},
        )

    @get("/overview", name="overview-overview")
    async def overview(self, request: AnyRequest) -> Template:
        lines = await services.overview(current_user(request))
        return Template("villageaffairs/overview/overview.html", context={"lines": lines})

    @get("/registers/committees.xlsx", name="overview-committees-export")
    async def export_committees(self, request: AnyRequest) -> Response[bytes]:
        """The committee register: one row per sitting member of each visible village."""
        user = current_user(request)
        locale = request_locale(request)

        def t(key: str) -> str:
            return translate(locale, key)

        out: list[list[Any]] = []
        rows = await committees.register_rows(user)
        sitting = await committees.sitting_members_by_village([r.village_id for r in rows])
        for row in rows:
            if row.village_id not in sitting:
                out.append([row.township, row.name, "", "", "", "", "", ""])
                continue
            committee, members = sitting[row.village_id]
            for m in members:
                out.append(
                    [
                        row.township,
                        row.name,
                        committee.term_start,
                        committee.term_end,
                        committee.seats,
                        m.name,
                        t(f"people.gender.{m.gender.value}"),
                        t(f"committees.post.{m.post.value}"),
                    ]
                )
        header = [
            t("villageaffairs.common.township"),
            t("villageaffairs.common.village"),
            t("committees.term_start"),
            t("committees.term_end"),
            t("committees.seats"),
            t("people.col.name"),
            t("people.col.gender"),
            t("committees.col.post"),
        ]
        return xlsx_response("committees.xlsx", workbook(t("committees.title"), header, out))

    @get("/registers/people.xlsx", name="overview-people-export")
    async def export_people(self, request: AnyRequest) -> Response[bytes]:
        """The people register: name, gender, masked id number, committee post and other
        posts (never a clear id number)."""
        user = current_user(request)
        locale = request_locale(request)

        def t(key: str) -> str:
            return translate(locale, key)

        rows = await committees.register_rows(user)
        sitting = await committees.sitting_members_by_village([r.village_id for r in rows])
        out: list[list[Any]] = []
        for row in rows:
            on_committee = {
                m.person_id: t(f"committees.post.{m.post.value}")
                for m in sitting.get(row.village_id, (None, []))[1]
            }
            posts: dict[int, list[str]] = {}
            for post in await people.current_posts(row.village_id):
                posts.setdefault(post.person_id, []).append(t(f"people.post.{post.kind.value}"))
            for person in await people.people_of_village(row.village_id):
                out.append(
                    [
                        row.township,
                        row.name,
                        person.name,
                        t(f"people.gender.{person.gender.value}"),
                        person.id_masked,
                        on_committee.get(person.id, ""),
                        "、".join(posts.get(person.id, [])),
                    ]
                )
        header = [
            t("villageaffairs.common.township"),
            t("villageaffairs.common.village"),
            t("people.col.name"),
            t("people.col.gender"),
            t("people.col.id_masked"),
            t("committees.col.post"),
            t("people.col.posts"),
        ]
        return xlsx_response("people.xlsx", workbook(t("people.title"), header, out))

    @get("/registers/vacancies.xlsx", name="overview-vacancies-export")
    async def export_vacancies(self, request: AnyRequest) -> Response[bytes]:
        user = current_user(request)
        locale = request_locale(request)

        def t(key: str) -> str:
            return translate(locale, key)

        names = {
            row.village_id: (row.township, row.name) for row in await committees.register_rows(user)
        }
        out = [
            [
                *names.get(v.village_id, ("", "")),
                t(f"committees.post.{v.post.value}"),
                v.opened_on,
                v.cause_name,
                t(f"committees.end_reason.{v.cause_reason}") if v.cause_reason else "",
                t(f"committees.vacancy.status.{v.status.value}"),
                v.closed_on,
                v.note,
            ]
            for v in await committees.visible_vacancies(user)
        ]
        header = [
            t("villageaffairs.common.township"),
            t("villageaffairs.common.village"),
            t("committees.col.post"),
            t("committees.vacancy.opened_on"),
            t("people.col.name"),
            t("committees.vacancy.cause"),
            t("villageaffairs.common.status"),
            t("villageaffairs.common.date"),
            t("committees.vacancy.decision_ref"),
        ]
        return xlsx_response(
            "vacancies.xlsx", workbook(t("committees.vacancies.title"), header, out)
        )


class OverviewApiController(Controller):
    path = "/api/v1/villageaffairs/overview"
    guards = [VILLAGE_STAFF]
    tags = ["villageaffairs"]

    @get("/", name="overview-api-overview")
    async def overview(self, request: AnyRequest) -> list[services.TownshipLine]:
        """Per township: committees, composition problems, vacancies and each process's
        progress (under way, filed/signed off/published, accepted by the county)."""
        return await services.overview(current_user(request))


# The pages of the top navigation (registered by tipline.app, which orders the bar).
NAV: list[NavItem] = [
    NavItem(
        "/villageaffairs/registers",
        "villageaffairs.nav",
        frozenset({Role.township_staff, Role.county_staff, Role.admin}),
    ),
]


route_handlers = [OverviewPageController, VillagePageController, OverviewApiController]
