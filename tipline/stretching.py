"""Key stretching (argon2id: password hashes and officers' key-encryption keys) on a
few threads of its own, at low CPU priority.

Each derivation costs ~0.1–0.2 s of CPU and 64 MiB. A burst of officers signing in
at 9 a.m. must neither take the CPU the tip box needs (a tipster waiting on a
spinning page gives up) nor multiply the memory: so every derivation of the process
queues for ``settings.password_hash_concurrency`` threads (one by default), and those
threads run at nice :data:`NICE` — argon2's own lane threads inherit it — so the
scheduler serves the event loop first and the logins take what is left over.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

NICE = 10

_concurrency = 1
_executor: concurrent.futures.ThreadPoolExecutor | None = None
_lock = threading.Lock()


def _lower_priority() -> None:
    """Lower this thread's priority (Linux keeps a nice value per thread)."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)


def configure(concurrency: int) -> None:
    """Set how many derivations run at once (``settings.password_hash_concurrency``)."""
    global _concurrency, _executor
    with _lock:
        _concurrency = max(1, concurrency)
        old, _executor = _executor, None
    if old is not None:
        old.shutdown(wait=False)


def _pool() -> concurrent.futures.ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=_concurrency,
                thread_name_prefix="key-stretching",
                initializer=_lower_priority,
            )
        return _executor


async def run(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` on a key-stretching thread, awaited without blocking the loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_pool(), functools.partial(function, *args))
