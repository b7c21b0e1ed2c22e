"""How Litestar decodes a URL-encoded field posted once per row into a form struct:
posted twice or more it is a list in the order posted, posted once a plain string (a
``list[...]`` field alone would refuse it), not posted the default.
``tipline.web.forms.Repeated`` and ``each`` take all three."""

from __future__ import annotations

import msgspec
from litestar import Litestar, post
from litestar.params import URLEncodedBody
from litestar.testing import AsyncTestClient

from tipline.web.forms import Repeated, each


class RowsForm(msgspec.Struct, frozen=True):
    candidate: Repeated = []
    votes: Repeated = []


class StrictForm(msgspec.Struct, frozen=True):
    candidate: list[int] = []


@post("/rows")
async def rows(data: URLEncodedBody[RowsForm]) -> dict[str, list[str]]:
    return {"candidate": each(data.candidate), "votes": each(data.votes)}


@post("/strict")
async def strict(data: URLEncodedBody[StrictForm]) -> list[int]:
    return data.candidate


FORM = {"content-type": "application/x-www-form-urlencoded"}


async def test_repeated_fields_decode_in_order_once_or_not_at_all() -> None:
    async with AsyncTestClient(Litestar([rows, strict])) as client:
        many = await client.post(
            "/rows", content="candidate=4&votes=300&candidate=2&votes=", headers=FORM
        )
        assert many.json() == {"candidate": ["4", "2"], "votes": ["300", ""]}
        once = await client.post("/rows", content="candidate=4&votes=300", headers=FORM)
        assert once.json() == {"candidate": ["4"], "votes": ["300"]}
        none = await client.post("/rows", content="", headers=FORM)
        assert none.json() == {"candidate": [], "votes": []}

        # Why not a plain list field: Litestar hands it one posted value as a string.
        assert (
            await client.post("/strict", content="candidate=4&candidate=2", headers=FORM)
        ).json() == [4, 2]
        assert (
            await client.post("/strict", content="candidate=4", headers=FORM)
        ).status_code == 400
