"""``tipline duedates sweep``: run the deadline sweep once, now (the scheduler does it every
5 minutes; this is for an operator who runs without the scheduler, or wants to see it)."""

from __future__ import annotations

import argparse
from typing import Any

from tipline.settings import Settings


def _sweep(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.commandline import run_with_database
    from tipline.duedates import services
    from tipline.notifications import services as notifications

    notifications.install(settings)

    async def work() -> Any:
        result = await services.sweep()
        escalations = await services.open_escalations()
        return result, escalations

    result, escalations = run_with_database(settings, work)
    print(
        f"{result.met} met from the ledger, {result.warnings} warnings, "
        f"{result.escalations} new escalations; {len(escalations)} open escalations"
    )
    for item in escalations:
        print(f"  {item.ledger_no}  {item.kind}  due {item.due_on.isoformat()}")
    return 0


def register(commands: Any) -> None:
    """Add ``duedates sweep``."""
    duedates = commands.add_parser("duedates", help="case deadlines: run the sweep")
    sub = duedates.add_subparsers(dest="duedates_command", required=True, metavar="COMMAND")
    sweep = sub.add_parser(
        "sweep", help="warn and escalate now (idempotent: nothing is sent twice)"
    )
    sweep.set_defaults(handler=_sweep)
