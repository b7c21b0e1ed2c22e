"""The end-of-session trace scan can see a trace (its negative control): a marker, a
receipt, a client address in a service file or a PostgreSQL row is a hit; a test's own
input file next to the data dir is not searched."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from tests import trace_scan
from tests.conftest import POSTGRES_DSN
from tipline.settings import Settings


def test_the_scan_finds_every_form_of_a_marker_in_the_service_files(tmp_path: Path) -> None:
    receipt = "123456789012345678901234"
    trace_scan.TRACES.receipts[receipt] = None
    try:
        data = tmp_path / "case" / "data"
        (data / "attachments").mkdir(parents=True)
        (data / "tipline.sqlite").write_bytes(b"\x00" + receipt.encode().hex().encode())
        (data / "attachments" / "a.bin").write_bytes(b"seen by MARKER-77 here")
        (tmp_path / "case" / "server.log").write_text("GET / from testclient")
        (tmp_path / "case" / "upload.txt").write_text("MARKER-77 the test's own input")
        files = trace_scan.service_files(tmp_path)
        assert sorted(p.name for p in files) == ["a.bin", "server.log", "tipline.sqlite"]
        hits = trace_scan.find_traces(
            [(str(p), p.read_bytes()) for p in files], trace_scan.needles()
        )
        assert any("receipt" in hit and "tipline.sqlite" in hit for hit in hits), hits
        assert any("MARKER-" in hit and "a.bin" in hit for hit in hits), hits
        assert any("client/UA" in hit and "server.log" in hit for hit in hits), hits
        assert not any("upload.txt" in hit for hit in hits)
        since_receipt = trace_scan.needles((0, len(trace_scan.TRACES.receipts)))
        again = trace_scan.find_traces(
            [("db", (data / "tipline.sqlite").read_bytes())], since_receipt
        )
        assert not again, "a snapshot after the receipt's test looks only for later needles"
    finally:
        trace_scan.TRACES.receipts.pop(receipt, None)
        # These files are this test's inputs, not the service's: out of the final scan.
        for path in trace_scan.service_files(tmp_path):
            path.unlink()


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_the_scan_finds_a_marker_in_a_postgres_row(settings: Settings) -> None:
    async def run() -> list[str]:
        connection = await asyncpg.connect(POSTGRES_DSN)
        try:
            await connection.execute("CREATE TABLE trace_probe (note text, blob bytea)")
            await connection.execute("INSERT INTO trace_probe VALUES ($1, $2)", "ok", b"MARKER-99")
            return await trace_scan.postgres_hits(connection, "probe")
        finally:
            await connection.execute("DROP TABLE IF EXISTS trace_probe")
            await connection.close()

    hits = asyncio.run(run())
    assert hits and all("probe" in hit for hit in hits), hits
    assert any("MARKER-" in hit for hit in hits)
