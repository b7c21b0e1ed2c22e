"""Rate limits for the tipster routes that never learn or keep the tipster's address.

A client is known only by HMAC-SHA256 of its address under a random key that lives in
this process's memory and is replaced every day (UTC), which also forgets every
counter. Nothing here is written to the database, a file or a log, so the limits
leave no trace of who submitted (docs/ARCHITECTURE.md principle 2). Counters are per process: with
several workers the effective limit multiplies by their number.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import hmac
import secrets
import time
from typing import Any

from litestar import Litestar

STATE_KEY = "intake_rate_limits"


class SlidingWindow:
    """At most ``limit`` hits per ``seconds`` for each key (timestamps kept in memory)."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self._hits: dict[str, collections.deque[float]] = {}

    def _window(self, key: str, now: float) -> collections.deque[float]:
        hits = self._hits.setdefault(key, collections.deque())
        while hits and hits[0] <= now - self.seconds:
            hits.popleft()
        return hits

    def blocked(self, key: str) -> bool:
        """True when ``key`` has used up its hits in the window (does not count a hit)."""
        return len(self._window(key, time.monotonic())) >= self.limit

    def hit(self, key: str) -> bool:
        """Count one hit; False when the key was already at its limit (not counted then)."""
        now = time.monotonic()
        hits = self._window(key, now)
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        if len(self._hits) > 100_000:
            self._prune(now)
        return True

    def _prune(self, now: float) -> None:
        for key in list(self._hits):
            if not self._window(key, now):
                del self._hits[key]

    def clear(self) -> None:
        self._hits.clear()


class TipsterLimits:
    """The limits of the tip box: submissions and wrong receipts per client."""

    def __init__(self) -> None:
        self.submissions = SlidingWindow(limit=10, seconds=10 * 60)
        self.wrong_receipts = SlidingWindow(limit=5, seconds=15 * 60)
        self._day: dt.date | None = None
        self._key = b""

    def client_key(self, address: str | None) -> str:
        """A keyed hash of the address, under a key of today that exists only in memory."""
        today = dt.datetime.now(dt.UTC).date()
        if today != self._day:
            self._day = today
            self._key = secrets.token_bytes(32)
            self.submissions.clear()
            self.wrong_receipts.clear()
        return hmac.new(self._key, (address or "").encode(), hashlib.sha256).hexdigest()


def limits_for(app: Litestar) -> TipsterLimits:
    """The limits of one application (each test app starts with fresh counters)."""
    state: Any = app.state
    limits = state.get(STATE_KEY)
    if limits is None:
        limits = TipsterLimits()
        state[STATE_KEY] = limits
    return limits
