"""Every benchmark of issue 9 in one run: ``python -m bench`` (``--quick`` for a short one).

Real server processes (uvicorn, as ``tipline serve`` starts them), measured side by side
on the same machine in the same run, so ratios hold even when the machine is busy:

1. SQLite (WAL, ``synchronous=FULL``), 64 connections: the bare route with one insert
   (``bench/bare_app.py``) and the full tip submission (``POST /api/v1/tips``: sealed
   to three officers, the escrow key and the tipster key, ledger number, custody event,
   due dates): tips/s, p50, p99, errors, server RSS, and the ratio tips/bare;
2. the same on PostgreSQL with 2 workers (``--postgres DSN``; the database is EMPTIED);
3. tip p99 while bursts of 20 concurrent officer logins (Argon2id, key unlock) hit the
   same SQLite server, beside the run without them;
4. ``tipline ledger verify`` over ``--events`` events and one inclusion proof
   (``bench/ledger_verify.py``; 1,000,000 is the issue's scale);
5. the village-affairs dashboard (``bench/dashboard.py``, when present): the demo
   county, and 20,000 villages on PostgreSQL unless ``--quick``.

It prints one table with each target and writes everything to
``bench/results/bench-<date>.json``.

    .venv/bin/python -m bench --quick
    .venv/bin/python -m bench --postgres postgresql://postgres@127.0.0.1:5432/tipline_bench \\
        --events 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.submit import (
    DEMO_COUNTY_CODE,
    REPO_ROOT,
    RESULTS_DIR,
    Measured,
    Server,
    _count,
    _percentile,
    bare_server,
    drive,
    tip_text,
)

BURST_SIZE = 20


def _pg_server_env(server: Server, dsn: str) -> None:
    server.env["TIPLINE_DATABASE_URL"] = dsn


def tip_server(root: Path, name: str, *, dsn: str | None, workers: int) -> Server:
    command = ["-m", "tipline", "serve", "--host", "127.0.0.1"]
    if dsn is not None:
        command += ["--workers", str(workers)]
    server = Server(
        name,
        root,
        command,
        {
            "TIPLINE_SCHEDULER": "0",
            "TIPLINE_SECURE_COOKIES": "0",
            "TIPLINE_TIPSTER_RATE_LIMIT": "0",
        },
    )
    server.env["TIPLINE_DATA_DIR"] = str(server.data_dir)
    server.env["TIPLINE_BASE_URL"] = server.base_url
    if dsn is not None:
        server.env["TIPLINE_DATABASE_URL"] = dsn
    return server


def prepare_tips(server: Server) -> str:
    """Migrate, open the demo tip box, add a third officer; returns that officer's password."""
    password = secrets.token_urlsafe(18)
    server.run("-m", "tipline", "migrate")
    server.run("-m", "tipline", "demo")
    server.run(
        "-m",
        "tipline",
        "account",
        "add",
        "bench_officer",
        "--role",
        "officer",
        "--org-unit",
        DEMO_COUNTY_CODE,
        "--name",
        "指定专人丙（基准）",
        stdin=password + "\n",
    )
    return password


async def reset_postgres(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


async def _pg_count(dsn: str, query: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(await connection.fetchval(query) or 0)
    finally:
        await connection.close()


async def _create_bare_table(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS bench_row (id SERIAL PRIMARY KEY, "
            "category VARCHAR(40), content TEXT, received_at TIMESTAMPTZ)"
        )
    finally:
        await connection.close()


def count(server: Server, dsn: str | None, query: str) -> int:
    if dsn is None:
        return _count(server, query)
    return asyncio.run(_pg_count(dsn, query))


async def drive_with_logins(
    server: Server,
    body: bytes,
    password: str,
    *,
    concurrency: int,
    warmup: float,
    duration: float,
    every: float,
) -> tuple[Measured, dict[str, Any]]:
    """Tips as in :func:`drive`, while every ``every`` seconds of the measured window
    :data:`BURST_SIZE` officers sign in at once (each on its own connection)."""
    login_latencies: list[float] = []
    login_errors: dict[str, int] = {}
    payload = {"username": "bench_officer", "password": password}

    async def one_login(client: httpx.AsyncClient) -> None:
        started = time.perf_counter()
        try:
            answer = await client.post(server.base_url + "/api/v1/auth/login", json=payload)
            kind = None if answer.status_code == 200 else f"HTTP {answer.status_code}"
        except httpx.HTTPError as error:
            kind = type(error).__name__
        if kind is None:
            login_latencies.append(time.perf_counter() - started)
        else:
            login_errors[kind] = login_errors.get(kind, 0) + 1

    async def bursts() -> int:
        await asyncio.sleep(warmup + 0.5)
        end = time.perf_counter() + duration - 1.0
        fired = 0
        while time.perf_counter() < end:
            clients = [httpx.AsyncClient(timeout=60) for _ in range(BURST_SIZE)]
            try:
                await asyncio.gather(*(one_login(client) for client in clients))
            finally:
                for client in clients:
                    await client.aclose()
            fired += 1
            await asyncio.sleep(every)
        return fired

    measured, fired = await asyncio.gather(
        drive(
            server,
            "/api/v1/tips",
            body,
            concurrency=concurrency,
            warmup=warmup,
            duration=duration,
            client_kind="raw",
        ),
        bursts(),
    )
    login_latencies.sort()
    return measured, {
        "bursts": fired,
        "logins_ok": len(login_latencies),
        "login_errors": login_errors,
        "login_p50_ms": round(_percentile(login_latencies, 0.5) * 1000, 1),
        "login_p99_ms": round(_percentile(login_latencies, 0.99) * 1000, 1),
    }


def probe(server: Server, path: str, body: bytes) -> None:
    answer = httpx.post(
        server.base_url + path,
        content=body,
        headers={"content-type": "application/json"},
        timeout=60,
    )
    if answer.status_code != 201:
        raise SystemExit(f"{server.name}: probe answered {answer.status_code}: {answer.text}")


def run_submissions(args: argparse.Namespace, body: bytes, root: Path) -> dict[str, Any]:
    """Bare vs tip on SQLite (plus the login burst) and, with a DSN, on PostgreSQL."""
    out: dict[str, Any] = {"runs": {}, "login_burst": None}
    load = {
        "concurrency": args.concurrency,
        "warmup": args.warmup,
        "duration": args.duration,
        "client_kind": "raw",
    }
    databases: list[tuple[str, str | None]] = [("sqlite", None)]
    if args.postgres:
        databases.append(("postgres", args.postgres))
    for database, dsn in databases:
        for kind in ("bare", "tip"):
            name = f"{kind}-{database}"
            if dsn is not None:
                asyncio.run(reset_postgres(dsn))
            if kind == "bare":
                server = bare_server(root, name)
                server.env["BENCH_DATA_DIR"] = str(server.data_dir)
                if dsn is not None:
                    server.env["BENCH_DATABASE_URL"] = dsn
                    server.command += ["--workers", str(args.workers)]
                    asyncio.run(_create_bare_table(dsn))
                path, table = "/rows", "bench_row"
                password = ""
            else:
                server = tip_server(root, name, dsn=dsn, workers=args.workers)
                password = prepare_tips(server)
                path, table = "/api/v1/tips", "tip"
            server.start()
            try:
                probe(server, path, body)
                print(f"{name}: measuring ...", flush=True)
                measured = asyncio.run(drive(server, path, body, **load))
                measured.created_total += 1
                burst = None
                if kind == "tip" and dsn is None and not args.no_logins:
                    print(f"{name}: measuring with login bursts ...", flush=True)
                    with_logins, burst = asyncio.run(
                        drive_with_logins(
                            server,
                            body,
                            password,
                            concurrency=args.concurrency,
                            warmup=args.warmup,
                            duration=args.duration,
                            every=args.burst_every,
                        )
                    )
                    burst["tips"] = asdict(with_logins)
                    measured.created_total += with_logins.created_total
            finally:
                server.stop()
            measured.rows_stored = count(server, dsn, f"SELECT count(*) FROM {table}")
            if measured.rows_stored != measured.created_total:
                measured.notes.append(
                    f"{measured.created_total} answered 201 but {measured.rows_stored} rows stored"
                )
            if kind == "tip":
                highest = count(server, dsn, "SELECT max(ledger_seq) FROM tip")
                if highest != measured.rows_stored:
                    measured.notes.append(f"ledger numbers up to {highest}: GAPS")
            out["runs"][name] = asdict(measured)
            if burst is not None:
                out["login_burst"] = burst
    return out


def run_ledger(events: int, root: Path) -> dict[str, Any]:
    print(f"ledger: {events} events ...", flush=True)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.ledger_verify",
            "--events",
            str(events),
            "--dir",
            str(root / "ledger"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    )
    text = result.stdout
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < 0:
        return {"error": (result.stderr or text)[-2000:]}
    figures: dict[str, Any] = json.loads(text[start : end + 1])
    figures["events"] = events
    return figures


def run_dashboard(args: argparse.Namespace) -> list[dict[str, Any]] | None:
    script = REPO_ROOT / "bench" / "dashboard.py"
    if not script.exists():
        return None
    print("dashboard ...", flush=True)
    command = [sys.executable, "-m", "bench.dashboard", "--requests", str(args.dashboard_requests)]
    if args.postgres and not args.quick:
        command += ["--postgres", args.postgres, "--villages", str(args.villages)]
    result = subprocess.run(
        command, capture_output=True, text=True, cwd=REPO_ROOT, check=False, timeout=3600
    )
    written = REPO_ROOT / "bench" / "results" / "dashboard.json"
    if result.returncode != 0 or not written.exists():
        return [{"error": (result.stderr or result.stdout)[-2000:]}]
    data: list[dict[str, Any]] = json.loads(written.read_text(encoding="utf-8"))
    return data


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "NOT met")


def summary_rows(report: dict[str, Any]) -> list[list[str]]:
    """Measure, value, target, verdict."""
    rows: list[list[str]] = []
    runs = report["submissions"]["runs"]
    for database in ("sqlite", "postgres"):
        bare, tip = runs.get(f"bare-{database}"), runs.get(f"tip-{database}")
        if bare is None or tip is None:
            continue
        label = (
            "SQLite"
            if database == "sqlite"
            else f"PostgreSQL, {report['config']['workers']} workers"
        )
        for kind, run in (("bare insert", bare), ("full tip", tip)):
            rows.append(
                [
                    f"{label}: {kind}",
                    f"{run['requests_per_second']:.0f}/s  p50 {run['p50_ms']:.0f} ms  "
                    f"p99 {run['p99_ms']:.0f} ms  errors {run['errors']}  "
                    f"RSS max {run['rss_mib_max']:.0f} MiB",
                    "tip: 0 errors, p99 <= 150 ms, RSS <= 200 MB" if kind == "full tip" else "",
                    _verdict(
                        run["errors"] == 0 and run["p99_ms"] <= 150 and run["rss_mib_max"] <= 200
                    )
                    if kind == "full tip"
                    else "",
                ]
            )
        ratio = tip["requests_per_second"] / bare["requests_per_second"]
        rows.append([f"{label}: tips ÷ bare", f"{ratio:.2f}", ">= 0.60", _verdict(ratio >= 0.6)])
    if "tip-sqlite" in runs and "tip-postgres" in runs:
        ratio = runs["tip-postgres"]["requests_per_second"] / max(
            1e-9, runs["tip-sqlite"]["requests_per_second"]
        )
        rows.append(
            ["PostgreSQL tips ÷ SQLite tips", f"{ratio:.2f}", ">= 1.5", _verdict(ratio >= 1.5)]
        )
    burst = report["submissions"].get("login_burst")
    if burst and "tip-sqlite" in runs:
        before, during = runs["tip-sqlite"]["p99_ms"], burst["tips"]["p99_ms"]
        rows.append(
            [
                f"tip p99 without / with {BURST_SIZE}-login bursts",
                f"{before:.0f} / {during:.0f} ms ({burst['bursts']} bursts, "
                f"login p99 {burst['login_p99_ms']:.0f} ms, {burst['logins_ok']} ok)",
                "<= 2x",
                _verdict(during <= 2 * before),
            ]
        )
    ledger = report.get("ledger") or {}
    if "verify_seconds" in ledger:
        rows.append(
            [
                f"ledger verify, {ledger['events']:,} events",
                f"{ledger['verify_seconds']} s",
                "<= 20 s at 1,000,000",
                _verdict(ledger["verify_ok"] and ledger["verify_seconds"] <= 20),
            ]
        )
        rows.append(
            [
                f"inclusion proof at {ledger['events']:,} leaves",
                f"{ledger['proof_ms_median']} ms (median)",
                "<= 5 ms",
                _verdict(ledger["proof_ms_median"] <= 5),
            ]
        )
    elif ledger:
        rows.append(["ledger verify", "failed", "", "NOT met"])
    for scale in report.get("dashboard") or []:
        if "error" in scale:
            rows.append(["dashboard", "failed", "", "NOT met"])
            continue
        limit = 50 if scale.get("scale", "").startswith("demo") else 300
        page = scale.get("page") or {}
        p95 = page.get("p95_ms")
        rows.append(
            [
                f"dashboard page, {scale.get('scale')} ({scale.get('backend', '')})",
                f"p95 {p95} ms" if p95 is not None else json.dumps(scale)[:60],
                f"<= {limit} ms",
                _verdict(None if p95 is None else p95 <= limit),
            ]
        )
        for name in ("cases", "oversight", "statistics"):
            timed = scale.get(name)
            if not isinstance(timed, dict):
                continue
            tip_p95 = timed.get("p95_ms")
            rows.append(
                [
                    f"/{name}, {scale.get('tips', 0):,} tips ({scale.get('backend', '')})",
                    f"p95 {tip_p95} ms (n {timed.get('n')})"
                    if tip_p95 is not None
                    else json.dumps(timed)[:60],
                    f"<= {limit} ms",
                    _verdict(None if tip_p95 is None else tip_p95 <= limit),
                ]
            )
    return rows


def print_table(rows: list[list[str]]) -> str:
    header = ["measure", "value", "target", "verdict"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)) for r in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs, 100,000 events")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TIPLINE_BENCH_POSTGRES", ""),
        help="DSN of a PostgreSQL database to EMPTY and use (or TIPLINE_BENCH_POSTGRES)",
    )
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers on PostgreSQL")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--warmup", type=float, default=None, help="seconds (3; quick 1)")
    parser.add_argument("--duration", type=float, default=None, help="seconds (15; quick 6)")
    parser.add_argument(
        "--events", type=int, default=None, help="ledger events (300,000; quick 50,000)"
    )
    parser.add_argument("--burst-every", type=float, default=2.0, help="seconds between bursts")
    parser.add_argument("--no-logins", action="store_true", help="skip the login-burst run")
    parser.add_argument("--no-ledger", action="store_true")
    parser.add_argument("--no-dashboard", action="store_true")
    parser.add_argument("--villages", type=int, default=20_000)
    parser.add_argument("--dashboard-requests", type=int, default=None)
    parser.add_argument("--body-bytes", type=int, default=1024)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    quick = args.quick
    args.warmup = args.warmup if args.warmup is not None else (1.0 if quick else 3.0)
    args.duration = args.duration if args.duration is not None else (6.0 if quick else 15.0)
    args.events = args.events if args.events is not None else (50_000 if quick else 300_000)
    if args.dashboard_requests is None:
        args.dashboard_requests = 50 if quick else 200
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    content = tip_text(args.body_bytes)
    body = json.dumps(
        {"category": "village_bully", "content": content, "occurred": "2026年3月"},
        ensure_ascii=False,
    ).encode("utf-8")
    root = Path(tempfile.mkdtemp(prefix="tipline-bench-"))
    started = time.perf_counter()
    now = dt.datetime.now().astimezone()
    report: dict[str, Any] = {
        "date": now.isoformat(timespec="seconds"),
        "host": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_start": os.getloadavg(),
        },
        "config": {
            "quick": args.quick,
            "concurrency": args.concurrency,
            "warmup_seconds": args.warmup,
            "duration_seconds": args.duration,
            "body_bytes": len(body),
            "workers": args.workers,
            "postgres": bool(args.postgres),
            "sqlite": "WAL, synchronous=FULL, IMMEDIATE write transactions",
            "client": "raw keep-alive HTTP/1.1 on asyncio streams, same machine",
        },
        "notes": [
            "tipline servers run with TIPLINE_TIPSTER_RATE_LIMIT=0 (every request comes "
            "from 127.0.0.1) and the scheduler off",
            "the load generator shares the server's CPUs",
        ],
    }
    try:
        report["submissions"] = run_submissions(args, body, root)
        report["ledger"] = None if args.no_ledger else run_ledger(args.events, root)
        report["dashboard"] = None if args.no_dashboard else run_dashboard(args)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    report["host"]["load_average_at_end"] = os.getloadavg()
    report["seconds"] = round(time.perf_counter() - started, 1)
    rows = summary_rows(report)
    report["table"] = rows
    table = print_table(rows)
    print()
    print(table)
    for name, run in report["submissions"]["runs"].items():
        for note in run.get("notes", []):
            print(f"{name}: {note}")
    print(
        f"load average at start/end: {report['host']['load_average_at_start']} / "
        f"{report['host']['load_average_at_end']}"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"bench-{now:%Y-%m-%d-%H%M%S}.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"written to {out.relative_to(REPO_ROOT) if out.is_relative_to(REPO_ROOT) else out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
