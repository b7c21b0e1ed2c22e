"""The scheduler (placeholder)."""

import contextlib
from collections.abc import AsyncIterator

from tipline.settings import Settings


@contextlib.asynccontextmanager
async def run_scheduler(settings: Settings) -> AsyncIterator[None]:
    yield
