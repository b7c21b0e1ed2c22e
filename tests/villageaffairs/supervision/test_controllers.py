"""The supervisory committee page's forms: a refusal shows the page again, with what
was typed kept and the message beside its field (tipline.web.forms)."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import csrf_form
from tests.villageaffairs.campaigns.test_controllers import _setup


async def test_refused_forms_keep_what_was_typed(client: AsyncTestClient[Litestar]) -> None:
    c = await _setup(client)
    page = f"/villageaffairs/supervision/villages/{c.village_a1}"

    # Not a date: 400, the committee form again with the person chosen and a reason kept.
    form = await csrf_form(
        client,
        page,
        elected_on="20.5.2020",
        forum="villagers_meeting",
        person_1=str(c.sc_people[0]),
        post_1="chair",
        reason="换届后重新备案",
    )
    refused = await client.post(f"{page}/committee", data=form)
    assert refused.status_code == 400
    assert 'value="20.5.2020"' in refused.text and 'value="换届后重新备案"' in refused.text
    assert f'<option value="{c.sc_people[0]}" selected>' in refused.text
    assert 'class="field-error"' in refused.text and "提交的数据不符合要求" in refused.text

    # A forum that is not one: 400 beside the forum, the date kept.
    form.update(elected_on="2020-05-20", forum="by_hand")
    refused = await client.post(f"{page}/committee", data=form)
    assert refused.status_code == 400 and 'value="2020-05-20"' in refused.text

    # The rules: every failure listed, 422, the rows kept.
    form.update(forum="villagers_meeting")
    refused = await client.post(f"{page}/committee", data=form)
    assert refused.status_code == 422 and "3 至 5 人" in refused.text
    assert 'value="换届后重新备案"' in refused.text


async def test_refused_work_report_keeps_its_summary(client: AsyncTestClient[Litestar]) -> None:
    c = await _setup(client)
    page = f"/villageaffairs/supervision/villages/{c.village_a1}"
    committee = await csrf_form(
        client,
        page,
        elected_on="2020-05-20",
        forum="villagers_meeting",
        person_1=str(c.sc_people[0]),
        post_1="chair",
        person_2=str(c.sc_people[1]),
        post_2="member",
        accounting_2="1",
        person_3=str(c.sc_people[2]),
        post_3="member",
    )
    saved = await client.post(f"{page}/committee", data=committee, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    form = await csrf_form(client, page, period="2020Q9", submitted_on="2020-04-10")
    form["summary"] = "季度监督工作报告"
    refused = await client.post(f"{page}/work-reports", data=form)
    # Not a quarter: refused on the page, beside the period, the report as typed.
    assert refused.status_code == 400, refused.text
    assert "季度监督工作报告" in refused.text and 'value="2020Q9"' in refused.text
    assert 'class="field-error"' in refused.text
