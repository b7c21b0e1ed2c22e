"""Benchmark (not a test): full tip submissions beside a bare one-insert Litestar route.

Starts two real uvicorn servers, one after the other, each on a fresh data dir with
SQLite in WAL mode and ``synchronous=FULL``:

* ``bare``: ``bench/bare_app.py``, one POST route inserting one row in an IMMEDIATE
  transaction through tipline's own SQLite engine;
* ``tipline``: ``python -m tipline serve`` (scheduler off) after ``tipline migrate``,
  ``tipline demo`` (two officers and a demo escrow key) and a third officer, so every
  tip is sealed to three officers, the escrow key and the tipster key, gets its
  ledger number and its ``tip.received`` custody event.

Both are driven by the same load generator in this process (httpx, N concurrent
connections, a warm-up, then a measured window) with the same ~1 KB JSON body of
Chinese text. It prints requests/s, p50/p99 latency, errors, the server's RSS
(VmRSS of the server process and its children, sampled) and CPU, and the ratio
tips/s / bare/s, and writes the same figures to ``bench/results/submit-<date>.json``.

The tip box limits submissions per client address; every request here comes from
127.0.0.1, so the tipline server runs with ``TIPLINE_TIPSTER_RATE_LIMIT=0`` (the
output says so). Nothing else differs from a production start.

    .venv/bin/python -m bench.submit --help
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import json
import os
import platform
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tipline import devserver

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "bench" / "results"
DEMO_COUNTY_CODE = "619901000000"  # tipline.demo.COUNTY_CODE
START_TIMEOUT_SECONDS = 60
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# What a tipster might write: a realistic length and mix of characters.
SENTENCES = (
    "我要反映本村村主任长期把持村务、欺压群众的问题。",
    "他纠集社会闲散人员，强行承包村集体鱼塘和砂石场，拒不缴纳承包费。",
    "去年换届选举前，他让人挨家挨户发钱拉票，不投他的就威胁断水断电。",
    "今年三月，他带人把反对他的村民打伤，派出所出警后不了了之。",
    "有人说镇上有领导给他撑腰，每次举报都没有下文。",
    "村里的低保名额都给了他的亲戚，真正困难的人家反而没有。",
    "砂石场的运输车整夜通行，压坏了村道，村民找他理论还被恐吓。",
    "我不敢实名举报，怕遭到报复，希望有关部门认真调查。",
)


def tip_text(target_bytes: int) -> str:
    """Chinese text of about ``target_bytes`` bytes in UTF-8."""
    parts: list[str] = []
    size = 0
    while size < target_bytes:
        sentence = SENTENCES[len(parts) % len(SENTENCES)]
        parts.append(sentence)
        size += len(sentence.encode("utf-8"))
    return "".join(parts)


def _process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn workers on PostgreSQL), from /proc."""
    found = [pid]
    index = 0
    while index < len(found):
        task_dir = Path(f"/proc/{found[index]}/task")
        index += 1
        try:
            tasks = list(task_dir.iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            found.extend(int(child) for child in children if int(child) not in found)
    return found


def rss_kib(pid: int) -> int:
    """VmRSS of the process tree in KiB (0 once it is gone)."""
    total = 0
    for member in _process_tree(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process tree."""
    total = 0
    for member in _process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / CLOCK_TICKS


class Server:
    """One uvicorn server process on a fresh data dir; its output goes to a log file."""

    def __init__(self, name: str, root: Path, command: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.data_dir = root / name / "data"
        self.data_dir.mkdir(parents=True)
        self.log_path = root / name / "server.log"
        self.port = devserver.free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
        self.env.update(env)
        self.command = [*command, "--port", str(self.port)]
        self.process: subprocess.Popen[bytes] | None = None

    def run(self, *args: str, stdin: str | None = None) -> str:
        """A one-off command (the tipline CLI) in this server's environment."""
        result = subprocess.run(
            [sys.executable, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            cwd=REPO_ROOT,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result.stdout

    def start(self) -> None:
        self.process = devserver.start(
            [sys.executable, *self.command],
            self.base_url,
            self.log_path,
            env=self.env,
            cwd=REPO_ROOT,
            name=self.name,
            timeout=START_TIMEOUT_SECONDS,
            error=SystemExit,
        )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        devserver.stop(self.process)


def bare_server(root: Path, name: str = "bare") -> Server:
    return Server(
        name,
        root,
        # The same uvicorn options as `tipline serve`.
        [
            "-m",
            "uvicorn",
            "bench.bare_app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--no-access-log",
            "--no-server-header",
            "--no-proxy-headers",
        ],
        {},
    )


def bare_lock_server(root: Path) -> Server:
    server = bare_server(root, "bare+lock")
    server.env["BENCH_WRITE_LOCK"] = "1"
    return server


def tipline_server(root: Path) -> Server:
    server = Server(
        "tipline",
        root,
        ["-m", "tipline", "serve", "--host", "127.0.0.1"],
        {
            "TIPLINE_SCHEDULER": "0",
            "TIPLINE_SECURE_COOKIES": "0",
            "TIPLINE_TIPSTER_RATE_LIMIT": "0",
        },
    )
    server.env["TIPLINE_DATA_DIR"] = str(server.data_dir)
    server.env["TIPLINE_BASE_URL"] = server.base_url
    return server


def prepare_tipline(server: Server) -> int:
    """Migrate, open the demo tip box and add a third officer; returns the officer keys."""
    server.run("-m", "tipline", "migrate")
    server.run("-m", "tipline", "demo")  # prints passwords: captured and dropped
    server.run(
        "-m",
        "tipline",
        "account",
        "add",
        "officer3",
        "--role",
        "officer",
        "--org-unit",
        DEMO_COUNTY_CODE,
        "--name",
        "指定专人丙（基准）",
        stdin=secrets.token_urlsafe(18) + "\n",
    )
    return _count(server, "SELECT count(*) FROM officer_key")


def _count(server: Server, query: str) -> int:
    connection = sqlite3.connect(server.data_dir / "tipline.sqlite")
    try:
        return int(connection.execute(query).fetchone()[0])
    finally:
        connection.close()


@dataclass
class Measured:
    server: str
    path: str
    seconds: float
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    error_kinds: dict[str, int]
    rss_mib_start: float
    rss_mib_max: float
    rss_mib_end: float
    server_cpu_percent: float
    client_cpu_percent: float
    created_total: int = 0
    rows_stored: int | None = None
    notes: list[str] = field(default_factory=list)


def _percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted ``values``."""
    if not values:
        return float("nan")
    rank = max(1, round(fraction * len(values) + 0.5))
    return values[min(rank, len(values)) - 1]


class RawConnection:
    """One keep-alive HTTP/1.1 connection over asyncio streams: a load generator far
    lighter than httpx, whose pool costs ~10 ms of client CPU a request at 64
    connections and caps the bare route near 80 req/s on two cores (``--client raw``)."""

    def __init__(self, port: int, path: str, body: bytes) -> None:
        self.port = port
        self.request = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode("ascii") + body
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self) -> int:
        """Send the request and read the whole answer; returns the status code."""
        if self.streams is None:
            self.streams = await asyncio.open_connection("127.0.0.1", self.port)
        reader, writer = self.streams
        try:
            writer.write(self.request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            headers = dict(line.split(b":", 1) for line in head.split(b"\r\n")[1:] if b":" in line)
            lowered = {k.strip().lower(): v.strip() for k, v in headers.items()}
            await reader.readexactly(int(lowered.get(b"content-length", b"0")))
            if lowered.get(b"connection", b"").lower() == b"close":
                self.close()
            return status
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def drive(
    server: Server,
    path: str,
    body: bytes,
    *,
    concurrency: int,
    warmup: float,
    duration: float,
    client_kind: str = "httpx",
) -> Measured:
    """``concurrency`` connections posting ``body`` back to back: ``warmup`` seconds
    discarded, then ``duration`` seconds measured: the requests completed inside the
    window, with their whole latency (also when they started before it)."""
    url = server.base_url + path
    headers = {"content-type": "application/json"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    latencies: list[float] = []
    errors: collections.Counter[str] = collections.Counter()
    created = 0
    rss_samples: list[int] = []
    loop_clock = time.perf_counter
    begin = loop_clock()
    window_start = begin + warmup
    window_end = window_start + duration

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal created
        raw = RawConnection(server.port, path, body) if client_kind == "raw" else None
        while True:
            started = loop_clock()
            if started >= window_end:
                if raw is not None:
                    raw.close()
                return
            try:
                if raw is not None:
                    status = await raw.post()
                else:
                    status = (await client.post(url, content=body, headers=headers)).status_code
                kind = None if status == 201 else f"HTTP {status}"
            except (httpx.HTTPError, OSError, asyncio.IncompleteReadError, ValueError) as error:
                kind = type(error).__name__
            finished = loop_clock()
            if kind is None:
                created += 1
            if window_start <= finished <= window_end:
                if kind is None:
                    latencies.append(finished - started)
                else:
                    errors[kind] += 1

    async def sampler() -> None:
        while loop_clock() < window_end:
            if loop_clock() >= window_start:
                rss_samples.append(rss_kib(server.pid))
            await asyncio.sleep(0.25)

    rss_start = rss_kib(server.pid)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        cpu_task = asyncio.create_task(_cpu_over_window(server.pid, window_start, window_end))
        await asyncio.gather(sampler(), *(worker(client) for _ in range(concurrency)))
        server_cpu, client_cpu = await cpu_task
    latencies.sort()
    count = len(latencies)
    return Measured(
        server=server.name,
        path=path,
        seconds=duration,
        requests=count,
        requests_per_second=round(count / duration, 1),
        p50_ms=round(_percentile(latencies, 0.50) * 1000, 1),
        p99_ms=round(_percentile(latencies, 0.99) * 1000, 1),
        max_ms=round(latencies[-1] * 1000, 1) if latencies else float("nan"),
        errors=sum(errors.values()),
        error_kinds=dict(errors),
        rss_mib_start=round(rss_start / 1024, 1),
        rss_mib_max=round(max(rss_samples, default=0) / 1024, 1),
        rss_mib_end=round(rss_kib(server.pid) / 1024, 1),
        server_cpu_percent=round(server_cpu, 1),
        client_cpu_percent=round(client_cpu, 1),
        created_total=created,
    )


async def _cpu_over_window(pid: int, start: float, end: float) -> tuple[float, float]:
    """CPU use (percent of one core) of the server tree and of this load generator
    during the measured window."""
    await asyncio.sleep(max(0.0, start - time.perf_counter()))
    server_before, client_before, wall_before = cpu_seconds(pid), time.process_time(), start
    await asyncio.sleep(max(0.0, end - time.perf_counter()))
    wall = max(1e-9, time.perf_counter() - wall_before)
    return (
        100 * (cpu_seconds(pid) - server_before) / wall,
        100 * (time.process_time() - client_before) / wall,
    )


def _table(rows: list[Measured]) -> str:
    header = [
        "server",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "ok",
        "errors",
        "RSS MiB (start/max/end)",
        "server CPU %",
        "client CPU %",
    ]
    lines = [
        [
            r.server,
            f"{r.requests_per_second:.1f}",
            f"{r.p50_ms:.1f}",
            f"{r.p99_ms:.1f}",
            f"{r.max_ms:.1f}",
            str(r.requests),
            str(r.errors),
            f"{r.rss_mib_start:.0f}/{r.rss_mib_max:.0f}/{r.rss_mib_end:.0f}",
            f"{r.server_cpu_percent:.0f}",
            f"{r.client_cpu_percent:.0f}",
        ]
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.rjust(widths[i]) if i else cell.ljust(widths[i]) for i, cell in enumerate(line)
        )
        for line in [header, *lines]
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.submit",
        description="Benchmark full tip submissions (POST /api/v1/tips) against a bare "
        "Litestar route doing one SQLite insert, measured in one run on real servers.",
    )
    parser.add_argument("--concurrency", type=int, default=64, help="connections (default 64)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds discarded (default 3)")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds measured (15)")
    parser.add_argument(
        "--body-bytes", type=int, default=1024, help="size of the tip text in UTF-8 (1024)"
    )
    parser.add_argument(
        "--only", choices=["bare", "tipline"], help="run one server only (no ratio then)"
    )
    parser.add_argument(
        "--lock-variant",
        action="store_true",
        help="also run the bare route with its writers queued on an asyncio lock "
        "(bare+lock): what SQLite's busy-handler back-off costs",
    )
    parser.add_argument(
        "--client",
        choices=["httpx", "raw"],
        default="httpx",
        help="load generator: httpx (default) or raw keep-alive HTTP/1.1 on asyncio "
        "streams, which needs far less CPU (httpx saturates first at 64 connections)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the servers' data dirs and logs (printed)"
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS_DIR, help="folder for the JSON (bench/results)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    content = tip_text(args.body_bytes)
    body = json.dumps(
        {"category": "village_bully", "content": content, "occurred": "2026年3月"},
        ensure_ascii=False,
    ).encode("utf-8")
    root = Path(tempfile.mkdtemp(prefix="tipline-bench-"))
    notes = [
        "tipline runs with TIPLINE_TIPSTER_RATE_LIMIT=0: every request comes from 127.0.0.1, "
        "which the per-address submission limit would otherwise stop after 10",
        "the load generator runs on the same machine as the server and shares its CPUs",
    ]
    print(f"body: {len(body)} bytes of JSON ({len(content)} characters of Chinese text)")
    print(
        f"{args.concurrency} connections, {args.warmup:g} s warm-up, {args.duration:g} s "
        f"measured; SQLite WAL, synchronous=FULL; {os.cpu_count()} CPUs; client {args.client}"
    )
    for note in notes:
        print(f"note: {note}")
    results: list[Measured] = []
    try:
        targets: tuple[str, ...] = ("bare", "tipline") if args.only is None else (args.only,)
        if args.lock_variant:
            targets = ("bare+lock", *targets)
        for name in targets:
            if name.startswith("bare"):
                server = bare_lock_server(root) if name == "bare+lock" else bare_server(root)
                server.env["BENCH_DATA_DIR"] = str(server.data_dir)
                path, table = "/rows", "bench_row"
            else:
                server = tipline_server(root)
                officer_keys = prepare_tipline(server)
                print(f"tipline: demo tip box open, {officer_keys} officer keys + escrow key")
                path, table = "/api/v1/tips", "tip"
            server.start()
            try:
                probe = httpx.post(
                    server.base_url + path,
                    content=body,
                    headers={"content-type": "application/json"},
                    timeout=30,
                )
                if probe.status_code != 201:
                    raise SystemExit(f"{name}: probe answered {probe.status_code}: {probe.text}")
                print(f"{name}: running ({server.base_url}{path}) ...", flush=True)
                measured = asyncio.run(
                    drive(
                        server,
                        path,
                        body,
                        concurrency=args.concurrency,
                        warmup=args.warmup,
                        duration=args.duration,
                        client_kind=args.client,
                    )
                )
            finally:
                server.stop()
            measured.created_total += 1  # the probe
            measured.rows_stored = _count(server, f"SELECT count(*) FROM {table}")
            if measured.rows_stored != measured.created_total:
                measured.notes.append(
                    f"{measured.created_total} answered 201 but {measured.rows_stored} rows stored"
                )
            if name == "tipline":
                highest = _count(server, "SELECT max(ledger_seq) FROM tip")
                gaps = highest != measured.rows_stored
                measured.notes.append(
                    f"ledger numbers 1..{highest} for {measured.rows_stored} tips"
                    + (" (GAPS)" if gaps else ", no gap")
                )
            results.append(measured)
    finally:
        if args.keep:
            print(f"data dirs and logs kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)

    print()
    print(_table(results))
    for measured in results:
        for note in measured.notes:
            print(f"{measured.server}: {note}")
    ratio = None
    by_name = {r.server: r for r in results}
    if "bare" in by_name and "tipline" in by_name and by_name["bare"].requests_per_second:
        ratio = round(
            by_name["tipline"].requests_per_second / by_name["bare"].requests_per_second, 3
        )
        print(f"\ntips/s ÷ bare/s = {ratio:.3f}")

    now = dt.datetime.now().astimezone()
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"submit-{now:%Y-%m-%d-%H%M%S}.json"
    report: dict[str, Any] = {
        "date": now.isoformat(timespec="seconds"),
        "host": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "config": {
            "concurrency": args.concurrency,
            "warmup_seconds": args.warmup,
            "duration_seconds": args.duration,
            "body_bytes": len(body),
            "database": "SQLite, WAL, synchronous=FULL, IMMEDIATE write transactions",
            "client": f"httpx {httpx.__version__}" if args.client == "httpx" else "raw",
        },
        "notes": notes,
        "results": [asdict(r) for r in results],
        "ratio_tips_to_bare": ratio,
    }
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"written to {out.relative_to(REPO_ROOT) if out.is_relative_to(REPO_ROOT) else out}")
    return 0


if __name__ == "__main__":
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    raise SystemExit(main())
