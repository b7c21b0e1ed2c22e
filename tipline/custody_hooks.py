"""The hooks that hear of a tip's transitions (its statuses: :mod:`tipline.tipstatus`).

Below both halves of the service: the tip box and the hotline (``intake``) announce a
tip stored as ``received`` here, the case pages (``cases.lifecycle``) run every other
transition and call the same hooks, and other packages (due dates, notifications)
register a :data:`TransitionHook` with :func:`on_transition`. Hooks run inside the
transaction of the transition, so a due date is stored together with the event that
set it. Imports no domain package (only ``ledger`` for :class:`Actor`, and
:mod:`tipline.tipstatus`); :mod:`tipline.cases.lifecycle` re-exports everything here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import msgspec

from tipline.ledger.services import Actor
from tipline.tipstatus import Action, Status


class TransitionDone(msgspec.Struct, frozen=True):
    """What a hook learns about a transition that is being committed."""

    tip_id: int
    ledger_no: str
    action: Action
    source: Status
    target: Status
    actor: Actor
    at: dt.datetime
    details: Mapping[str, Any]


TransitionHook = Callable[[TransitionDone], Awaitable[None]]
_HOOKS: list[TransitionHook] = []


def on_transition(hook: TransitionHook) -> TransitionHook:
    """Run ``hook`` inside the transaction of every transition (idempotent registration)."""
    if hook not in _HOOKS:
        _HOOKS.append(hook)
    return hook


async def run_hooks(done: TransitionDone) -> None:
    """Run every registered hook on ``done``, in registration order."""
    for hook in _HOOKS:
        await hook(done)


async def announce_received(tip_id: int, ledger_no: str, at: dt.datetime, actor: Actor) -> None:
    """Tell the hooks a tip has just been stored as ``received`` (its ``tip.received``
    event is written by the caller in the same transaction), so that due dates
    counted from receipt are stored with it."""
    done = TransitionDone(
        tip_id=tip_id,
        ledger_no=ledger_no,
        action=Action.receive,
        source=Status.received,
        target=Status.received,
        actor=actor,
        at=at,
        details={},
    )
    await run_hooks(done)
