"""Fault switches for the reliability tests, and only for them.

A crash test that never sees a loss proves nothing unless it is shown to see one when
there is one (a negative control). ``TIPLINE_FAULT_ACK_BEFORE_COMMIT=1`` makes the tip
box answer 201 with a receipt *before* the tip is committed (the commit follows a
moment later in the background, as a write-behind cache would): a server killed in
that moment has given receipts for tips that do not exist, and the crash test's
checker must report them lost.

A fault is refused unless ``TIPLINE_TESTING=1`` is set beside it, and the server says
so in its log at start: no production start can switch one on by a stray variable.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Coroutine, Mapping
from typing import Any, Final

from tipline.settings import SettingsError

log = logging.getLogger(__name__)

TESTING_VARIABLE: Final = "TIPLINE_TESTING"
ACK_BEFORE_COMMIT: Final = "TIPLINE_FAULT_ACK_BEFORE_COMMIT"
FAULT_VARIABLES: Final = frozenset({ACK_BEFORE_COMMIT})
# How long an acknowledged tip waits before it is committed under ACK_BEFORE_COMMIT.
ACK_BEFORE_COMMIT_DELAY_SECONDS: Final = 1.5
PENDING_LEDGER_NO: Final = "pending"

_background: set[asyncio.Task[Any]] = set()


def _on(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _active(environ: Mapping[str, str]) -> frozenset[str]:
    active = frozenset(name for name in FAULT_VARIABLES if _on(environ, name))
    if active and not _on(environ, TESTING_VARIABLE):
        raise SettingsError(
            f"{', '.join(sorted(active))}: a fault for the reliability tests; refused "
            f"unless {TESTING_VARIABLE}=1 is set too (never in production)"
        )
    return active


def check(environ: Mapping[str, str] | None = None) -> frozenset[str]:
    """The faults switched on, said in the log; :class:`SettingsError` if one is on
    without testing mode (called where every process opens its database)."""
    active = _active(os.environ if environ is None else environ)
    if active:
        log.warning("FAULT INJECTION ON (test-only): %s", ", ".join(sorted(active)))
    return active


def enabled(name: str) -> bool:
    """Whether fault ``name`` is on (read at each call: tests switch it per process)."""
    return name in _active(os.environ)


def later(work: Coroutine[Any, Any, Any], delay: float) -> None:
    """Run ``work`` after ``delay`` seconds in the background (the write-behind fault)."""

    async def delayed() -> None:
        await asyncio.sleep(delay)
        await work

    task = asyncio.get_running_loop().create_task(delayed())
    _background.add(task)
    task.add_done_callback(_background.discard)
