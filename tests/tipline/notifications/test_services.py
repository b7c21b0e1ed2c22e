"""Inbox messages (idempotent with a dedupe key) and e-mail through a real SMTP server."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import REPO_ROOT, cli_env, make_account, make_settings, sign_in
from tests.tipline.notifications.smtp_server import (
    SMTP_PASSWORD,
    SMTP_USER,
    SmtpServer,
    smtp_server,  # noqa: F401 - a fixture
)
from tipline.accounts.tables import Account
from tipline.auth import Role
from tipline.ledger import checkpoints
from tipline.ledger.services import SYSTEM, append_event
from tipline.notifications import services
from tipline.notifications.services import BadNotification
from tipline.settings import Settings

T0 = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def at_t0() -> Iterator[None]:
    """Every test here runs at ``T0``: what ``notify`` stamps with the clock and what the
    tests hand ``send_pending`` as ``now`` are the same moment, whatever today is."""
    with time_machine.travel(T0, tick=False):
        yield


@pytest.fixture
def settings(database: str, tmp_path: Path, smtp_server: SmtpServer) -> Settings:  # noqa: F811
    return dataclasses.replace(
        make_settings(database, tmp_path / "data"),
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_user=SMTP_USER,
        smtp_password=SMTP_PASSWORD,
        smtp_from="tipline@county.example",
        smtp_starttls=False,
    )


async def _account(role: Role, email: str | None) -> int:
    account = await make_account(role)
    await Account.update({Account.email: email}).where(Account.id == account["id"])
    return int(account["id"])


async def test_notify_fills_the_inbox_once_per_dedupe_key(tipline_db: Settings) -> None:
    officer = await _account(Role.officer, None)
    params = {"ledger_no": "2026-000001", "due_on": "2026-12-04"}
    first = await services.notify(
        [officer],
        "deadline",
        "notifications.test.due",
        params,
        "/cases/2026-000001",
        dedupe_key="tip:1:transfer:50",
    )
    again = await services.notify(
        [officer],
        "deadline",
        "notifications.test.due",
        params,
        "/cases/2026-000001",
        dedupe_key="tip:1:transfer:50",
    )
    assert (first, again) == (1, 0)
    box = await services.inbox(officer, "en")
    assert box.unread == 1
    assert [item.link for item in box.items] == ["/cases/2026-000001"]
    await services.mark_read(officer, box.items[0].id)
    assert (await services.inbox(officer, "en")).unread == 0


async def test_a_parameter_that_could_carry_tip_content_is_refused(tipline_db: Settings) -> None:
    officer = await _account(Role.officer, None)
    with pytest.raises(BadNotification):
        await services.notify([officer], "x", "notifications.test.due", {"text": "a" * 65})
    with pytest.raises(BadNotification):
        await services.notify([officer], "x", "notifications.test.due", {"text": "a\nb"})
    assert (await services.inbox(officer, "en")).items == []


async def test_notify_role_reaches_every_enabled_account_of_the_role(tipline_db: Settings) -> None:
    first = await _account(Role.inspector, None)
    second = await _account(Role.inspector, None)
    disabled = await _account(Role.inspector, None)
    await Account.update({Account.disabled: True}).where(Account.id == disabled)
    officer = await _account(Role.officer, None)
    assert await services.notify_role(Role.inspector, "x", "notifications.nav", {}) == 2
    for account_id, count in ((first, 1), (second, 1), (disabled, 0), (officer, 0)):
        assert (await services.inbox(account_id, "en")).unread == count


async def test_email_is_queued_for_accounts_with_an_address_and_sent(
    tipline_db: Settings,
    smtp_server: SmtpServer,  # noqa: F811
    settings: Settings,
) -> None:
    with_mail = await _account(Role.officer, "officer@county.example")
    without = await _account(Role.officer, None)
    await services.notify(
        [with_mail, without],
        "deadline",
        "notifications.test.due",
        {"ledger_no": "2026-000007", "due_on": "2026-12-04"},
        "/cases/2026-000007",
        dedupe_key="k",
    )
    await services.notify([with_mail], "deadline", "notifications.test.due", {}, dedupe_key="k")
    queued = await services.outbox()
    assert [row.to_address for row in queued] == ["officer@county.example"]
    result = await services.send_pending(settings, now=T0)
    assert (result.sent, result.failed) == (1, 0)
    [message] = smtp_server.mailbox.messages
    assert message["To"] == "officer@county.example"
    assert message["From"] == "tipline@county.example"
    body = message.get_payload(decode=True).decode()
    assert "2026-000007" in body
    assert "http://testserver.local/cases/2026-000007" in body
    # Sent once: a second run finds nothing due.
    assert (await services.send_pending(settings, now=T0 + dt.timedelta(hours=1))).sent == 0
    assert len(smtp_server.mailbox.messages) == 1
    assert (await services.outbox())[0].sent_at == T0


async def test_a_failing_server_is_retried_with_backoff_until_it_works(
    tipline_db: Settings,
    smtp_server: SmtpServer,  # noqa: F811
    settings: Settings,
) -> None:
    officer = await _account(Role.officer, "officer@county.example")
    await services.notify([officer], "deadline", "notifications.nav", {}, dedupe_key="once")
    smtp_server.mailbox.failing = True
    first = await services.send_pending(settings, now=T0)
    assert (first.sent, first.failed) == (0, 1)
    [row] = await services.outbox()
    assert (row.attempts, row.sent_at) == (1, None)
    assert row.last_error == "SMTPDataError 451"
    assert row.next_attempt_at == T0 + dt.timedelta(minutes=1)
    # Not due yet: nothing is tried.
    assert await services.send_pending(settings, now=T0 + dt.timedelta(seconds=30)) == (
        services.SendResult(0, 0, 0)
    )
    # The server is down altogether: a connection error, the wait doubles.
    smtp_server.stop()
    second = await services.send_pending(settings, now=T0 + dt.timedelta(minutes=1))
    assert second.failed == 1
    [row] = await services.outbox()
    assert row.attempts == 2
    assert row.last_error == "ConnectionRefusedError"
    assert row.next_attempt_at == T0 + dt.timedelta(minutes=3)
    # Back up and working.
    smtp_server.mailbox.failing = False
    smtp_server.start()
    third = await services.send_pending(settings, now=T0 + dt.timedelta(minutes=3))
    assert third.sent == 1
    assert len(smtp_server.mailbox.messages) == 1
    [row] = await services.outbox()
    assert row.sent_at == T0 + dt.timedelta(minutes=3)
    assert row.last_error is None


async def test_backoff_doubles_and_is_capped() -> None:
    waits = [services.backoff(n) for n in range(1, 12)]
    assert waits[:4] == [dt.timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert max(waits) == services.BACKOFF_MAX


async def test_a_mail_that_never_goes_through_is_given_up(
    tipline_db: Settings,
    smtp_server: SmtpServer,  # noqa: F811
    settings: Settings,
) -> None:
    officer = await _account(Role.officer, "officer@county.example")
    await services.notify([officer], "deadline", "notifications.nav", {})
    smtp_server.mailbox.failing = True
    moment = T0
    for _ in range(services.MAX_ATTEMPTS):
        await services.send_pending(settings, now=moment)
        moment += services.BACKOFF_MAX
    [row] = await services.outbox()
    assert row.attempts == services.MAX_ATTEMPTS
    assert row.failed_at is not None
    assert (await services.send_pending(settings, now=moment)).failed == 0


async def test_a_signed_checkpoint_is_mailed_to_every_inspector_with_an_address(
    tipline_db: Settings,
    smtp_server: SmtpServer,  # noqa: F811
    settings: Settings,
) -> None:
    await _account(Role.inspector, "inspector@county.example")
    await _account(Role.inspector, None)
    await _account(Role.officer, "officer@county.example")
    await append_event(SYSTEM, "test.event", "test", 1, {})
    checkpoint = await checkpoints.sign_checkpoint(settings, force=True)
    assert checkpoint is not None
    await services.send_pending(settings)
    [message] = smtp_server.mailbox.messages
    assert message["To"] == "inspector@county.example"
    assert checkpoint.text.strip() in message.get_payload(decode=True).decode()
    assert str(checkpoint.size) in message["Subject"]


async def test_the_admin_sees_each_mail_and_its_delivery_state(
    client: AsyncTestClient[Litestar],
    smtp_server: SmtpServer,  # noqa: F811
    settings: Settings,
) -> None:
    client.cookies.set("lang", "en")
    await sign_in(client, Role.admin)
    officer = await _account(Role.officer, "officer@county.example")
    await services.notify([officer], "deadline", "notifications.nav", {})
    smtp_server.mailbox.failing = True
    await services.send_pending(settings)
    page = await client.get("/admin/outbox")
    assert page.status_code == 200
    assert "officer@county.example" in page.text
    assert "SMTPDataError 451" in page.text
    assert "Waiting" in page.text
    [row] = (await client.get("/api/v1/admin/outbox")).json()
    assert (row["attempts"], row["sent_at"]) == (1, None)
    await sign_in(client, Role.officer)
    assert (await client.get("/admin/outbox")).status_code == 403


async def test_the_test_email_command_reaches_the_smtp_server(
    tipline_db: Settings,
    smtp_server: SmtpServer,  # noqa: F811
    settings: Settings,
) -> None:
    env = cli_env(settings) | {
        "TIPLINE_SMTP_HOST": settings.smtp_host,
        "TIPLINE_SMTP_PORT": str(settings.smtp_port),
        "TIPLINE_SMTP_USER": settings.smtp_user,
        "TIPLINE_SMTP_PASSWORD": settings.smtp_password,
        "TIPLINE_SMTP_FROM": settings.smtp_from,
        "TIPLINE_SMTP_STARTTLS": "0",
    }
    command = [sys.executable, "-m", "tipline", "notifications", "test-email", "me@county.example"]
    result = await asyncio.to_thread(
        subprocess.run, command, env=env, cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "1 sent, 0 failed" in result.stdout
    [message] = smtp_server.mailbox.messages
    assert message["To"] == "me@county.example"
    env["TIPLINE_SMTP_PASSWORD"] = "wrong"
    refused = await asyncio.to_thread(
        subprocess.run, command, env=env, cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert refused.returncode == 1
    assert "0 sent, 1 failed" in refused.stdout


async def test_a_reconciliation_alarm_reaches_every_inspector_once(
    tipline_db: Settings,
    smtp_server: SmtpServer,  # noqa: F811
    settings: Settings,
) -> None:
    from tipline.intake.reconcile import reconcile
    from tipline.intake.tables import TipCounter
    from tipline.ledger.services import TIPSTER

    inspector = await _account(Role.inspector, "inspector@county.example")
    officer = await _account(Role.officer, None)
    await TipCounter.insert(TipCounter(year=2026, last_seq=1))
    await append_event(TIPSTER, "tip.received", "tip", 1, {"ledger_no": "2026-000001"})
    await reconcile()
    await reconcile()
    box = await services.inbox(inspector, "en")
    assert [item.kind for item in box.items] == ["alarm"]
    assert box.items[0].text.startswith("Reconciliation alarm")
    assert box.items[0].link == "/ledger"
    assert (await services.inbox(officer, "en")).items == []
    await services.send_pending(settings)
    [message] = smtp_server.mailbox.messages
    assert message["To"] == "inspector@county.example"
