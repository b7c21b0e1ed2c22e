"""Hostile uploads through the two doors a tipster has, the JSON API's multipart form
and the web form: each gets a clear 4xx in the user's language and leaves no record
(no tip, no custody event, no counter step) and no file (in the data dir or the
temp dir).

The cleaning itself is tested file by file in ``tests/tipline/filecleaning/test_attachments.py``;
this is the whole path, request to database, for each kind of attack.

A hostile *name* on a harmless file is not an attack the tip box can refuse: the
name is never used (not stored, not a path, not the type), so such a tip is taken
and the test checks that the name went nowhere.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import csrf_form
from tests.tipline.filecleaning.test_attachments import (
    bomb_png,
    jpeg_with_gps,
    pdf_names_js,
    pdf_object_stream_bomb,
    pdf_open_action_js,
    pdf_page_aa,
    png_with_ztxt_bomb,
    tiny_jpeg,
)
from tests.tipline.intake.support import open_tip_box
from tipline.intake.tables import Tip, TipAttachment, TipCounter
from tipline.ledger.tables import CustodyEvent
from tipline.settings import Settings

Client = AsyncTestClient[Litestar]
MAX_FILE = 1_500_000
TEXT = "附件是证据，请查收"


def truncated_png() -> bytes:
    data = bomb_png(side=64)
    return data[: len(data) // 2]


# name, file name, bytes, expected status, expected error key (or keys, split by |)
HOSTILE: list[tuple[str, str, Callable[[], bytes], int, str]] = [
    ("png-bomb", "photo.png", bomb_png, 400, "filecleaning.error.decompression_bomb"),
    # Refused as a bomb or, under the HTTP limits, as a PNG Pillow will not read.
    (
        "ztxt-bomb",
        "photo.png",
        png_with_ztxt_bomb,
        400,
        "filecleaning.error.compressed_bomb|filecleaning.error.corrupt",
    ),
    (
        "pdf-objstm-bomb",
        "a.pdf",
        lambda: pdf_object_stream_bomb(60),
        400,
        "filecleaning.error.compressed_bomb",
    ),
    (
        "oversized",
        "big.jpg",
        lambda: b"\xff\xd8" + os.urandom(MAX_FILE + 10),
        413,
        "intake.error.file_too_large",
    ),
    (
        "exe-as-jpg",
        "photo.jpg",
        lambda: b"MZ\x90\x00\x03" + bytes(200),
        400,
        "filecleaning.error.unsupported_type",
    ),
    (
        "html-as-pdf",
        "doc.pdf",
        lambda: b"<!DOCTYPE html><script>alert(1)</script>",
        400,
        "filecleaning.error.unsupported_type",
    ),
    (
        "traversal-name-exe",
        "../../../../tmp/evil.jpg",
        lambda: b"\x7fELF\x02\x01\x01" + bytes(60),
        400,
        "filecleaning.error.unsupported_type",
    ),
    (
        "control-name-svg",
        "a\x00b\r\n\x1b[31m.png",
        lambda: b"<svg xmlns='http://www.w3.org/2000/svg'><script>x</script></svg>",
        400,
        "filecleaning.error.unsupported_type",
    ),
    (
        "truncated-jpeg",
        "photo.jpg",
        lambda: jpeg_with_gps()[:300],
        400,
        "filecleaning.error.corrupt",
    ),
    ("truncated-png", "photo.png", truncated_png, 400, "filecleaning.error.corrupt"),
    (
        "pdf-openaction-js",
        "report.pdf",
        pdf_open_action_js,
        400,
        "filecleaning.error.active_content",
    ),
    ("pdf-names-js", "r.pdf", pdf_names_js, 400, "filecleaning.error.active_content"),
    ("pdf-page-aa", "r.pdf", pdf_page_aa, 400, "filecleaning.error.active_content"),
]


@pytest.fixture
def private_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temp dir of this test's own (other processes share /tmp), for before/after."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder


def listing(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


async def records() -> dict[str, Any]:
    counter = await TipCounter.select(TipCounter.last_seq)
    return {
        "tips": await Tip.count(),
        "attachments": await TipAttachment.count(),
        "events": await CustodyEvent.count(),
        "counter": [row["last_seq"] for row in counter],
    }


@pytest.mark.parametrize(
    ("case", "name", "make", "status", "key"), HOSTILE, ids=[h[0] for h in HOSTILE]
)
async def test_hostile_uploads_are_refused_and_leave_nothing(
    app: Litestar,
    client: Client,
    settings: Settings,
    private_tempdir: Path,
    case: str,
    name: str,
    make: Callable[[], bytes],
    status: int,
    key: str,
) -> None:
    await open_tip_box(settings)
    app.state.settings = dataclasses.replace(
        settings, max_attachment_bytes=MAX_FILE, max_tip_attachments_bytes=2 * MAX_FILE
    )
    payload = make()
    # Warm up what is made on first use (the receipt key file), so it is not counted.
    warm = await client.post("/api/v1/tips", json={"category": "other", "content": "warm"})
    assert warm.status_code == 201
    before = await records()
    data_before, temp_before = listing(settings.data_dir), listing(private_tempdir)

    api = await client.post(
        "/api/v1/tips",
        data={"category": "gang_crime", "content": TEXT},
        files=[("attachments", (name, payload, "application/octet-stream"))],
    )
    assert api.status_code == status, api.text[:300]
    body = api.json()
    assert "receipt" not in body
    if key:
        assert body["error"] in key.split("|")
    assert body["detail"] and "Traceback" not in body["detail"]

    form = await csrf_form(client, "/tip/new", category="gang_crime", content=TEXT)
    page = await client.post(
        "/tip/new",
        data={k: v for k, v in form.items()},
        files=[("attachments", (name, payload, "image/jpeg"))],
    )
    assert page.status_code == status, page.text[:300]
    assert "Traceback" not in page.text
    if status == 400:  # the form comes back with what the tipster wrote
        assert TEXT in page.text

    assert await records() == before
    assert listing(settings.data_dir) == data_before
    assert listing(private_tempdir) == temp_before


@pytest.mark.parametrize(
    "name",
    [
        "../../../../tmp/escaped.jpg",
        "..\\..\\boot.ini.jpg",
        "x\x00y\r\n\x1b[2J.jpg",
        "/etc/cron.d/x",
    ],
)
async def test_a_hostile_name_on_a_harmless_photo_goes_nowhere(
    client: Client, settings: Settings, private_tempdir: Path, name: str
) -> None:
    await open_tip_box(settings)
    warm = await client.post("/api/v1/tips", json={"category": "other", "content": "warm"})
    assert warm.status_code == 201
    data_before, temp_before = listing(settings.data_dir), listing(private_tempdir)
    answer = await client.post(
        "/api/v1/tips",
        data={"category": "gang_crime", "content": TEXT},
        files=[("attachments", (name, tiny_jpeg(), "image/jpeg"))],
    )
    assert answer.status_code == 201, answer.text
    stored = await TipAttachment.select(TipAttachment.media_type)
    assert [row["media_type"] for row in stored] == ["image/jpeg"]
    assert not Path("/tmp/escaped.jpg").exists()
    assert listing(private_tempdir) == temp_before
    # Only the database's own files may change; no file named after the upload appears.
    changed = set(listing(settings.data_dir)) - set(data_before)
    assert all(part.startswith("tipline.sqlite") for part in changed), changed
    for path in settings.data_dir.rglob("*"):
        if path.is_file():
            assert b"escaped" not in path.read_bytes() and b"boot.ini" not in path.read_bytes()
