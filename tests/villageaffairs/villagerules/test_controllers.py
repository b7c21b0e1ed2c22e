"""The village rules page: a refused step shows the page again with what was typed."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import csrf_form
from tests.villageaffairs.campaigns.test_controllers import _setup


async def test_refused_draft_keeps_its_title(client: AsyncTestClient[Litestar]) -> None:
    c = await _setup(client)
    page = f"/villageaffairs/villagerules/villages/{c.village_a1}"
    form = await csrf_form(client, page, title="甲一村村规民约", text="  ", kind="village_rules")
    refused = await client.post(f"{page}/new", data=form)
    assert refused.status_code == 400
    assert 'value="甲一村村规民约"' in refused.text and 'role="alert"' in refused.text

    form.update(kind="by_decree", text="第一条")
    refused = await client.post(f"{page}/new", data=form)
    assert refused.status_code == 400 and 'value="甲一村村规民约"' in refused.text

    form.update(kind="village_rules")
    saved = await client.post(f"{page}/new", data=form, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == page
