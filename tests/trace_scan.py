"""After the whole test session: no trace of any tipster the tests played, anywhere the
service writes.

What is searched for (the "markers"):

- every text containing ``MARKER-`` (the tests' tip texts, names, messages and replies
  all carry it; a marker is searched for in plain, hex, base64 and escaped form);
- every receipt the service made in this process (``receipts.new_receipt`` is wrapped
  for the session to remember them), as 24 digits and as six spaced groups;
- ``testclient``: the client address *and* the user agent of every in-process test
  client (Litestar's and schemathesis'), so a stored address or user agent shows up;
- anything a test hands to ``remember_trace(text)``.

Where: every file under a service data dir (a directory named ``data`` below the
session's base temp dir: SQLite databases with their WAL, keys, attachments), every
server log the tests captured (``server.log``, ``server.stdout``, ``server.stderr``),
and the PostgreSQL test database: every table is searched each time the fixtures are
about to empty it for the next test (``search_postgres``), and once more at the end.
Under pytest-xdist each worker searches what its own tests wrote.

Left out, on purpose: files a test wrote itself as inputs or to inspect an output
(upload fixtures, downloaded Excel exports, PDFs, decrypted backups) live next to the
data dir, not in it; the crash test's own PostgreSQL cluster and the intake trace
test's database, which those tests search themselves before dropping.

A hit fails the session (exit status 1) and names the file or table; the summary line
reports what was searched.
"""

from __future__ import annotations

import base64
import functools
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ahocorasick
import asyncpg
import pytest

MARKER_PREFIX = "MARKER-"
CLIENT_MARKER = "testclient"
LOG_NAMES = {"server.log", "server.stdout", "server.stderr"}
DATA_DIR_NAME = "data"


@dataclass
class Traces:
    """What the session remembered, in the order it was remembered (a snapshot of one
    test's database looks only for what was remembered since the snapshot before)."""

    texts: dict[str, None] = field(default_factory=dict)
    receipts: dict[str, None] = field(default_factory=dict)
    snapshot_mark: tuple[int, int] = (0, 0)
    snapshots: int = 0
    last_test: str = ""
    hits: list[str] = field(default_factory=list)
    tests_run: int = 0
    worker_reports: list[tuple[str, list[str]]] = field(default_factory=list)


TRACES = Traces()


def remember_trace(*texts: str) -> None:
    """Tell the end-of-session scan that ``texts`` must appear nowhere the service writes."""
    TRACES.texts.update(dict.fromkeys(text for text in texts if text))


def forms_of(text: str) -> list[bytes]:
    """The ways a secret could be written into a column or file."""
    raw = text.encode("utf-8")
    return [
        raw,
        raw.hex().encode(),
        base64.b64encode(raw).rstrip(b"="),
        text.encode("unicode_escape"),
    ]


def needles(since: tuple[int, int] = (0, 0)) -> dict[bytes, str]:
    """Every byte string to look for, with what it stands for: the markers, and the texts
    and receipts remembered after the first ``since`` of each."""
    found: dict[bytes, str] = {}
    for text in list(TRACES.texts)[since[0] :]:
        for form in forms_of(text):
            found[form] = f"test text {text!r}"
    for digits in list(TRACES.receipts)[since[1] :]:
        spaced = " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))
        for form in (digits, spaced):
            for encoded in forms_of(form):
                found[encoded] = f"receipt {form!r}"
    for marker, what in ((MARKER_PREFIX, "a MARKER- text"), (CLIENT_MARKER, "client/UA")):
        for form in forms_of(marker):
            found[form] = what
    return found


def service_files(base: Path) -> list[Path]:
    """Files under the service's data dirs, and the server logs, below ``base``."""
    files: list[Path] = []
    for root, dirs, names in os.walk(base):
        here = Path(root)
        in_data = DATA_DIR_NAME in here.relative_to(base).parts
        files += [here / n for n in names if in_data or n in LOG_NAMES]
        dirs.sort()
    return [path for path in files if path.is_file() and not path.is_symlink()]


def _read(path: Path) -> bytes:
    """The file's bytes; a file removed meanwhile (a test's teardown, another pytest
    session pruning old base temp dirs) has nothing left to search."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def find_traces(sources: Iterable[tuple[str, bytes]], looking_for: dict[bytes, str]) -> list[str]:
    """Each needle found in each source, every source read once for all needles.

    An Aho–Corasick automaton finds any number of needles in one pass (a regular
    expression alternation of 20,000 receipts took minutes per 10 MB; a search per
    needle grows with the needles). Bytes map one-to-one onto Latin-1 characters,
    which the automaton takes.
    """
    automaton = ahocorasick.Automaton()
    for needle in looking_for:
        automaton.add_word(needle.decode("latin-1"), needle)
    automaton.make_automaton()
    hits = []
    for where, data in sources:
        found = {needle for _, needle in automaton.iter(data.decode("latin-1"))}
        hits += [f"{looking_for[needle]} in {where}" for needle in sorted(found)]
    return hits


async def postgres_hits(connection: asyncpg.Connection, where: str) -> list[str]:
    """Search every row of every table of the public schema, as PostgreSQL's row text
    (bytea as hex): what a ``pg_dump`` would show, without a process per test."""
    tables = await connection.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
    )
    parts = []
    for row in tables:
        name = row["tablename"].replace('"', '""')
        text = await connection.fetchval(
            f"SELECT string_agg(t::text, E'\\n') FROM public.\"{name}\" t"
        )
        if text:
            parts.append(f"-- {row['tablename']}\n{text}")
    data = "\n".join(parts).encode("utf-8")
    return find_traces([(where, data)], needles(TRACES.snapshot_mark)) if data else []


async def search_postgres(connection: asyncpg.Connection) -> None:
    """Called by the fixtures just before they empty the test database for the next test."""
    where = f"PostgreSQL as {TRACES.last_test or 'the session start'} left it"
    TRACES.hits += await postgres_hits(connection, where)
    TRACES.snapshot_mark = (len(TRACES.texts), len(TRACES.receipts))
    TRACES.snapshots += 1


@pytest.fixture(scope="session", autouse=True)
def _remember_receipts() -> Any:
    """Wrap ``receipts.new_receipt`` for the session: every receipt made here is remembered."""
    from tipline.intake import receipts

    original = receipts.new_receipt

    @functools.wraps(original)  # inspect.unwrap gives draws that never reach the service
    def remembering() -> str:
        digits = original()
        TRACES.receipts[digits] = None
        return digits

    receipts.new_receipt = remembering  # type: ignore[assignment]
    try:
        yield
    finally:
        receipts.new_receipt = original  # type: ignore[assignment]


def pytest_runtest_logfinish(nodeid: str, location: Any) -> None:
    TRACES.tests_run += 1
    TRACES.last_test = nodeid


def run_scan(base: Path) -> tuple[str, list[str], int]:
    files = service_files(base)
    looking_for = needles()
    hits = list(TRACES.hits)
    hits += find_traces(((str(path), _read(path)) for path in files), looking_for)
    databases = sum(1 for path in files if path.suffix == ".sqlite")
    summary = (
        f"trace scan: {len(files)} service files ({databases} SQLite databases),"
        f" {TRACES.snapshots} PostgreSQL snapshots,"
        f" {len(TRACES.receipts)} receipts and {len(TRACES.texts)} texts remembered"
        f" plus {MARKER_PREFIX!r} and {CLIENT_MARKER!r}: {len(hits)} hits"
    )
    return summary, hits, len(files)
