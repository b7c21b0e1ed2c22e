"""``tipline keys escrow-init|status``: the offline escrow key and the state of the keys."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tipline.settings import Settings

# Operators read the command line in English, like the other commands' output.
CLI_LOCALE = "en"

ESCROW_INSTRUCTIONS = """\
The escrow private key was written to:
    {path}
Fingerprint (compare it with `tipline keys status`):
    {fingerprint}

Every tip is also sealed to this key, so that no tip is lost when an officer leaves
or forgets a password. The server keeps only the public key. Now:
  1. print the file, and write the fingerprint on the printout;
  2. store the printout (and, if you like, a copy on a USB stick) offline, sealed,
     in the county's safe, under the confidentiality rules;
  3. delete the file from this computer (for example: shred -u {path}).
Whoever holds this key can open every tip. Nobody can make it again if it is lost.
"""

DEMO_INSTRUCTIONS = """\
A DEMO escrow key was written to {path}
Fingerprint: {fingerprint}
It stays in the data dir so the demo works; never use a demo key for real tips.
"""


def _escrow_init(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.commandline import CommandError, run_with_database
    from tipline.crypto import primitives, services
    from tipline.errors import DomainError
    from tipline.web.i18n import translate

    if args.demo:
        path = settings.data_dir / services.DEMO_ESCROW_FILE
    elif args.out:
        path = Path(args.out)
    else:
        raise CommandError("say where to write the private key: --out FILE (or --demo)")

    async def work() -> Any:
        return await services.init_escrow_key(path, demo=args.demo, replace=args.replace, via="cli")

    try:
        result = run_with_database(settings, work)
    except DomainError as error:
        raise CommandError(translate(CLI_LOCALE, error.key, **error.values)) from error
    template = DEMO_INSTRUCTIONS if result.is_demo else ESCROW_INSTRUCTIONS
    if result.replaced_fingerprint:
        print(
            "Replaced the escrow key "
            f"{primitives.format_fingerprint(result.replaced_fingerprint)}. Tips sealed "
            "before now still need the OLD private key: keep it."
        )
    print(
        template.format(
            path=result.path, fingerprint=primitives.format_fingerprint(result.fingerprint)
        )
    )
    return 0


def _status(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.commandline import run_with_database
    from tipline.crypto import primitives, services

    status = run_with_database(settings, services.key_status)
    if status.escrow_fingerprint is None:
        print("escrow key: none (run `tipline keys escrow-init --out FILE`)")
    else:
        demo = " (DEMO)" if status.escrow_is_demo else ""
        print(f"escrow key: {primitives.format_fingerprint(status.escrow_fingerprint)}{demo}")
    print(f"officer keys: {status.officer_keys}")
    closed = "not open (it needs an escrow key and at least one officer key)"
    print(f"tip box: {'open' if status.tip_box_open else closed}")
    return 0


def register(commands: Any) -> Any:
    """Add ``keys escrow-init`` and ``keys status``; the answer is the ``keys`` command's
    sub-commands, for :mod:`tipline.cli` to add ``keys recover`` (``tipline.reliability``)."""
    keys = commands.add_parser("keys", help="encryption keys: the escrow key, key status")
    sub = keys.add_subparsers(dest="keys_command", required=True, metavar="COMMAND")
    escrow = sub.add_parser(
        "escrow-init",
        help="make the offline escrow key pair: the private key is written once to FILE "
        "for printing and safekeeping, only the public key is stored",
    )
    escrow.add_argument("--out", metavar="FILE", help="where to write the private key (PEM)")
    escrow.add_argument(
        "--replace",
        action="store_true",
        help="replace the existing escrow key (tips sealed before still need the old key)",
    )
    escrow.add_argument(
        "--demo",
        action="store_true",
        help="a demo key, written into the data dir as demo-escrow-key.pem",
    )
    escrow.set_defaults(handler=_escrow_init)
    status = sub.add_parser("status", help="show the escrow key fingerprint and officer keys")
    status.set_defaults(handler=_status)
    return sub
