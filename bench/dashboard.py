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

At province scale on PostgreSQL it also generates ``--tips`` tips (default 1,000,000)
with set-based SQL (``INSERT ... SELECT FROM generate_series``, not through the service)
and times the pages the tip side opens at that scale, each signed in as its role:

* ``cases``: ``GET /cases`` as a designated officer (the tip ledger list);
* ``oversight``: ``GET /oversight`` as the discipline inspector;
* ``statistics``: ``GET /statistics`` as the discipline inspector.

The generated tips are received over about three years with gap-free ledger numbers per
year (``2025-000123``, ``tip_counter`` set to match), statuses spread over the lifecycle
by age (a tip of the last two days not yet assessed, of the last week being assessed or
transferred, of the last weeks waiting for feedback; older ones answered, closed, merged
or voided but for about 1 % still waiting), dummy sealed content bytes (never opened: no
key is sealed for them), case files (category, township, assigned officer) for the
registered ones, transfers to a few competent authorities, and ``case_deadline`` rows
(transfer for every tip, feedback for transferred ones; open, met, overdue with
escalation, or moot; escalations older than 90 days resolved by the inspector). No
``custody_event`` rows are written for them (none of the timed pages reads the chain),
so the ledger's hash chain does not account for these tips and ``tipline ledger verify``
is meaningless on this dataset. A page is timed for at most ``--page-budget`` seconds
(at least 3 requests); a failing page is recorded with its HTTP status instead of
figures.

    .venv/bin/python -m bench.dashboard                      # demo county on SQLite
    .venv/bin/python -m bench.dashboard --postgres DSN       # also 20,000 villages there
    .venv/bin/python -m bench.dashboard --villages 20000     # province scale on SQLite
    .venv/bin/python -m bench.dashboard --postgres DSN --skip-demo --tips 1000000

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
TIP_PAGES = (
    ("cases", "/cases", Role.officer),
    ("oversight", "/oversight", Role.inspector),
    ("statistics", "/statistics", Role.inspector),
)
TIP_WARMUP = 1
MIN_TIP_SAMPLES = 3


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


CATEGORIES_SQL = (
    "ARRAY['gang_crime','village_bully','protective_umbrella','election_interference',"
    "'usury','market_bully','other']"
)
# A pseudo-random 0..999 per row and salt, repeatable (no random(): same data every run).
R = "((hashint4({expr}) & 2147483647) % 1000)"

TIP_SQL = [
    # Tips: received evenly from 2024-01-01 (China time) until an hour ago; the ledger
    # number is gap-free per calendar year in China time, as TipCounter hands them out.
    f"""
    INSERT INTO tip (ledger_no, ledger_year, ledger_seq, channel, status, received_at,
                     receipt_mac, tipster_public_key, content, has_identity, identity,
                     format_version)
    SELECT to_char(y, 'FM0000') || '-' || to_char(s, 'FM000000'), y, s,
           CASE WHEN r1 < 600 THEN 'web' WHEN r1 < 850 THEN 'phone'
                WHEN r1 < 950 THEN 'letter' ELSE 'visit' END,
           CASE WHEN at > now() - interval '2 days' THEN
                CASE WHEN r2 < 400 THEN 'received' WHEN r2 < 800 THEN 'registered'
                     ELSE 'under_assessment' END
           WHEN at > now() - interval '8 days' THEN
                CASE WHEN r2 < 100 THEN 'registered' WHEN r2 < 500 THEN 'under_assessment'
                     WHEN r2 < 850 THEN 'transferred' WHEN r2 < 950 THEN 'closed'
                     WHEN r2 < 980 THEN 'merged' ELSE 'voided' END
           WHEN at > now() - interval '45 days' THEN
                CASE WHEN r2 < 20 THEN 'under_assessment' WHEN r2 < 520 THEN 'transferred'
                     WHEN r2 < 720 THEN 'feedback_received' WHEN r2 < 940 THEN 'closed'
                     WHEN r2 < 980 THEN 'merged' ELSE 'voided' END
           ELSE
                CASE WHEN r2 < 1 THEN 'registered' WHEN r2 < 3 THEN 'under_assessment'
                     WHEN r2 < 13 THEN 'transferred' WHEN r2 < 163 THEN 'feedback_received'
                     WHEN r2 < 923 THEN 'closed' WHEN r2 < 963 THEN 'merged'
                     ELSE 'voided' END
           END,
           at, md5('mac' || i) || md5('mac-' || i), md5('pk' || i) || md5('pk-' || i),
           decode(repeat(md5('sealed' || i), 8), 'hex'), r1 % 10 = 0,
           CASE WHEN r1 % 10 = 0 THEN decode(repeat(md5('id' || i), 4), 'hex') END, 1
    FROM (
        SELECT i, at, y, {R.format(expr="i")} AS r1, {R.format(expr="i + 1000003")} AS r2,
               row_number() OVER (PARTITION BY y ORDER BY i) AS s
        FROM (
            SELECT i, at, extract(year FROM at AT TIME ZONE 'Asia/Shanghai')::int AS y
            FROM (
                SELECT i, timestamptz '2024-01-01 00:00+08'
                       + (i - 1) * ((now() - interval '1 hour'
                                     - timestamptz '2024-01-01 00:00+08') / $1::int) AS at
                FROM generate_series(1, $1::int) AS i
            ) AS spread
        ) AS dated
    ) AS numbered
    ORDER BY i
    """,
    """
    INSERT INTO tip_counter (year, last_seq)
    SELECT ledger_year, max(ledger_seq) FROM tip GROUP BY ledger_year
    ON CONFLICT (year) DO UPDATE SET last_seq = excluded.last_seq
    """,
    # The officer's registration of every tip past "received".
    f"""
    INSERT INTO case_file (tip, category, township, summary, assigned_officer_id,
                           merged_into, registered_at, updated_at)
    SELECT t.id, ({CATEGORIES_SQL})[1 + {R.format(expr="t.id + 17")} % 7],
           tw.ids[1 + {R.format(expr="t.id + 29")} % array_length(tw.ids, 1)],
           '测试摘要 ' || t.ledger_no, off.ids[1 + t.id % array_length(off.ids, 1)],
           CASE WHEN t.status = 'merged' THEN p.ledger_no END,
           t.received_at + interval '3 hours', t.received_at + interval '3 days'
    FROM tip t
    LEFT JOIN tip p ON p.id = t.id - 1
    CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM org_unit
                WHERE kind = 'township') AS tw
    CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM account
                WHERE role = 'officer') AS off
    WHERE t.status <> 'received'
    """,
    # Transfers: every transferred or answered tip, and a third of the closed ones.
    f"""
    INSERT INTO tip_transfer (tip, authority, transferred_on, document_no, document_key,
                              method, officer_id, note, event_seq, created_at,
                              acknowledged_on, acknowledged_document_no, acknowledged_via,
                              feedback_on, feedback_document_no, feedback_summary,
                              feedback_outcome, feedback_via)
    SELECT t.id, a.ids[1 + t.id % array_length(a.ids, 1)],
           (t.received_at AT TIME ZONE 'Asia/Shanghai')::date + 4,
           '测移字' || t.ledger_no,
           a.ids[1 + t.id % array_length(a.ids, 1)] || ':测移字' || t.ledger_no,
           'confidential_post', f.assigned_officer_id, '', NULL,
           t.received_at + interval '4 days',
           (t.received_at AT TIME ZONE 'Asia/Shanghai')::date + 6, '', 'officer',
           CASE WHEN t.status <> 'transferred'
                THEN (t.received_at AT TIME ZONE 'Asia/Shanghai')::date + 20 END,
           CASE WHEN t.status <> 'transferred' THEN '测复字' || t.ledger_no ELSE '' END,
           CASE WHEN t.status <> 'transferred' THEN '已立案侦查' ELSE '' END,
           CASE WHEN t.status <> 'transferred' THEN 'case_opened' ELSE '' END,
           CASE WHEN t.status <> 'transferred' THEN 'officer' ELSE '' END
    FROM tip t
    JOIN case_file f ON f.tip = t.id
    CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM competent_authority) AS a
    WHERE t.status IN ('transferred', 'feedback_received')
       OR (t.status = 'closed' AND {R.format(expr="t.id + 41")} < 333)
    """,
    # "transfer" within 5 working days of receipt, for every tip: met by the transfer
    # (one in ten late), moot once closed without one, merged or voided; still open for
    # the tips not transferred yet, overdue and escalated when the day has passed.
    f"""
    INSERT INTO case_deadline (tip, kind, rule_working_days, satisfied_by, started_at,
                               start_day, due_on, outcome, met_at, met_by_event,
                               warned_percent, escalated_at, resolved_at, resolved_by,
                               resolution, resolution_reason)
    SELECT t.id, 'transfer', 5, 'tip.transferred', t.received_at, d.day, d.day + 7,
           CASE WHEN x.tip IS NOT NULL THEN 'met'
                WHEN t.status IN ('received', 'registered', 'under_assessment') THEN 'open'
                ELSE 'moot' END,
           CASE WHEN x.tip IS NOT NULL THEN t.received_at
                + CASE WHEN {R.format(expr="t.id + 53")} < 100 THEN interval '9 days'
                       ELSE interval '4 days' END END,
           NULL,
           CASE WHEN t.status IN ('received', 'registered', 'under_assessment')
                     AND d.day + 7 < current_date THEN 100 ELSE 0 END,
           CASE WHEN t.status IN ('received', 'registered', 'under_assessment')
                     AND d.day + 7 < current_date
                THEN (d.day + 8)::timestamp AT TIME ZONE 'Asia/Shanghai' END,
           NULL, NULL, NULL, ''
    FROM tip t
    CROSS JOIN LATERAL (SELECT (t.received_at AT TIME ZONE 'Asia/Shanghai')::date AS day) AS d
    LEFT JOIN tip_transfer x ON x.tip = t.id
    """,
    # "feedback" within 15 working days of the transfer: open until it comes back.
    """
    INSERT INTO case_deadline (tip, kind, rule_working_days, satisfied_by, started_at,
                               start_day, due_on, outcome, met_at, met_by_event,
                               warned_percent, escalated_at, resolved_at, resolved_by,
                               resolution, resolution_reason)
    SELECT x.tip, 'feedback', 15, 'tip.feedback_recorded', x.created_at, x.transferred_on,
           x.transferred_on + 21,
           CASE WHEN x.feedback_on IS NULL THEN 'open' ELSE 'met' END,
           CASE WHEN x.feedback_on IS NOT NULL
                THEN x.feedback_on::timestamp AT TIME ZONE 'Asia/Shanghai' END,
           NULL,
           CASE WHEN x.feedback_on IS NULL AND x.transferred_on + 21 < current_date
                THEN 100 ELSE 0 END,
           CASE WHEN x.feedback_on IS NULL AND x.transferred_on + 21 < current_date
                THEN (x.transferred_on + 22)::timestamp AT TIME ZONE 'Asia/Shanghai' END,
           NULL, NULL, NULL, ''
    FROM tip_transfer x
    """,
    # The inspector has dealt with (督办) escalations older than 90 days.
    """
    UPDATE case_deadline
    SET resolved_at = escalated_at + interval '7 days', resolution = 'inspector',
        resolved_by = (SELECT min(id) FROM account WHERE role = 'inspector'),
        resolution_reason = '已督办'
    WHERE escalated_at < now() - interval '90 days'
    """,
]


async def seed_tips(dsn: str, tips: int) -> dict[str, Any]:
    """``tips`` tips and what officers recorded about them, set-based, straight in SQL
    (see the module's docstring); then ANALYZE. Needs the officer accounts made first."""
    from tipline.authorities.tables import Authority

    await Authority.insert(
        *(
            Authority(name=name, kind=kind)
            for name, kind in (
                ("测试县公安局", "public_security"),
                ("测试县纪委监委", "discipline_supervision"),
                ("测试县人民检察院", "procuratorate"),
                ("测试县市场监督管理局", "market_regulation"),
            )
        )
    )
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(TIP_SQL[0], tips)
        for sql in TIP_SQL[1:]:
            await connection.execute(sql)
        await connection.execute("ANALYZE")
        counts: dict[str, Any] = {}
        for table in ("tip", "case_file", "tip_transfer", "case_deadline"):
            counts[table] = await connection.fetchval(f"SELECT count(*) FROM {table}")
        counts["case_deadline_open"] = await connection.fetchval(
            "SELECT count(*) FROM case_deadline WHERE outcome = 'open'"
        )
        counts["case_deadline_overdue"] = await connection.fetchval(
            "SELECT count(*) FROM case_deadline WHERE outcome = 'open' AND due_on < current_date"
        )
        counts["escalations_open"] = await connection.fetchval(
            "SELECT count(*) FROM case_deadline"
            " WHERE escalated_at IS NOT NULL AND resolved_at IS NULL"
        )
        return counts
    finally:
        await connection.close()


async def make_signed_in_account(role: Role, username: str, org_unit_id: int) -> dict[str, Any]:
    """An account of ``role`` with TOTP enrolled (the tip side's roles need it)."""
    from tipline.accounts import totp
    from tipline.accounts.services import create_account
    from tipline.accounts.tables import Account

    account_id = await create_account(
        SYSTEM,
        username=username,
        display_name=username,
        role=role,
        org_unit_id=org_unit_id,
        password=PASSWORD,
    )
    secret = totp.new_secret()
    await Account.update({Account.totp_secret: secret}).where(Account.id == account_id)
    return {"username": username, "secret": secret}


async def time_pages(
    client: AsyncTestClient[Any],
    accounts: dict[Role, dict[str, Any]],
    requests: int,
    budget: float,
) -> dict[str, Any]:
    """p50/p95 of each of :data:`TIP_PAGES`, signed in as its role; at most ``budget``
    seconds a page once :data:`MIN_TIP_SAMPLES` are in."""
    from tipline.accounts import totp

    found: dict[str, Any] = {}
    for name, path, role in TIP_PAGES:
        account = accounts[role]
        client.cookies.clear()
        # A TOTP step is accepted once per account: the next one for a second sign-in.
        account["step"] = max(totp.current_step(), account.get("step", -1) + 1)
        login = await client.post(
            "/api/v1/auth/login",
            json={
                "username": account["username"],
                "password": PASSWORD,
                "totp": totp.code_at_step(account["secret"], account["step"]),
            },
        )
        assert login.status_code == 200, login.text
        samples: list[float] = []
        started = time.perf_counter()
        for index in range(requests + TIP_WARMUP):
            t0 = time.perf_counter()
            response = await client.get(path)
            elapsed = time.perf_counter() - t0
            if response.status_code != 200:
                found[name] = {
                    "n": 0,
                    "error": f"HTTP {response.status_code}",
                    "ms": round(elapsed * 1000, 2),
                }
                break
            if index >= TIP_WARMUP:
                samples.append(elapsed)
            if len(samples) >= MIN_TIP_SAMPLES and time.perf_counter() - started > budget:
                break
        if name not in found:
            found[name] = summary(samples) | {"bytes": len(response.content)}
    return found


async def run_scale(
    label: str,
    settings: Settings,
    villages: int | None,
    requests: int,
    tips: int = 0,
    page_budget: float = 60.0,
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
    accounts: dict[Role, dict[str, Any]] = {}
    if tips:
        assert settings.database_url, "tips are generated on PostgreSQL only"
        for number in range(5):
            account = await make_signed_in_account(
                Role.officer, f"bench-officer-{number}", county["id"]
            )
            accounts.setdefault(Role.officer, account)
        accounts[Role.inspector] = await make_signed_in_account(
            Role.inspector, "bench-inspector", county["id"]
        )
        started = time.perf_counter()
        tip_counts = await seed_tips(settings.database_url, tips)
        tips_seeded = time.perf_counter() - started
    counted = await OrgUnit.count().where(OrgUnit.kind.is_in(["village", "community"]))
    instances = await TaskInstance.count()
    result: dict[str, Any] = {
        "scale": label,
        "backend": "sqlite" if settings.is_sqlite else "postgres",
        "villages": counted,
        "task_instances": instances,
        "seed_seconds": round(seeded, 1),
    }
    if tips:
        result["tips"] = tip_counts.pop("tip")
        result["tip_rows"] = tip_counts
        result["tips_seed_seconds"] = round(tips_seeded, 1)
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
        if tips:
            result |= await time_pages(client, accounts, requests, page_budget)
    return result


def _print(result: dict[str, Any], target_ms: float) -> None:
    print(
        f"{result['scale']} on {result['backend']}: {result['villages']} villages, "
        f"{result['task_instances']} task instances (seeded in {result['seed_seconds']} s)"
    )
    if "tips" in result:
        print(
            f"  {result['tips']} tips and {result['tip_rows']} generated in "
            f"{result['tips_seed_seconds']} s"
        )
    for name in ("baseline", "service", "api", "page", *(page[0] for page in TIP_PAGES)):
        if name not in result:
            continue
        s = result[name]
        if "error" in s:
            print(f"  {name:8s} FAILED: {s['error']} after {s['ms']:.0f} ms (target not met)")
            continue
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
    parser.add_argument(
        "--tips",
        type=int,
        default=1_000_000,
        help="tips generated at province scale on PostgreSQL (0: none; default 1000000)",
    )
    parser.add_argument(
        "--page-budget",
        type=float,
        default=60.0,
        help="seconds at most to time each tip page (after 3 requests)",
    )
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
            run_scale(
                "province",
                settings_for(args.postgres),
                args.villages,
                args.requests,
                tips=args.tips,
                page_budget=args.page_budget,
            )
        )
        _print(result, 300)
        results.append(result)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
