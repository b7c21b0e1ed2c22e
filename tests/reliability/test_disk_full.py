"""A full disk: submissions get a 503 that says so and never a receipt; nothing is
half-written; the service takes tips again as soon as space returns.

The data dir (and so the SQLite file, its WAL and the key files) lives on a small
tmpfs the test mounts (it needs root, as in CI's container); the disk is then filled
with a plain file, as a growing log or a runaway backup would.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from litestar import Litestar

from tests.client import TestClient
from tests.conftest import csrf_form, make_settings
from tests.databases import migrate
from tests.reliability import crash
from tests.tipline.intake.support import open_tip_box
from tipline import db
from tipline.app import create_app
from tipline.intake.tables import Tip, TipCounter
from tipline.ledger.services import verify_chain
from tipline.ledger.tables import CustodyEvent
from tipline.settings import Settings

SQLITE_ONLY = pytest.mark.parametrize("database", ["sqlite"], indirect=True)
TMPFS_BYTES = 24 * 1024 * 1024
TEXT = "镇里的砂石场老板伙同村干部强行低价收购村民土地，" * 300  # ~22 KB of UTF-8


def mount_tmpfs(mount_point: Path) -> None:
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_BYTES},mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {result.stderr.strip()}")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    mount_tmpfs(mount_point)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.fixture
def full_disk_settings(database: str, small_disk: Path) -> Settings:
    return make_settings(database, small_disk / "data")


@pytest.fixture
async def disk_app(full_disk_settings: Settings) -> AsyncIterator[Litestar]:
    application = create_app(full_disk_settings)
    await db.open_pool()
    try:
        yield application
    finally:
        await db.close_pool()


def fill(disk: Path) -> Path:
    """Write a file until the disk has no block left."""
    filler = disk / "filler.bin"
    chunk = b"\0" * (256 * 1024)
    with filler.open("wb", buffering=0) as handle:
        while True:
            try:
                handle.write(chunk)
            except OSError as error:
                assert error.errno == errno.ENOSPC
                break
        # The last, smaller pieces too, so not even a page is left.
        for size in (16384, 4096, 512, 1):
            while True:
                try:
                    handle.write(b"\0" * size)
                except OSError:
                    break
    return filler


async def exercise_full_disk(app: Litestar, settings: Settings, disk: Path) -> None:
    """Submit, fill the disk, be refused (API and form), check nothing is half-written,
    free the space, submit again."""
    await open_tip_box(settings)
    async with TestClient(app) as client:
        first = await client.post("/api/v1/tips", json={"category": "other", "content": TEXT})
        assert first.status_code == 201, first.text
        acknowledged = 1

        filler = fill(disk)
        answers = []
        for _ in range(60):
            answer = await client.post("/api/v1/tips", json={"category": "other", "content": TEXT})
            answers.append(answer)
            if answer.status_code == 503:
                break
            assert answer.status_code == 201, answer.text
            acknowledged += 1
        refused = answers[-1]
        assert refused.status_code == 503, [a.status_code for a in answers]
        assert refused.json()["error"] == "reliability.error.storage_full"
        assert "receipt" not in refused.json()
        assert "存储空间已满" in refused.json()["detail"]
        # Again, and through the web form: the same refusal, shown as a page.
        again = await client.post("/api/v1/tips", json={"category": "other", "content": TEXT})
        assert again.status_code == 503 and "receipt" not in again.json()
        form = await csrf_form(client, "/tip/new", category="other", content=TEXT)
        page = await client.post("/tip/new", data=form)
        assert page.status_code == 503
        assert "存储空间已满" in page.text and "回执码" in page.text
        assert "receipt-code" not in page.text

        # Nothing half-written: the stored tips are exactly the acknowledged ones.
        assert await Tip.count() == acknowledged
        counter = await TipCounter.select(TipCounter.last_seq).first()
        assert counter is not None and counter["last_seq"] == acknowledged
        received = await CustodyEvent.count().where(CustodyEvent.action == "tip.received")
        assert received == acknowledged

        filler.unlink()
        back = await client.post("/api/v1/tips", json={"category": "other", "content": TEXT})
        assert back.status_code == 201, back.text
        assert back.json()["receipt"]
        assert await Tip.count() == acknowledged + 1
        assert (await verify_chain()).ok
    assert os.statvfs(disk).f_bfree > 0


@SQLITE_ONLY
async def test_a_full_disk_refuses_with_503_and_recovers(
    disk_app: Litestar, full_disk_settings: Settings, small_disk: Path
) -> None:
    await exercise_full_disk(disk_app, full_disk_settings, small_disk)
    await db.close_pool()
    connection = sqlite3.connect(full_disk_settings.sqlite_path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        connection.close()


async def test_a_full_tablespace_on_postgresql_refuses_with_503_and_recovers(
    tmp_path: Path,
) -> None:
    """PostgreSQL's tables on a small tmpfs (a tablespace; the WAL stays on the big
    disk, as a full data volume would leave it) in a cluster the test owns."""
    if not crash.OwnCluster.available():
        pytest.skip(f"needs PostgreSQL's initdb/pg_ctl in {crash.PG_BIN} (TIPLINE_TEST_PG_BIN)")
    cluster = crash.OwnCluster(Path(tempfile.mkdtemp(prefix="tipline-full-pg-")))
    small = cluster.folder / "small"
    mounted = False
    try:
        cluster.init()
        small.mkdir()
        mount_tmpfs(small)
        mounted = True
        (small / "ts").mkdir()
        for path in (small, small / "ts"):
            shutil.chown(path, "postgres", "postgres")
        connection = await asyncpg.connect(cluster.dsn)
        try:
            await connection.execute(f"CREATE TABLESPACE small LOCATION '{small / 'ts'}'")
            await connection.execute("ALTER DATABASE tipline SET default_tablespace = small")
        finally:
            await connection.close()
        settings = Settings(
            data_dir=tmp_path / "data",
            database_url=cluster.dsn,
            secure_cookies=False,
            scheduler=False,
            base_url="http://testserver.local",
        )
        migrate(settings)
        app = create_app(settings)
        await exercise_full_disk(app, settings, small)
    finally:
        cluster.stop()
        if mounted:
            subprocess.run(["umount", "-l", str(small)], check=False)
        shutil.rmtree(cluster.folder, ignore_errors=True)
