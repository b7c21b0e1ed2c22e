"""Public transparency pages (阳光民政): no login, no JavaScript, names and posts only."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import PathParameter
from litestar.response import Template

from tipline.auth import PUBLIC
from villageaffairs.public import services

Code = Annotated[str, PathParameter(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_-]+$")]


class PublicPageController(Controller):
    path = "/public"
    opt = PUBLIC
    include_in_schema = False

    @get("/", name="public-county")
    async def county(self) -> Template:
        """The county's townships and their villages, each linking to its page."""
        county, townships = await services.county_page()
        return Template("public/county.html", context={"county": county, "townships": townships})

    @get("/villages/{code:str}", name="public-village")
    async def village(self, code: Code) -> Template:
        """One village's page, the address in its notice board's QR code."""
        page = await services.village_page(code)
        return Template("public/village.html", context={"page": page})


route_handlers = [PublicPageController]
