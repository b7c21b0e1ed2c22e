"""Entering a tip taken by phone, letter or visit, and the tipster's check of its transcript.

Rules behind it:

* Every tip is registered at receipt, whatever its channel (纪检监察机关处理检举控告工作规则
  Art. 14: 逐件登记; 监督执纪工作规则 Art. 23): an officer's entry goes through the tip
  box's own :func:`tipline.intake.services.submit_tip`, so it is sealed, numbered and
  recorded exactly like a web tip, and its ``tip.received`` event is signed by the
  officer who entered it.
* A report taken by phone or in a meeting is kept as a complete and accurate transcript
  that the reporter can check, rectify and agree (EU Directive 2019/1937 Art. 18(2)–(4)).
  The caller signs in to the mailbox with the receipt the officer read out, reads the
  transcript, and either confirms it (``tip.transcript_confirmed``) or sends a
  correction (``tip.transcript_corrected``, a tipster message). The transcript itself is
  never rewritten (nothing is deleted): a correction stands beside it.

The state of a transcript is read from the custody events, so it needs no table of its
own and cannot disagree with the ledger.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any, Final

from tipline import db
from tipline.accounts.tables import Account
from tipline.auth import CurrentUser
from tipline.hotline.exceptions import NoTranscript, TipNotFound, UnknownChannel
from tipline.hotline.schemas import (
    CHANNELS,
    Correction,
    CorrectionText,
    TranscriptState,
    TranscriptStatus,
    TranscriptView,
)
from tipline.intake import services as intake
from tipline.intake.forms import UploadedFile
from tipline.intake.schemas import SubmittedTip, TipInput
from tipline.intake.tables import Tip, TipMessage
from tipline.ledger.services import TIPSTER, Actor, append_event, events_for
from tipline.settings import Settings

CONFIRMED: Final = "tip.transcript_confirmed"
CORRECTED: Final = "tip.transcript_corrected"


async def enter_tip(
    settings: Settings,
    user: CurrentUser,
    channel: str,
    data: TipInput,
    files: Sequence[UploadedFile] = (),
) -> SubmittedTip:
    """Seal and number a tip an officer took down; returns its receipt (shown once).

    ``data.content`` is the officer's transcript. Scanned letters in ``files`` are
    cleaned like web uploads. Bad input raises before anything is written.
    """
    if channel not in CHANNELS:
        raise UnknownChannel()
    return await intake.submit_tip(
        settings, data, files, channel=channel, actor=Actor.account(user.account_id)
    )


async def _tip(tip_id: int) -> dict[str, Any]:
    row = (
        await Tip.select(Tip.id, Tip.ledger_no, Tip.channel, Tip.content)
        .where(Tip.id == tip_id)
        .first()
    )
    if row is None:
        raise TipNotFound()
    return row


async def _officer_name(account_id: str | None) -> str | None:
    if account_id is None or not account_id.isdigit():
        return None
    row = await Account.select(Account.display_name).where(Account.id == int(account_id)).first()
    return None if row is None else str(row["display_name"])


def _payload(event: dict[str, Any]) -> dict[str, Any]:
    value = json.loads(event["payload"] or "{}")
    return value if isinstance(value, dict) else {}


async def transcript_state(tip_id: int, *, officer_side: bool = True) -> TranscriptState | None:
    """Whether the tipster confirmed or corrected the transcript; ``None`` for a web tip.

    Read from the tip's custody events (the tipster's latest action decides).
    """
    tip = await _tip(tip_id)
    if tip["channel"] not in CHANNELS:
        return None
    status: TranscriptStatus = "awaiting"
    confirmed_at = None
    entered_by = None
    corrected: list[tuple[str, str]] = []
    for event in await events_for("tip", tip_id):
        if event["action"] == "tip.received" and event["actor_type"] == "account":
            entered_by = event["actor_id"]
        elif event["action"] == CONFIRMED:
            status, confirmed_at = "confirmed", intake.hour_text(event["occurred_at"])
        elif event["action"] == CORRECTED:
            status = "corrected"
            uid = _payload(event).get("message")
            if isinstance(uid, str):
                corrected.append((uid, intake.hour_text(event["occurred_at"])))
    ids = {}
    if corrected:
        ids = {
            row["uid"]: int(row["id"])
            for row in await TipMessage.select(TipMessage.id, TipMessage.uid).where(
                (TipMessage.tip == tip_id) & TipMessage.uid.is_in([uid for uid, _ in corrected])
            )
        }
    return TranscriptState(
        ledger_no=tip["ledger_no"],
        channel=tip["channel"],
        status=status,
        entered_by=await _officer_name(entered_by) if officer_side else None,
        confirmed_at=confirmed_at,
        corrections=[Correction(message_id=ids[uid], at=at) for uid, at in corrected if uid in ids],
    )


async def transcript_state_for(ledger_no: str) -> TranscriptState | None:
    """For the officer's case page: the transcript's state, ``None`` for web tips and
    unknown numbers (the case page answers those itself). Metadata only, no decryption."""
    row = await Tip.select(Tip.id).where(Tip.ledger_no == ledger_no).first()
    if row is None:
        return None
    return await transcript_state(int(row["id"]))


async def officer_transcript_state(ledger_no: str) -> TranscriptState:
    """The same for the JSON API: 404 for unknown numbers and web tips."""
    row = await Tip.select(Tip.id).where(Tip.ledger_no == ledger_no).first()
    if row is None:
        raise TipNotFound()
    state = await transcript_state(int(row["id"]))
    if state is None:
        raise NoTranscript()
    return state


async def tipster_transcript(token: str | None) -> TranscriptView:
    """The officer's transcript decrypted with the tipster's own key, with its state and
    the corrections the tipster sent. Reading it writes nothing, like the mailbox."""
    access = await intake.tipster_access(token)
    content = await intake.open_tip_content(access.tip_id, access.private_key, "tipster")
    state = await transcript_state(access.tip_id, officer_side=False)
    if state is None:
        raise NoTranscript()
    ids = set(state.correction_ids)
    return TranscriptView(
        ledger_no=content.ledger_no,
        channel=content.channel,
        received_at=content.received_at,
        fields=content.fields,
        state=state,
        corrections=[
            CorrectionText(at=message.created_at, text=message.text)
            for message in content.messages
            if message.id in ids
        ],
    )


async def confirm_transcript(token: str | None) -> TranscriptState:
    """The tipster agrees the transcript is accurate: ``tip.transcript_confirmed``, by the
    tipster, to the hour, naming the hash of the sealed transcript agreed to.

    Confirming again while nothing changed since writes no second event.
    """
    access = await intake.tipster_access(token)
    async with db.write_transaction():
        tip = await _tip(access.tip_id)
        state = await transcript_state(access.tip_id, officer_side=False)
        if state is None:
            raise NoTranscript()
        if state.status == "confirmed":
            return state
        await append_event(
            TIPSTER,
            CONFIRMED,
            "tip",
            access.tip_id,
            {
                "ledger_no": tip["ledger_no"],
                "content_sha256": hashlib.sha256(bytes(tip["content"])).hexdigest(),
                "corrections": len(state.corrections),
            },
        )
    return await _state(access.tip_id)


async def _state(tip_id: int) -> TranscriptState:
    state = await transcript_state(tip_id, officer_side=False)
    if state is None:
        raise NoTranscript()
    return state


async def correct_transcript(settings: Settings, token: str | None, text: str) -> TranscriptState:
    """The tipster says what is wrong or missing: a tipster message sealed like any
    other, recorded as ``tip.transcript_corrected`` (no content in the event)."""
    access = await intake.tipster_access(token)
    await _state(access.tip_id)
    await intake.add_tipster_message(settings, token, text, event=CORRECTED)
    return await _state(access.tip_id)
