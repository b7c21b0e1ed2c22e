"""By-elections over HTTP: the tally's Art. 15 checks come back as a 422 listing each
failed rule with its article; another township's clerk gets 403; county staff cannot
run a township's steps but close the joint review."""

from __future__ import annotations

import datetime as dt

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import csrf_form, extra_client, sign_in
from tests.villageaffairs.elections.test_services import (
    AGENCIES,
    ELECTION_DAY,
    _clear_all,
    _to_vetting,
    _vacancy,
)
from tests.villageaffairs.support import make_county, people, user
from tipline.auth import Role
from villageaffairs.elections import services


async def test_tally_api_refusals_and_authorization(
    client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    c = await make_county()
    account = await sign_in(client, "township_staff", org_unit_id=c.town_a)
    stranger = await extra_client(app)
    await sign_in(stranger, "township_staff", org_unit_id=c.town_b)
    county = await extra_client(app)
    await sign_in(county, "county_staff")
    clerk = user(Role.township_staff, c.town_a, account["id"])

    vacancy_id = await _vacancy(c, clerk)
    plan = {
        "vacancy_ids": [vacancy_id],
        "method": "villagers_meeting",
        "election_date": "2020-05-21",
    }
    assert (await county.post("/api/v1/villageaffairs/by-elections", json=plan)).status_code == 403
    assert (
        await stranger.post("/api/v1/villageaffairs/by-elections", json=plan)
    ).status_code == 403
    created = await client.post("/api/v1/villageaffairs/by-elections", json=plan)
    assert created.status_code == 201, created.text
    election_id = created.json()["id"]
    assert (await stranger.get(f"/villageaffairs/by-elections/{election_id}")).status_code == 403
    page = await client.get(f"/villageaffairs/by-elections/{election_id}")
    assert page.status_code == 200 and "已安排，待乡镇批准" in page.text

    form = await csrf_form(client, f"/villageaffairs/by-elections/{election_id}")
    await client.post(f"/villageaffairs/by-elections/{election_id}/approve", data=form)
    ids = await people(c.village_a1, [("候选甲", "male"), ("候选乙", "female")])
    for pid in ids:
        response = await client.post(
            f"/api/v1/villageaffairs/by-elections/{election_id}/candidates",
            json={"person_id": pid, "post": "member"},
        )
        assert response.status_code == 201, response.text
    await client.post(f"/api/v1/villageaffairs/by-elections/{election_id}/start-vetting")
    detail = (await client.get(f"/api/v1/villageaffairs/by-elections/{election_id}")).json()
    for candidate in detail["candidates"]:
        for agency in AGENCIES:
            flagged = candidate["name"] == "候选甲" and agency == "public_security"
            response = await client.post(
                f"/api/v1/villageaffairs/by-elections/{election_id}/checks",
                json={
                    "candidate_id": candidate["id"],
                    "agency": agency,
                    "result": "flagged" if flagged else "clear",
                    "flag": "criminal_record" if flagged else "",
                    "document_ref": "公复〔2020〕1号",
                },
            )
            assert response.status_code == 204, response.text
    closing = {"joint_review_ref": "联审〔2020〕3号"}
    url = f"/api/v1/villageaffairs/by-elections/{election_id}/close-vetting"
    assert (await client.post(url, json=closing)).status_code == 403
    refused = await county.post(url, json=closing)
    assert refused.status_code == 422
    assert [f["rule"] for f in refused.json()["failures"]] == ["more_candidates_than_seats"]
    assert "差额" in refused.json()["failures"][0]["message"]
    assert refused.json()["failures"][0]["article"] == "15"

    # One more clean candidate; the flagged one stays barred.
    [extra] = await people(c.village_a1, [("候选丙", "female")])
    added = await services.nominate(clerk, election_id, extra, "member")
    for agency in AGENCIES:
        await services.record_check(clerk, election_id, added.id, agency, "clear", "", "复1号")
    assert (await county.post(url, json=closing)).status_code == 200
    await services.publish(clerk, election_id, 1000, dt.date(2020, 4, 30), dt.date(2020, 5, 5))
    clean = [c_.id for c_ in (await services.detail(clerk, election_id)).candidates][1:]
    tally = await client.post(
        f"/api/v1/villageaffairs/by-elections/{election_id}/tally",
        json={
            "held_on": ELECTION_DAY.isoformat(),
            "ballots_cast": 500,
            "votes": [{"candidate_id": clean[0], "votes": 501}],
        },
    )
    assert tally.status_code == 422
    rules = {f["rule"]: f for f in tally.json()["failures"]}
    assert set(rules) == {"turnout_valid", "votes_within_ballots"}
    assert (
        "过半数" in rules["turnout_valid"]["message"] and rules["turnout_valid"]["article"] == "15"
    )
    ok = await client.post(
        f"/api/v1/villageaffairs/by-elections/{election_id}/tally",
        json={
            "held_on": ELECTION_DAY.isoformat(),
            "ballots_cast": 501,
            "votes": [
                {"candidate_id": clean[0], "votes": 251},
                {"candidate_id": clean[1], "votes": 250},
            ],
        },
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "tallied" and ok.json()["elected"] == [clean[0]]


async def test_tally_form_posts_a_candidate_and_its_votes_per_row(
    client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    """The page's tally posts ``candidate`` and ``votes`` once per standing candidate, in
    order; a refused tally is the page again with what was typed and the failed rules."""
    c = await make_county()
    account = await sign_in(client, "township_staff", org_unit_id=c.town_a)
    clerk = user(Role.township_staff, c.town_a, account["id"])
    county = user(Role.county_staff, c.county, account["id"])
    election, candidates, _ = await _to_vetting(
        c, clerk, [("候选甲", "male"), ("候选乙", "female"), ("候选丙", "male")]
    )
    await _clear_all(clerk, election.id, [cand.id for cand in candidates])
    await services.close_vetting(county, election.id, "联审〔2020〕3号")
    await services.publish(clerk, election.id, 1000, dt.date(2020, 4, 30), dt.date(2020, 5, 5))
    url = f"/villageaffairs/by-elections/{election.id}"
    page = await client.get(url)
    assert page.text.count('name="candidate"') == 3 and page.text.count('name="votes"') == 3

    first, second, third = (cand.id for cand in candidates)
    form = await csrf_form(client, url)
    typed = {"held_on": ELECTION_DAY.isoformat(), "ballots_cast": "400"}
    refused = await client.post(
        f"{url}/tally",
        data={**form, **typed, "candidate": [first, second, third], "votes": ["201", "7", "9"]},
    )
    assert refused.status_code == 422
    assert "过半数" in refused.text and 'class="problems"' in refused.text
    assert 'value="400"' in refused.text and 'value="201"' in refused.text
    assert 'value="7"' in refused.text and 'value="9"' in refused.text

    bad = await client.post(
        f"{url}/tally", data={**form, **typed, "candidate": [first, second], "votes": ["x", "1"]}
    )
    assert bad.status_code == 400 and 'value="x"' in bad.text

    ok = await client.post(
        f"{url}/tally",
        data={
            **form,
            "held_on": ELECTION_DAY.isoformat(),
            "ballots_cast": "600",
            "candidate": [first, second, third],
            "votes": ["400", "150", "50"],
        },
    )
    assert ok.status_code == 200 and ok.url.path == url, ok.text
    detail = await services.detail(clerk, election.id)
    assert [cand.elected for cand in detail.candidates] == [True, False, False]
    [round_] = detail.rounds
    assert {line.candidate_id: line.votes for line in round_.lines} == {
        first: 400,
        second: 150,
        third: 50,
    }


async def test_tally_form_with_one_standing_candidate(
    client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    """One row posted: Litestar hands the form one ``candidate`` and one ``votes`` as plain
    strings, still one vote line."""
    c = await make_county()
    account = await sign_in(client, "township_staff", org_unit_id=c.town_a)
    clerk = user(Role.township_staff, c.town_a, account["id"])
    county = user(Role.county_staff, c.county, account["id"])
    election, candidates, _ = await _to_vetting(
        c, clerk, [("候选甲", "male"), ("候选乙", "female")]
    )
    await _clear_all(clerk, election.id, [cand.id for cand in candidates])
    await services.close_vetting(county, election.id, "联审〔2020〕3号")
    await services.publish(clerk, election.id, 1000, dt.date(2020, 4, 30), dt.date(2020, 5, 5))
    url = f"/villageaffairs/by-elections/{election.id}"
    page = await client.get(url)
    assert page.text.count('name="votes"') == 2
    form = await csrf_form(client, url)
    ok = await client.post(
        f"{url}/tally",
        data={
            **form,
            "held_on": ELECTION_DAY.isoformat(),
            "ballots_cast": "600",
            "candidate": str(candidates[0].id),
            "votes": "400",
        },
    )
    assert ok.status_code == 200 and ok.url.path == url, ok.text
    [round_] = (await services.detail(clerk, election.id)).rounds
    assert {line.candidate_id: line.votes for line in round_.lines} == {
        candidates[0].id: 400,
        candidates[1].id: 0,
    }
