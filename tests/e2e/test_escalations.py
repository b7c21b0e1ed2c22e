"""Deadlines in a real browser: a breached deadline reaches the inspector and the bureau
leader, the officer sees it but cannot dismiss it, the inspector resolves it with a reason.

A tip arrives through the tip API. Its stored due dates are moved three weeks back (as
if that time had passed), and the operator runs ``tipline duedates sweep``.
"""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import REPO_ROOT, LiveServer
from tests.e2e.test_cases import _submit_tip
from tests.e2e.test_intake import _officer_signs_in
from tests.e2e.test_login import Person, set_up_county
from tipline.web.i18n import translate

OFFICER = Person("officer-deadline", "Tz4-harbour-willow-61", "周承办")
INSPECTOR = Person("inspector-deadline", "Kp8-granite-orchard-35", "吴督查")
LEADER = Person("leader-deadline", "Vb2-lantern-meadow-94", "郑局长")

MOVE_BACK = """
import asyncio, datetime as dt, sys
from tipline import db
from tipline.settings import Settings
from tipline.duedates.tables import CaseDeadline
from tipline.intake.tables import Tip

async def main() -> None:
    db.bind(db.make_engine(Settings.from_env()))
    tip = await Tip.select(Tip.id).where(Tip.ledger_no == sys.argv[1]).first()
    today = dt.date.today()
    await CaseDeadline.update(
        {
            CaseDeadline.start_day: today - dt.timedelta(days=30),
            CaseDeadline.due_on: today - dt.timedelta(days=21),
        }
    ).where(CaseDeadline.tip == tip["id"])

asyncio.run(main())
"""


def _zh(key: str, **values: object) -> str:
    return translate("zh-CN", key, **values)


@pytest.fixture(scope="module")
def people(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("escalations")
    set_up_county(
        live_server, folder, ((OFFICER, "officer"), (INSPECTOR, "inspector"), (LEADER, "leader"))
    )


def _sign_out(page: Page) -> None:
    page.locator("form[action='/logout'] [type=submit]").click()
    page.wait_for_load_state()


def test_a_breached_deadline_is_escalated_and_only_the_inspector_resolves_it(
    page: Page, live_server: LiveServer, people: None
) -> None:
    marker = uuid.uuid4().hex[:12]
    ledger_no = _submit_tip(live_server, f"MARKER-{marker} 有人在集市强收摊位费")
    subprocess.run(
        [sys.executable, "-c", MOVE_BACK, ledger_no],
        env=live_server.env,
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        timeout=60,
    )
    swept = live_server.cli("duedates", "sweep").stdout
    assert f"{ledger_no}  transfer" in swept

    # The officer: warned in the inbox, sees the escalation, has no way to dismiss it.
    _officer_signs_in(page, OFFICER)
    assert page.locator("header .badge").count() == 1
    page.get_by_role("link", name=_zh("duedates.nav")).click()
    page.wait_for_url("**/escalations")
    row = page.locator("tr", has_text=ledger_no).filter(has_text=_zh("duedates.kind.transfer"))
    assert row.count() == 1
    assert page.locator("form[action$='/resolve']").count() == 0
    assert _zh("duedates.escalations.read_only") in page.inner_text("main")
    _sign_out(page)

    # The bureau leader was told.
    _officer_signs_in(page, LEADER)
    page.get_by_role("link", name=_zh("notifications.nav")).click()
    page.wait_for_url("**/inbox")
    told = _zh("duedates.notice.escalated.transfer", ledger_no=ledger_no, due_on="")
    assert told.split("：")[0] in page.inner_text("main")
    assert ledger_no in page.inner_text("main")
    assert f"MARKER-{marker}" not in page.content()
    _sign_out(page)

    # The inspector resolves the transfer escalation with a reason.
    _officer_signs_in(page, INSPECTOR)
    page.goto("/escalations")
    row = page.locator("tr", has_text=ledger_no).filter(has_text=_zh("duedates.kind.transfer"))
    row.locator("textarea[name=reason]").fill("已电话督促承办人，当日移送")
    row.get_by_role("button", name=_zh("duedates.escalations.resolve")).click()
    page.wait_for_url("**/escalations?done=1")
    assert _zh("duedates.escalations.resolved_done") in page.inner_text("main")
    still_open = page.locator("table").first
    assert (
        still_open.locator("tr", has_text=ledger_no)
        .filter(has_text=_zh("duedates.kind.transfer"))
        .count()
        == 0
    )
    assert "已电话督促承办人" in page.inner_text("main")
