"""The appraisal page's results form: one row per cadre, posted in order
(``membership_id``, ``competent``, ``basic``, ``unfit``; the special round's ``gang`` and
``law`` checkboxes carry the ticked cadre's id); a refused form is the page again with
what was typed and the failed rules."""

from __future__ import annotations

import datetime as dt

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import csrf_form, sign_in
from tests.villageaffairs.support import DAY, make_county, members_of, people, user
from tipline.auth import Role
from villageaffairs.appraisals import services
from villageaffairs.committees import services as committees


async def test_results_form_rows_and_refusal(
    client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    c = await make_county()
    account = await sign_in(client, "township_staff", org_unit_id=c.town_a)
    clerk = user(Role.township_staff, c.town_a, account["id"])
    ids = await people(c.village_a1, [("主任甲", "female"), ("副乙", "male"), ("委丙", "male")])
    await committees.record_committee(clerk, c.village_a1, DAY, 5, members_of(ids))
    first, second, third = (
        m.membership_id for m in await committees.current_members(c.village_a1, DAY)
    )
    created = await services.create_round(
        clerk, c.village_a1, 2020, "special", "villagers_meeting", 100, dt.date(2020, 5, 1)
    )
    url = f"/villageaffairs/appraisals/{created.id}"
    page = await client.get(url)
    assert page.status_code == 200 and page.text.count('name="competent"') == 3
    form = await csrf_form(client, url)
    rows = {"membership_id": [first, second, third], "basic": ["0", "", "0"]}

    # More votes than participants: the page again, as typed, the rule listed.
    refused = await client.post(
        f"{url}/results",
        data={**form, **rows, "competent": ["77", "60", "1"], "unfit": ["24", "", "2"]},
    )
    assert refused.status_code == 422, refused.text
    assert 'class="problems"' in refused.text
    assert 'value="77"' in refused.text and 'value="24"' in refused.text

    bad = await client.post(
        f"{url}/results",
        data={**form, **rows, "competent": ["x", "1", "1"], "unfit": ["0", "0", "0"]},
    )
    assert bad.status_code == 400 and 'value="x"' in bad.text

    ok = await client.post(
        f"{url}/results",
        data={
            **form,
            **rows,
            "competent": ["60", "30", "10"],
            "unfit": ["40", "", "90"],
            "gang": str(third),
        },
    )
    assert ok.status_code == 200 and ok.url.path == url, ok.text
    votes = {v.membership_id: v for v in (await services.get_round(clerk, created.id)).votes}
    assert (votes[first].competent, votes[first].not_competent) == (60, 40)
    assert (votes[second].competent, votes[second].not_competent) == (30, 0)
    assert votes[third].not_competent == 90 and votes[third].gang_involvement
    assert not votes[first].gang_involvement and not votes[third].law_discipline_violation
