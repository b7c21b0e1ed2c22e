"""Benchmark (not a test): the county dashboard of village affairs (issue 7).

Targets: p95 server time <= 50 ms for the demo county (13 townships, 160 villages, the
2020 campaign) and <= 300 ms at province scale (20,000 villages on PostgreSQL).

For each scale it builds a fresh database, then times requests through the whole
application in this process (ASGI: session middleware, guards, the grouped query over
the derived task statuses, Jinja rendering with two SVG charts), signed in as county
staff, with no network in between:

* ``page``: ``GET /villageaffairs/dashboard`` (HTML, matrix + charts);
* ``api``: ``GET /api/v1/villageaffairs/dashboard`` (JSON);
* ``service``: ``campaigns.services.dashboard()`` alone;
* ``baseline``: ``GET /api/v1/auth/me`` (session lookup and middleware only), for scale.

    .venv/bin/python -m bench.dashboard                      # demo county on SQLite
    .venv/bin/python -m bench.dashboard --postgres DSN       # also 20,000 villages there
    .venv/bin/python -m bench.dashboard --villages 20000     # province scale on SQLite

The PostgreSQL database given is emptied first. Results are printed and written to
``bench/results/dashboard.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

from tipline import db
from tipline.app import create_app
from tipline.auth import Role
from tipline.ledger.services import SYSTEM
from tipline.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results" / "dashboard.json"
PASSWORD = "bench-dashboard-password-1"
WARMUP = 10


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "n": len(samples),
        "p50_ms": round(statistics.median(samples) * 1000, 2),
        "p95_ms": round(percentile(samples, 0.95) * 1000, 2),
        "max_ms": round(max(samples) * 1000, 2),
    }


async def _reset_postgres(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


async def seed_province(villages: int, seed: int = 7) -> None:
    """One county-level unit, townships of 100 villages, the 2020 campaign, and records
    (published village rules, supervisory committees) for a realistic share of villages."""
    from tipline.orgunits.tables import OrgUnit
    from villageaffairs.campaigns.demo import CLAUSE, RULES_DUE, SC_DUE
    from villageaffairs.campaigns.services import TaskSpec, create_campaign
    from villageaffairs.campaigns.tables import TaskKind
    from villageaffairs.reports.tables import VillageReport
    from villageaffairs.supervision.tables import SupervisoryCommittee
    from villageaffairs.villagerules.tables import RulesVersion

    rng = random.Random(seed)
    await OrgUnit.insert(OrgUnit(code="BENCH00", name="省级测试", kind="county"))
    county = await OrgUnit.select(OrgUnit.id).where(OrgUnit.code == "BENCH00").first()
    assert county is not None
    townships = max(1, villages // 100)
    await OrgUnit.insert(
        *(
            OrgUnit(code=f"T{t:05d}", name=f"测试乡{t}", kind="township", parent=county["id"])
            for t in range(townships)
        )
    )
    ids = {row["code"]: row["id"] for row in await OrgUnit.select(OrgUnit.code, OrgUnit.id)}
    rows = [
        OrgUnit(
            code=f"V{v:06d}", name=f"测试村{v}", kind="village", parent=ids[f"T{v % townships:05d}"]
        )
        for v in range(villages)
    ]
    for start in range(0, len(rows), 1000):
        await OrgUnit.insert(*rows[start : start + 1000])
    village_ids = [
        row["id"] for row in await OrgUnit.select(OrgUnit.id).where(OrgUnit.kind == "village")
    ]
    rules, committees, reports = [], [], []
    for vid in village_ids:
        if rng.random() < 0.8:
            day = RULES_DUE + dt.timedelta(days=rng.randrange(-40, 30))
            rules.append(
                RulesVersion(
                    village=vid,
                    kind="village_rules",
                    version=1,
                    title="村规民约",
                    text=CLAUSE,
                    anti_gang_marked=True,
                    anti_gang_excerpt=CLAUSE,
                    status="published",
                    published_on=day,
                    created_by=0,
                )
            )
        if rng.random() < 0.75:
            committees.append(
                SupervisoryCommittee(
                    village=vid,
                    elected_on=SC_DUE,
                    forum="villagers_meeting",
                    term_start=SC_DUE,
                    term_end=dt.date(2024, 1, 15),
                    status="active",
                    recorded_by=0,
                )
            )
    for batch in (rules, committees):
        for start in range(0, len(batch), 1000):
            await type(batch[0]).insert(*batch[start : start + 1000])
    for row in await SupervisoryCommittee.select(
        SupervisoryCommittee.id, SupervisoryCommittee.village
    ):
        day = SC_DUE + dt.timedelta(days=rng.randrange(-30, 30))
        reports.append(
            VillageReport(
                kind="supervisory_committee",
                village=row["village"],
                subject_id=row["id"],
                status="accepted",
                created_by=0,
                accepted_at=dt.datetime(day.year, day.month, day.day, 3, tzinfo=dt.UTC),
            )
        )
    for start in range(0, len(reports), 1000):
        await VillageReport.insert(*reports[start : start + 1000])
    await create_campaign(
        SYSTEM,
        code="2020-AG",
        title="2020年扫黑除恶专项斗争村务工作",
        year=2020,
        tasks=[
            TaskSpec(code="rules", title="村规民约", kind=TaskKind.village_rules, due_on=RULES_DUE),
            TaskSpec(
                code="sc",
                title="村务监督委员会",
                kind=TaskKind.supervisory_committee,
                due_on=SC_DUE,
            ),
            TaskSpec(
                code="boards",
                title="村务公开栏",
                kind=TaskKind.notice_board,
                due_on=SC_DUE,
                approval_levels=1,
            ),
        ],
    )


async def run_scale(
    label: str, settings: Settings, villages: int | None, requests: int
) -> dict[str, Any]:
    from tipline.accounts.services import create_account
    from tipline.demo import create_demo
    from tipline.orgunits.tables import OrgUnit
    from villageaffairs.campaigns import services
    from villageaffairs.campaigns.tables import TaskInstance

    app = create_app(settings)
    await db.create_all_tables()
    await db.open_pool()
    started = time.perf_counter()
    if villages is None:
        await create_demo(settings)
    else:
        await seed_province(villages)
    seeded = time.perf_counter() - started
    county = await OrgUnit.select(OrgUnit.id).where(OrgUnit.kind == "county").first()
    assert county is not None
    await create_account(
        SYSTEM,
        username="bench-county",
        display_name="bench",
        role=Role.county_staff,
        org_unit_id=county["id"],
        password=PASSWORD,
    )
    counted = await OrgUnit.count().where(OrgUnit.kind.is_in(["village", "community"]))
    instances = await TaskInstance.count()
    result: dict[str, Any] = {
        "scale": label,
        "backend": "sqlite" if settings.is_sqlite else "postgres",
        "villages": counted,
        "task_instances": instances,
        "seed_seconds": round(seeded, 1),
    }
    samples: list[float] = []
    for index in range(requests + WARMUP):
        t0 = time.perf_counter()
        await services.dashboard()
        if index >= WARMUP:
            samples.append(time.perf_counter() - t0)
    result["service"] = summary(samples)
    # The app's own lifespan opens the pool in the loop that serves the requests.
    await db.close_pool()
    async with AsyncTestClient(app, base_url="http://bench.local") as client:
        login = await client.post(
            "/api/v1/auth/login", json={"username": "bench-county", "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        for name, path in (
            ("baseline", "/api/v1/auth/me"),
            ("page", "/villageaffairs/dashboard"),
            ("api", "/api/v1/villageaffairs/dashboard"),
        ):
            samples = []
            for index in range(requests + WARMUP):
                t0 = time.perf_counter()
                response = await client.get(path)
                elapsed = time.perf_counter() - t0
                assert response.status_code == 200, response.text[:200]
                if index >= WARMUP:
                    samples.append(elapsed)
            result[name] = summary(samples)
    return result


def _print(result: dict[str, Any], target_ms: float) -> None:
    print(
        f"{result['scale']} on {result['backend']}: {result['villages']} villages, "
        f"{result['task_instances']} task instances (seeded in {result['seed_seconds']} s)"
    )
    for name in ("baseline", "service", "api", "page"):
        s = result[name]
        verdict = "ok" if s["p95_ms"] <= target_ms else "OVER TARGET"
        print(
            f"  {name:8s} p50 {s['p50_ms']:8.2f} ms   p95 {s['p95_ms']:8.2f} ms   "
            f"max {s['max_ms']:8.2f} ms   (target p95 <= {target_ms:.0f} ms: {verdict})"
        )


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres", default="", help="DSN of a PostgreSQL database to EMPTY and use"
    )
    parser.add_argument(
        "--villages", type=int, default=20_000, help="province scale (default 20000)"
    )
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--province-on-sqlite", action="store_true")
    args = parser.parse_args()
    results = []

    def settings_for(dsn: str | None) -> Settings:
        data = Path(tempfile.mkdtemp(prefix="tipline-dashboard-bench-"))
        return Settings(data_dir=data, database_url=dsn, scheduler=False, secure_cookies=False)

    if not args.skip_demo:
        result = asyncio.run(run_scale("demo county", settings_for(None), None, args.requests))
        _print(result, 50)
        results.append(result)
    if args.province_on_sqlite:
        result = asyncio.run(
            run_scale("province", settings_for(None), args.villages, args.requests)
        )
        _print(result, 300)
        results.append(result)
    if args.postgres:
        asyncio.run(_reset_postgres(args.postgres))
        result = asyncio.run(
            run_scale("demo county", settings_for(args.postgres), None, args.requests)
        )
        _print(result, 50)
        results.append(result)
        asyncio.run(_reset_postgres(args.postgres))
        result = asyncio.run(
            run_scale("province", settings_for(args.postgres), args.villages, args.requests)
        )
        _print(result, 300)
        results.append(result)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
