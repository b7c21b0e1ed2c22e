"""What every ``tipline`` sub-command shares: its error, its database, its secrets.

The base of the command line, below every ``<package>/commands.py``: a package's
commands import these from here, never from :mod:`tipline.cli`, which assembles them
(docs/ARCHITECTURE.md: the assembly imports the packages, not the other way round).
:mod:`tipline.cli` re-exports all three names.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from tipline.settings import Settings


class CommandError(Exception):
    """A command cannot do what was asked; the message says why (exit status 2)."""


def run_with_database(settings: Settings, work: Callable[[], Awaitable[Any]]) -> Any:
    """Bind the tables to the configured database and run ``work`` with a pool open."""
    from tipline import db

    async def runner() -> Any:
        db.bind(db.make_engine(settings))
        await db.open_pool()
        try:
            return await work()
        except Exception as error:
            if db.is_missing_table(error):
                raise CommandError(
                    "the database has no tipline tables yet: run `tipline migrate` first"
                ) from error
            raise
        finally:
            await db.close_pool()

    return asyncio.run(runner())


def read_secret(prompt: str) -> str:
    """A secret from a terminal prompt, or the first line of piped standard input."""
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(prompt)
    return sys.stdin.readline().rstrip("\n")
