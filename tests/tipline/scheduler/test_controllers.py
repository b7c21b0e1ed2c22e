"""The admin scheduler page, through HTTP as an administrator uses it."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.client import TestClient
from tests.conftest import make_account, sign_in
from tipline.accounts import totp
from tipline.app import create_app
from tipline.scheduler.services import run_job
from tipline.settings import Settings
from tipline.workdays.tables import JobRun

Client = AsyncTestClient[Litestar]


async def test_the_scheduler_pages_are_for_admins_only(client: Client) -> None:
    await sign_in(client, "officer")
    assert (await client.get("/admin/scheduler")).status_code == 403
    assert (await client.get("/api/v1/admin/scheduler")).status_code == 403


async def test_the_scheduler_page_shows_each_run_of_the_heartbeat(admin_client: Client) -> None:
    await run_job("heartbeat")
    await run_job("heartbeat")
    row = await JobRun.select().where(JobRun.job_id == "heartbeat").first()
    assert row is not None
    local = row["last_run_at"].astimezone(dt.timezone(dt.timedelta(hours=8)))
    page = await admin_client.get("/admin/scheduler")
    assert page.status_code == 200
    assert "heartbeat" in page.text
    assert local.strftime("%Y-%m-%d %H:%M:%S") in page.text
    assert "本进程未启用定时任务" in page.text
    status = (await admin_client.get("/api/v1/admin/scheduler")).json()
    assert status["mode"] == "off" and status["enabled"] is False
    assert not status["heartbeat_stale"]
    beat = next(job for job in status["jobs"] if job["job_id"] == "heartbeat")
    assert beat["runs"] == 2 and beat["last_status"] == "ok"


async def _age_heartbeat() -> None:
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    await JobRun.update({JobRun.last_run_at: old}).where(JobRun.job_id == "heartbeat")


async def test_with_the_scheduler_on_this_process_leads_and_a_stale_heartbeat_is_warned(
    app: Litestar, settings: Settings
) -> None:
    running = create_app(dataclasses.replace(settings, scheduler=True))
    account = await make_account("admin")
    async with TestClient(running) as admin:
        login = await admin.post(
            "/api/v1/auth/login",
            json={
                "username": account["username"],
                "password": account["password"],
                "totp": totp.code_at_step(account["totp_secret"], totp.current_step()),
            },
        )
        assert login.status_code == 200, login.text
        for _ in range(100):
            status = (await admin.get("/api/v1/admin/scheduler")).json()
            if status["heartbeat_at"]:
                break
            await asyncio.sleep(0.1)
        assert status["mode"] == "leader" and not status["heartbeat_stale"]
        page = await admin.get("/admin/scheduler")
        assert "本进程正在执行定时任务" in page.text
        assert "心跳已超过 3 分钟未更新" not in page.text

        await _age_heartbeat()
        page = await admin.get("/admin/scheduler")
        assert "心跳已超过 3 分钟未更新" in page.text
