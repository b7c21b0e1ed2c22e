"""No trace of the tipster: the real server, logging at DEBUG, submissions from 127.0.0.2.

The server runs as ``tipline serve`` in a subprocess (a small wrapper turns Python
logging on at DEBUG for every logger first, in the uvicorn workers too), its standard
output and error captured to files. A tipster at 127.0.0.2, with a marked user agent
and referrer, submits a tip through the API and one through the form (with a GPS
photo), confirms a receipt, signs in to the mailbox both ways, writes messages, and
tries a wrong receipt. After the server stops, every file of the data dir (database,
WAL, keys), both logs and, on PostgreSQL, a ``pg_dump`` of its database are searched
for the texts, the receipts, the address, the user agent and the referrer: none may
be there, in plain, hex, base64 or escaped form.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import POSTGRES_DSN, REPO_ROOT
from tests.e2e.conftest import START_TIMEOUT_SECONDS, LiveServer, own_database
from tests.tipline.intake.support import forms_of, jpeg_with_gps, receipt_on_page
from tipline import devserver
from tipline.web.i18n import translate

TIPSTER_ADDRESS = "127.0.0.2"

# ``tipline`` with every logger at DEBUG. Module level, so the uvicorn workers that
# multiprocessing spawns (they re-import this file as __mp_main__) log the same way.
SERVE_WITH_LOGGING = """\
import logging
import sys

logging.basicConfig(
    level=logging.DEBUG,
    stream=sys.stderr,
    format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s",
)
logging.getLogger("no-trace-test").debug("every logger writes at DEBUG")

if __name__ == "__main__":
    from tipline.cli import main

    raise SystemExit(main())
"""


class LoggedServer(LiveServer):
    """The live server of the browser tests, logging at DEBUG to two files."""

    def __init__(self, data_dir: Path, database_url: str | None) -> None:
        super().__init__(data_dir, database_url)
        self.stdout_path = data_dir.parent / "server.stdout"
        self.stderr_path = data_dir.parent / "server.stderr"
        self.wrapper = data_dir.parent / "serve_logged.py"

    def log(self) -> str:
        return devserver.read_log(self.stdout_path, self.stderr_path)

    def start(self) -> None:
        self.cli("migrate")
        self.cli("demo")  # opens the tip box; its passwords stay in this process
        self.wrapper.write_text(SERVE_WITH_LOGGING)
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, str(self.wrapper), "serve", "--port", str(self.port)],
                env=self.env,
                cwd=REPO_ROOT,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )
        devserver.wait_until_healthy(
            self.process,
            self.base_url,
            log=self.log,
            timeout=START_TIMEOUT_SECONDS,
            stop_timeout=10,
        )


@pytest.fixture
def server(database: str, tmp_path: Path) -> Iterator[LoggedServer]:
    database_url = None
    if database == "postgres":
        if not POSTGRES_DSN:
            pytest.skip("PostgreSQL run: set TIPLINE_TEST_POSTGRES to a DSN to run it")
        database_url = own_database("_trace", create=True)
    live = LoggedServer(tmp_path / "data", database_url)
    try:
        live.start()
        yield live
    finally:
        live.stop()
        if database_url:
            own_database("_trace", create=False)


def _tipster(server: LoggedServer, marker: str) -> httpx.Client:
    """A browser-like client at 127.0.0.2 that announces itself in every header it can."""
    return httpx.Client(
        base_url=server.base_url,
        transport=httpx.HTTPTransport(local_address=TIPSTER_ADDRESS),
        headers={
            "User-Agent": f"UA-MARKER-{marker}",
            "Referer": f"https://referer-marker-{marker}.example/tip?from=REF-MARKER-{marker}",
        },
        timeout=60,
    )


def _csrf_on_page(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def _walk_the_tip_box(client: httpx.Client, marker: str) -> dict[str, str]:
    """Everything a tipster does; returns the secrets that must leave no trace."""
    secrets = {
        "api tip text": f"MARKER-{marker}-api 村霸强占耕地",
        "form tip text": f"MARKER-{marker}-form 派出所副所长包庇赌场",
        "form who": f"MARKER-{marker}-who 某副所长",
        "real name": f"MARKER-{marker}-name 赵六",
        "mailbox message": f"MARKER-{marker}-mailbox 补充：赌场在砖厂后院",
        "api message": f"MARKER-{marker}-apimsg 又看见他们运砂",
        "refused text": f"MARKER-{marker}-refused 被退回的内容",
    }
    assert client.get("/tip").status_code == 200
    assert client.get("/tip/new").status_code == 200

    api = client.post(
        "/api/v1/tips",
        json={"category": "village_bully", "content": secrets["api tip text"]},
    )
    assert api.status_code == 201, api.text
    api_receipt = api.json()["receipt"]

    refused = client.post(
        "/api/v1/tips",
        json={"category": "gang_crime", "content": secrets["refused text"], "unknown": 1},
    )
    assert refused.status_code == 400, refused.text

    form = client.post(
        "/tip/new",
        data={
            "category": "protective_umbrella",
            "content": secrets["form tip text"],
            "occurred": "2026年3月",
            "who": secrets["form who"],
            "real_name": "1",
            "name": secrets["real name"],
            "contact": "13900000000",
        },
        files=[("attachments", ("IMG_0001.jpg", jpeg_with_gps(), "image/jpeg"))],
    )
    assert form.status_code == 201, form.text
    form_receipt = receipt_on_page(form.text)
    confirmed = client.post(
        "/tip/receipt",
        data={"receipt": form_receipt, "ledger_no": "", "last_group": form_receipt[-4:]},
    )
    assert confirmed.status_code == 200, confirmed.text

    wrong = form_receipt[:-4] + f"{(int(form_receipt[-4:]) + 1) % 10_000:04d}"
    refused_login = client.post("/api/v1/tipster/session", json={"receipt": wrong})
    assert refused_login.status_code == 403, refused_login.text

    login = client.post("/tip/mailbox", data={"receipt": form_receipt})
    assert login.status_code == 303, login.text
    mailbox = client.get("/tip/mailbox")
    assert mailbox.status_code == 200
    assert translate("zh-CN", "intake.status.received") in mailbox.text
    sent = client.post(
        "/tip/mailbox/messages",
        data={"csrf": _csrf_on_page(mailbox.text), "text": secrets["mailbox message"]},
    )
    assert sent.status_code == 303, sent.text
    assert secrets["mailbox message"] in client.get("/tip/mailbox").text

    client.cookies.clear()
    assert client.post("/api/v1/tipster/session", json={"receipt": api_receipt}).status_code == 204
    assert client.get("/api/v1/tipster/tip").json()["status"] == "received"
    message = client.post("/api/v1/tipster/messages", json={"text": secrets["api message"]})
    assert message.status_code == 201, message.text

    digits = api_receipt.replace(" ", "")
    spaced = " ".join(form_receipt[i : i + 4] for i in range(0, 24, 4))
    secrets |= {
        "API receipt (spaced)": api_receipt,
        "API receipt (digits)": digits,
        "form receipt (spaced)": spaced,
        "form receipt (digits)": form_receipt,
        "wrong receipt": wrong,
    }
    return secrets


def _pg_dump(database_url: str, out: Path) -> Path:
    subprocess.run(
        ["pg_dump", "--no-owner", "--file", str(out), database_url],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out


def _findings(paths: list[Path], needles: dict[str, str]) -> list[str]:
    found = []
    for path in paths:
        data = path.read_bytes()
        for what, text in needles.items():
            if any(form in data for form in forms_of(text)):
                found.append(f"{what} ({text!r}) in {path}")
    return found


def test_the_server_keeps_no_trace_of_the_tipster(
    server: LoggedServer, database: str, tmp_path: Path
) -> None:
    marker = uuid.uuid4().hex
    with _tipster(server, marker) as client:
        secrets = _walk_the_tip_box(client, marker)
    # The files as a copy taken while the server runs would find them (with a WAL if one
    # is open), then as they are left after a clean stop.
    running = tmp_path / "copy-while-running"
    shutil.copytree(server.data_dir, running)
    server.stop()

    log = server.log()
    assert "Started server process" in log and "every logger writes at DEBUG" in log, log

    searched = sorted(p for p in server.data_dir.rglob("*") if p.is_file())
    assert any(p.name == "tipline.sqlite" for p in searched) or database == "postgres"
    searched += sorted(p for p in running.rglob("*") if p.is_file())
    searched += [server.stdout_path, server.stderr_path]
    if server.env.get("TIPLINE_DATABASE_URL"):
        dump = _pg_dump(server.env["TIPLINE_DATABASE_URL"], tmp_path / "dump.sql")
        dump_text = dump.read_text()
        assert "CREATE TABLE public.tip " in dump_text and "COPY public.tip " in dump_text
        searched.append(dump)

    needles = secrets | {
        "client address": TIPSTER_ADDRESS,
        "user agent": f"UA-MARKER-{marker}",
        "referrer": f"referer-marker-{marker}",
        "referrer query": f"REF-MARKER-{marker}",
        "marker": marker,
    }
    findings = _findings(searched, needles)
    assert not findings, "\n".join(findings)
