"""The test client: Litestar's ``AsyncTestClient``, with the app in the test's own event loop.

Litestar's client runs the app in a thread of its own with its own event loop, and its
async transport waits for each answer by blocking the test's loop. Two things follow:
a PostgreSQL pool the app opens in its lifespan belongs to that other loop, so tests
had to close it and every query opened a new connection (~40 % of a PostgreSQL test's
time), and requests a test sends at once are served one after another. This client
serves the app through httpx's ASGI transport in the loop the test runs in, and runs
the app's lifespan there too, so the pool is shared by the app and the test (as in a
running server) and concurrent requests are concurrent. Cookies, headers, the
``testclient`` address and user agent (which the trace scan looks for) are Litestar's.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

BASE_URL = "http://testserver.local"
CLIENT_ADDRESS = ("testclient", 50000)


class TestClient(AsyncTestClient[Litestar]):
    """A client of ``app`` in the current event loop; ``async with`` runs the lifespan."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, app: Litestar, base_url: str = BASE_URL, **kwargs: Any) -> None:
        super().__init__(app, base_url=base_url, **kwargs)
        self._transport = httpx.ASGITransport(app=app, client=CLIENT_ADDRESS)
        self._lifespan: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def _run_lifespan(self, started: asyncio.Future[None]) -> None:
        """Startup, wait, shutdown: in one task, since the lifespan's cancel scopes must
        be left in the task that entered them (a fixture's setup and teardown are not)."""
        try:
            async with self.app.lifespan():
                started.set_result(None)
                await self._stop.wait()
        except BaseException as error:
            if not started.done():
                started.set_exception(error)
                return
            raise

    async def __aenter__(self) -> TestClient:
        started: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._stop.clear()
        self._lifespan = asyncio.get_running_loop().create_task(self._run_lifespan(started))
        await started
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None = None,
        error: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        lifespan, self._lifespan = self._lifespan, None
        if lifespan is not None:
            self._stop.set()
            await lifespan
