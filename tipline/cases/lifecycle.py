"""The one state machine of a tip, from receipt to closing.

Rules and where they come from:

- 纪检监察机关处理检举控告工作规则 (2020) Art. 14: every tip is registered item by item
  in a ledger kept by designated officers; Art. 15–16: it is handed over (transferred)
  within 5 working days; no concealing, omitting or delaying (不得瞒报、漏报、迟报).
- 中国共产党纪律检查机关监督执纪工作规则 (2019) Art. 23: every hand-off is signed by the
  person who did it and registered for inspection. So every transition below is a
  custody event carrying its actor and reason, written in the same transaction as the
  status change, and nothing is ever deleted.
- Voiding a tip (spam or a test) and closing one that was never transferred are the two
  ways a tip could be quietly dropped (扣压、隐藏); both need a second designated
  officer's approval (:data:`NEEDS_SECOND_OFFICER`).

Other packages react to transitions (due dates, notifications) by registering a
:data:`TransitionHook` with :func:`on_transition`; hooks run inside the transaction
of the transition, so a due date is stored together with the event that set it.
The statuses and actions live in :mod:`tipline.tipstatus` and the hook registry in
:mod:`tipline.custody_hooks` (both below ``intake``, which stores a tip as ``received``
and announces it there); they are re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import msgspec

from tipline import db
from tipline.cases.exceptions import CaseNotFound, TransitionNotAllowed
from tipline.custody_hooks import (
    TransitionDone,
    TransitionHook,
    announce_received,
    on_transition,
    run_hooks,
)
from tipline.intake.tables import Tip
from tipline.ledger.services import Actor, append_event
from tipline.tipstatus import Action, Status

__all__ = [
    "FINAL",
    "NEEDS_SECOND_OFFICER",
    "OPEN",
    "TRANSITIONS",
    "Action",
    "ApprovalAction",
    "Status",
    "Transition",
    "TransitionDone",
    "TransitionHook",
    "allowed_actions",
    "announce_received",
    "apply_transition",
    "on_transition",
]


class ApprovalAction(StrEnum):
    """What needs a second designated officer's approval before it happens."""

    void = "void"
    close_without_transfer = "close_without_transfer"
    open_identity = "open_identity"
    export_content = "export_content"


OPEN = frozenset({Status.received, Status.registered, Status.under_assessment})
FINAL = frozenset({Status.closed, Status.merged, Status.voided})


class Transition(msgspec.Struct, frozen=True):
    """One allowed step: from any of ``sources`` to ``target``, recorded as ``event``."""

    sources: frozenset[Status]
    target: Status
    event: str


TRANSITIONS: Mapping[Action, Transition] = {
    Action.register: Transition(frozenset({Status.received}), Status.registered, "tip.registered"),
    Action.assess: Transition(
        frozenset({Status.registered}), Status.under_assessment, "tip.assessment_started"
    ),
    # A tip may go to a further authority after feedback (e.g. the discipline commission
    # after public security found a protective umbrella, 保护伞).
    Action.transfer: Transition(
        frozenset(
            {
                Status.registered,
                Status.under_assessment,
                Status.transferred,
                Status.feedback_received,
            }
        ),
        Status.transferred,
        "tip.transferred",
    ),
    Action.record_feedback: Transition(
        frozenset({Status.transferred, Status.feedback_received}),
        Status.feedback_received,
        "tip.feedback_recorded",
    ),
    Action.close: Transition(frozenset({Status.feedback_received}), Status.closed, "tip.closed"),
    Action.close_without_transfer: Transition(
        frozenset({Status.registered, Status.under_assessment}), Status.closed, "tip.closed"
    ),
    Action.merge: Transition(OPEN, Status.merged, "tip.merged"),
    Action.void: Transition(OPEN, Status.voided, "tip.voided"),
}

# Actions that only a second officer's approval may carry out (see ``ApprovalAction``).
NEEDS_SECOND_OFFICER = frozenset({Action.void, Action.close_without_transfer})


def allowed_actions(status: Status | str) -> list[Action]:
    """The actions a tip in ``status`` allows, in lifecycle order (for the case page)."""
    return [action for action, step in TRANSITIONS.items() if Status(status) in step.sources]


async def apply_transition(
    tip_id: int,
    action: Action,
    actor: Actor,
    reason: str,
    details: Mapping[str, Any] | None = None,
    *,
    approved: bool = False,
) -> TransitionDone:
    """Move a tip one step and record it as a custody event, atomically.

    Joins the caller's write transaction (a transfer stores its transfer row in the
    same one) or opens its own. The status is changed by a compare-and-set on the
    current status, so two officers acting at once cannot both succeed. ``details``
    must hold metadata only (it is kept forever in the ledger and shown to the
    inspector); ``reason`` is what the officer wrote. :class:`TransitionNotAllowed`
    when the tip is not in a source status of ``action`` or when the action needs a
    second officer's approval and ``approved`` is false.
    """
    step = TRANSITIONS[action]
    if action in NEEDS_SECOND_OFFICER and not approved:
        raise TransitionNotAllowed()
    async with db.write_transaction():
        tip = await Tip.select(Tip.id, Tip.ledger_no, Tip.status).where(Tip.id == tip_id).first()
        if tip is None:
            raise CaseNotFound()
        source = Status(tip["status"])
        if source not in step.sources:
            raise TransitionNotAllowed()
        changed = (
            await Tip.update({Tip.status: step.target.value})
            .where(Tip.id == tip_id, Tip.status == source.value)
            .returning(Tip.id)
        )
        if not changed:
            raise TransitionNotAllowed()
        body = dict(details or {})
        event = await append_event(
            actor,
            step.event,
            "tip",
            tip_id,
            {
                "ledger_no": tip["ledger_no"],
                "from": source.value,
                "to": step.target.value,
                "reason": reason,
                **body,
            },
        )
        done = TransitionDone(
            tip_id=tip_id,
            ledger_no=tip["ledger_no"],
            action=action,
            source=source,
            target=step.target,
            actor=actor,
            at=event["occurred_at"],
            details=body,
        )
        await run_hooks(done)
    return done
