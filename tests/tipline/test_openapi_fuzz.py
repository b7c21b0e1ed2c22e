"""schemathesis over the whole OpenAPI document, as a stranger and as each kind of user.

The assembled app (every package's routes) serves ``/schema/openapi.json``; schemathesis
reads it from the app itself and, for every operation, generates requests that fit the
schema (positive) and requests that do not (negative), sends them in process and runs
every built-in check on the answer: no 5xx, only declared status codes, content types,
headers and bodies that match the declared schemas, invalid input refused, valid input
not refused with a 400, and so on.

The run is repeated with a stranger's cookie jar and with sessions of an officer (who
holds the ``tipline_key`` cookie from signing in), an admin and a township clerk, all
signed in through ``POST /api/v1/auth/login``. The signed-in runs leave out
``/api/v1/auth/logout``, which would end the session they fuzz with; the anonymous run
covers it. Generation is derandomised (the same cases every run, so CI is not flaky)
and bounded by ``max_examples``: SQLite gets the full run, PostgreSQL a smaller one of
the same shape (the request handling is the same; the database underneath is not).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from litestar import Litestar
from schemathesis import GenerationMode
from schemathesis.python import asgi

from tests.conftest import make_account, make_settings
from tests.tipline.intake.support import open_tip_box
from tipline.accounts import totp
from tipline.app import create_app

SCHEMA_PATH = "/schema/openapi.json"
ROLES = ("anonymous", "officer", "admin", "township_staff")
# Cases per operation and generation mode.
EXAMPLES = {"sqlite": 3, "postgres": 1}
SIGNED_IN_SKIP = {("POST", "/api/v1/auth/logout")}


@dataclass
class Tally:
    cases: int = 0
    failures: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)


# A schema-valid request may still break a rule the schema cannot state (an unknown
# category, a unit that is not a village, an empty reason): the service refuses it with
# a 400 carrying the rule's message key. So 400 joins the statuses positive data may get,
# and ``schema_valid_data_passes_parsing`` below keeps the check's point: the parsing
# layer (Litestar's validation, the tip box's form reader) must accept everything the
# document calls valid.
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "429"]
            }
        }
    }
)
PARSING_REFUSALS = {"error.validation", "error.bad_request", "intake.error.bad_form"}


@schemathesis.check
def schema_valid_data_passes_parsing(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> None:
    """A 400 to a schema-valid request must come from a rule, not from parsing."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if response.status_code != 400:
        return
    body = response.json()
    # JSON Schema counts 512.0 as an integer; msgspec (strict, like the rest of the
    # API) does not, and says so: that refusal is the decoder's documented choice.
    if any("got `float`" in str(field) for field in body.get("fields") or []):
        return
    if body.get("error") in PARSING_REFUSALS:
        raise AssertionError(f"schema-valid request refused while parsing: {response.text}")


@pytest.fixture
def fuzz_app(database: str, tmp_path: Path) -> Iterator[tuple[Litestar, dict[str, Any]]]:
    settings = make_settings(database, tmp_path / "data")
    app = create_app(settings)

    async def prepare() -> dict[str, Any]:
        box = await open_tip_box(settings)
        return {
            "officer": box["officer"],
            "admin": await make_account("admin"),
            "township_staff": await make_account("township_staff"),
        }

    accounts = asyncio.run(prepare())
    try:
        yield app, accounts
    finally:
        # schemathesis keeps an app's lifespan running for the whole process: end it, so
        # the pool closes before the next test binds another database.
        asgi.shutdown_lifespans()


def _signed_in(app: Litestar, account: dict[str, Any] | None) -> asgi.ASGIClient:
    session = asgi.get_client(app)
    session.__enter__()
    if account is not None:
        body = {"username": account["username"], "password": account["password"]}
        if account.get("totp_secret"):
            body["totp"] = totp.code_at_step(account["totp_secret"], totp.current_step())
        response = session.post("/api/v1/auth/login", json=body)
        assert response.status_code == 200, response.text
        if account["role"].value == "officer":
            assert "tipline_key" in session.cookies, session.cookies
    return session


def _fuzz(schema: Any, session: asgi.ASGIClient, role: str, examples: int, tally: Tally) -> None:
    settings = hypothesis.settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    for result in schema.get_all_operations():
        operation = result.ok()
        if role != "anonymous" and (operation.method.upper(), operation.path) in SIGNED_IN_SKIP:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: schemathesis.Case) -> None:
                tally.cases += 1
                response = case.call(session=session)
                tally.statuses[response.status_code] = (
                    tally.statuses.get(response.status_code, 0) + 1
                )
                case.validate_response(response)

            try:
                run()
            except hypothesis.errors.Unsatisfiable:
                # Nothing to make invalid: the operation takes no parameters and no body.
                continue
            except (Exception, BaseExceptionGroup) as exc:
                tally.failures.append(
                    f"[{role}] {operation.method.upper()} {operation.path} ({mode}): {exc}"
                )


def test_the_whole_api_holds_up_to_schemathesis(
    fuzz_app: tuple[Litestar, dict[str, Any]], database: str
) -> None:
    app, accounts = fuzz_app
    schema = schemathesis.openapi.from_asgi(SCHEMA_PATH, app, config=CONFIG)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 100, "the document lists the whole API"
    tally = Tally()
    started = time.monotonic()
    for role in ROLES:
        session = _signed_in(app, accounts.get(role))
        _fuzz(schema, session, role, EXAMPLES[database], tally)
    elapsed = time.monotonic() - started
    statuses = sorted(tally.statuses.items())
    print(
        f"schemathesis on {database}: {len(operations)} operations, {tally.cases} cases,"
        f" {len(tally.failures)} failures, {elapsed:.0f} s, statuses {statuses}"
    )
    assert not tally.failures, "\n\n".join(tally.failures)
