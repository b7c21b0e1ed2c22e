"""The hotline's rules at the service level: which channels an officer enters, and how the
transcript's state follows the tipster's confirmations and corrections."""

from __future__ import annotations

import pytest

from tests.tipline.intake.support import open_tip_box
from tipline.auth import CurrentUser, Role
from tipline.hotline import services
from tipline.hotline.exceptions import NoTranscript, UnknownChannel
from tipline.intake import services as intake
from tipline.intake.schemas import TipInput
from tipline.intake.tables import Tip
from tipline.ledger.tables import CustodyEvent
from tipline.settings import Settings

TIP = TipInput(category="usury", content="MARKER-SVC 来信反映套路贷")


def _officer(account: dict[str, object]) -> CurrentUser:
    return CurrentUser(
        account_id=int(str(account["id"])),
        username=str(account["username"]),
        display_name="Test officer",
        role=Role.officer,
        org_unit_id=int(str(account["org_unit_id"])),
        org_unit_name="测试县",
        session_id=1,
        totp_enrolled=True,
    )


async def test_only_phone_letter_and_visit_are_entered(
    tipline_db: Settings, settings: Settings
) -> None:
    box = await open_tip_box(settings)
    officer = _officer(box["officer"])
    for channel in ("web", "", "email"):
        with pytest.raises(UnknownChannel):
            await services.enter_tip(settings, officer, channel, TIP)
    assert await Tip.count() == 0
    assert await CustodyEvent.count().where(CustodyEvent.action == "tip.received") == 0
    for number, channel in enumerate(("phone", "letter", "visit"), start=1):
        entered = await services.enter_tip(settings, officer, channel, TIP)
        assert entered.ledger_no.endswith(f"-{number:06d}") and len(entered.receipt) == 24
        state = await services.transcript_state(entered.tip_id)
        assert state is not None and state.channel == channel and state.status == "awaiting"
        assert state.entered_by == "Test officer"


async def test_the_state_follows_the_tipsters_latest_action(
    tipline_db: Settings, settings: Settings
) -> None:
    box = await open_tip_box(settings)
    entered = await services.enter_tip(settings, _officer(box["officer"]), "letter", TIP)
    token = await intake.open_tipster_session(settings, entered.receipt)

    assert (await services.confirm_transcript(token)).status == "confirmed"
    again = await services.confirm_transcript(token)
    assert again.status == "confirmed" and again.entered_by is None  # not told to the tipster
    fixed = await services.correct_transcript(settings, token, "金额是五万，不是三万")
    assert fixed.status == "corrected" and len(fixed.corrections) == 1
    second = await services.correct_transcript(settings, token, "还有一个同伙")
    assert second.status == "corrected" and len(second.corrections) == 2
    final = await services.confirm_transcript(token)
    assert final.status == "confirmed" and len(final.corrections) == 2

    actions = [
        row["action"]
        for row in await CustodyEvent.select(CustodyEvent.action).order_by(CustodyEvent.seq)
        if row["action"].startswith("tip.transcript")
    ]
    assert actions == [
        "tip.transcript_confirmed",
        "tip.transcript_corrected",
        "tip.transcript_corrected",
        "tip.transcript_confirmed",
    ]
    view = await services.tipster_transcript(token)
    assert [item.text for item in view.corrections] == ["金额是五万，不是三万", "还有一个同伙"]
    assert view.fields.content == TIP.content


async def test_a_web_tip_has_no_transcript_state(tipline_db: Settings, settings: Settings) -> None:
    await open_tip_box(settings)
    submitted = await intake.submit_tip(settings, TIP)
    assert await services.transcript_state(submitted.tip_id) is None
    assert await services.transcript_state_for(submitted.ledger_no) is None
    assert await services.transcript_state_for("2020-000404") is None
    token = await intake.open_tipster_session(settings, submitted.receipt)
    with pytest.raises(NoTranscript):
        await services.confirm_transcript(token)
    with pytest.raises(NoTranscript):
        await services.correct_transcript(settings, token, "x")
    with pytest.raises(NoTranscript):
        await services.officer_transcript_state(submitted.ledger_no)
