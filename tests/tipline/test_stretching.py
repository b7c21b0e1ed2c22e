"""Key stretching runs a bounded number of derivations at once, at low CPU priority."""

from __future__ import annotations

import asyncio
import os
import threading
import time

from tipline import stretching


def _own_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


class Overlap:
    """A stand-in derivation that records how many ran at the same time."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self._guard = threading.Lock()

    def __call__(self) -> None:
        with self._guard:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.05)
        with self._guard:
            self.running -= 1


async def test_derivations_run_below_the_event_loops_priority() -> None:
    stretching.configure(1)
    assert await stretching.run(_own_nice) == max(_own_nice(), stretching.NICE)


async def test_a_burst_runs_one_at_a_time_by_default() -> None:
    stretching.configure(1)
    overlap = Overlap()
    await asyncio.gather(*(stretching.run(overlap) for _ in range(5)))
    assert overlap.most == 1


async def test_the_configured_number_run_at_once() -> None:
    stretching.configure(2)
    overlap = Overlap()
    await asyncio.gather(*(stretching.run(overlap) for _ in range(6)))
    stretching.configure(1)
    assert overlap.most == 2
