"""``tipline ledger ...``: checking the chain of custody from the command line."""

from __future__ import annotations

import argparse
from typing import Any

from tipline.settings import Settings


def _verify(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.cli import run_with_database
    from tipline.ledger.services import verify_chain

    result = run_with_database(settings, verify_chain)
    if result.ok:
        print(f"ledger ok: {result.events} events verified")
        return 0
    print(f"ledger BROKEN at event {result.first_bad_seq}: {result.reason}")
    return 1


def register(commands: Any) -> None:
    ledger = commands.add_parser("ledger", help="chain of custody: verify")
    sub = ledger.add_subparsers(dest="ledger_command", required=True, metavar="COMMAND")
    verify = sub.add_parser(
        "verify",
        help="recompute every hash and link; exit 1 naming the first bad sequence number",
    )
    verify.set_defaults(handler=_verify)
