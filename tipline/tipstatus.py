"""A tip's statuses and the actions that move it between them.

The names only: which action is allowed from which status, and who may take it, is
:data:`tipline.cases.lifecycle.TRANSITIONS`. Below both halves of the tip side, so that
the tip box and the hotline (``intake``) store a tip as ``received`` and the case pages
(``cases``) run the rest; :mod:`tipline.cases.lifecycle` re-exports both enums.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Where a tip stands (``Tip.status``)."""

    received = "received"
    registered = "registered"
    under_assessment = "under_assessment"
    transferred = "transferred"
    feedback_received = "feedback_received"
    closed = "closed"
    merged = "merged"
    voided = "voided"


class Action(StrEnum):
    """What an officer (or, for feedback, a competent authority) does to a tip.

    ``receive`` is not applied by :func:`tipline.cases.lifecycle.apply_transition`:
    the tip box and the hotline store a tip as ``received`` and call
    :func:`announce_received`.
    """

    receive = "receive"
    register = "register"
    assess = "assess"
    transfer = "transfer"
    record_feedback = "record_feedback"
    close = "close"
    close_without_transfer = "close_without_transfer"
    merge = "merge"
    void = "void"
