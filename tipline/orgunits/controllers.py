"""Org-unit pages for the administrator (and, read-only, county staff and the inspector),
and the API every signed-in account uses to list the units it may see."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter, PathParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tipline.auth import Role, User, requires, signed_in
from tipline.ledger.services import Actor
from tipline.orgunits import services
from tipline.orgunits.files import MAX_FILE_BYTES
from tipline.orgunits.schemas import ImportResult, OrgUnitOut, UploadForm
from tipline.web.forms import form_page
from tipline.web.templating import NavItem

AnyRequest = Request[Any, Any, Any]
ADMINS = requires(Role.admin)
VIEWERS = requires(Role.admin, Role.county_staff, Role.inspector)
UnitId = Annotated[int, PathParameter(ge=1)]
Count = Annotated[int | None, Parameter(ge=0, required=False)]

MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


async def import_page(request: AnyRequest) -> Template:
    """The import form again (as refused: ``error``, and the ``refusal``'s table of
    refused cells when the rows were read)."""
    return Template("orgunits/import.html", context={"error": None, "refusal": None})


class OrgUnitPageController(Controller):
    path = "/admin/orgunits"
    include_in_schema = False

    @get("/", name="orgunits-page", guards=[VIEWERS])
    async def tree(
        self, created: Count = None, updated: Count = None, unchanged: Count = None
    ) -> Template:
        result = None
        if created is not None and updated is not None and unchanged is not None:
            result = ImportResult(created=created, updated=updated, unchanged=unchanged)
        return Template(
            "orgunits/tree.html", context={"tree": await services.county_tree(), "result": result}
        )

    @get("/{unit_id:int}", name="orgunits-unit-page", guards=[VIEWERS])
    async def unit(self, user: User, unit_id: UnitId) -> Template:
        detail = await services.unit_detail(user, unit_id)
        return Template("orgunits/unit.html", context={"detail": detail})

    @post(
        "/import",
        name="orgunits-import-page",
        guards=[ADMINS],
        request_max_body_size=MAX_FILE_BYTES + 1024 * 1024,
        opt=form_page(import_page),
    )
    async def upload(
        self,
        user: User,
        data: Annotated[UploadForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Redirect:
        """Import the uploaded file; on any problem show them all (nothing was written)."""
        content = await data.file.read(MAX_FILE_BYTES + 1)
        result = await services.import_file(
            Actor.account(user.account_id), data.file.filename or "", content, source="web"
        )
        return Redirect(
            f"/admin/orgunits?created={result.created}&updated={result.updated}"
            f"&unchanged={result.unchanged}",
            status_code=HTTP_303_SEE_OTHER,
        )

    @get("/export.xlsx", name="orgunits-export-xlsx", guards=[VIEWERS])
    async def export_xlsx(self) -> Response[bytes]:
        """All units as an Excel file that imports back to no change."""
        return _download("org_units.xlsx", await services.export_file("org_units.xlsx"))

    @get("/export.csv", name="orgunits-export-csv", guards=[VIEWERS])
    async def export_csv(self) -> Response[bytes]:
        """All units as CSV (UTF-8 with BOM) that imports back to no change."""
        return _download("org_units.csv", await services.export_file("org_units.csv"))


def _download(filename: str, content: bytes) -> Response[bytes]:
    return Response(
        content,
        media_type=MEDIA_TYPES[filename.rsplit(".", 1)[1]],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


class OrgUnitApiController(Controller):
    path = "/api/v1/orgunits"
    guards = [signed_in]
    tags = ["orgunits"]

    @get("/", name="orgunits-list")
    async def list_units(self, user: User) -> list[OrgUnitOut]:
        """The units the signed-in account may see (a township's staff: their township and
        its villages), the county first, then townships, then villages, each by code."""
        return await services.list_visible_units(user)

    @get("/{unit_id:int}", name="orgunits-get")
    async def get_unit(self, user: User, unit_id: UnitId) -> OrgUnitOut:
        """One unit; 403 when it lies outside the account's township."""
        return await services.require_visible(user, unit_id)


# The pages of the top navigation (registered by tipline.app, which orders the bar).
NAV: list[NavItem] = [
    NavItem(
        "/admin/orgunits",
        "nav.admin_orgunits",
        frozenset({Role.admin, Role.county_staff, Role.inspector}),
    ),
]


route_handlers = [OrgUnitPageController, OrgUnitApiController]
