"""``tipline authorities ...``: what a competent authority runs on its own computer.

``add`` registers an authority (as the admin page does), for scripted set-up.
``keygen`` makes the authority's X25519 key pair (the private key stays with the
authority; the administrator registers the public key); ``open-package`` opens a
sealed transfer package with that private key. Neither needs the database.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from tipline.settings import Settings

CLI_LOCALE = "en"


def _keygen(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.authorities.package import make_key_pair
    from tipline.commandline import CommandError
    from tipline.crypto.primitives import fingerprint, format_fingerprint

    path = Path(args.out)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CommandError(f"{path} exists: choose another file") from None
    pem, public_hex = make_key_pair()
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    print(f"private key written to {path} (keep it; tipline never needs it)")
    print(f"public key (register it in /admin/authorities): {public_hex}")
    print(f"fingerprint: {format_fingerprint(fingerprint(bytes.fromhex(public_hex)))}")
    return 0


def _add(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.authorities.schemas import AuthorityIn, AuthorityKind
    from tipline.authorities.services import create_authority
    from tipline.commandline import CommandError, run_with_database
    from tipline.errors import DomainError
    from tipline.ledger.services import SYSTEM
    from tipline.web.i18n import translate

    data = AuthorityIn(
        name=args.name,
        kind=AuthorityKind(args.kind),
        contact_person=args.contact or "",
        phone=args.phone or "",
        address=args.address or "",
        public_key=args.public_key or "",
    )

    async def work() -> Any:
        return await create_authority(SYSTEM, data)

    try:
        made = run_with_database(settings, work)
    except DomainError as error:
        raise CommandError(translate(CLI_LOCALE, error.key, **error.values)) from None
    key = f", key {made.key_fingerprint}" if made.key_fingerprint else ", no key"
    print(f"authority {made.id} registered: {made.name} ({made.kind.value}{key})")
    return 0


def _open_package(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.authorities.package import load_private_key, open_package
    from tipline.commandline import CommandError
    from tipline.errors import DomainError
    from tipline.web.i18n import translate

    try:
        key_bytes = Path(args.key).read_bytes()
        blob = Path(args.package).read_bytes()
    except OSError as error:
        raise CommandError(f"{error.strerror}: {error.filename}") from None
    try:
        header, pdf = open_package(blob, load_private_key(key_bytes))
    except DomainError as error:
        raise CommandError(translate(CLI_LOCALE, error.key, **error.values)) from None
    if args.out == "-":
        sys.stdout.buffer.write(pdf)
        return 0
    package = Path(args.package)
    out = Path(args.out) if args.out else package.with_name(package.name.removesuffix(".sealed"))
    if out == package or out.suffix != ".pdf":
        out = package.with_suffix(".pdf")
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CommandError(f"{out} exists: choose another file with --out") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(pdf)
    print(
        f"opened: tip {header.ledger_no}, transfer document {header.document_no} "
        f"to {header.authority}, made {header.made_at}"
    )
    print(f"PDF written to {out}")
    return 0


def register(commands: Any) -> None:
    group = commands.add_parser(
        "authorities",
        help="competent authorities: register one, key pair, open a sealed transfer package",
    )
    sub = group.add_subparsers(dest="authorities_command", required=True, metavar="COMMAND")
    from tipline.authorities.schemas import AuthorityKind

    add = sub.add_parser("add", help="register a competent authority (as /admin/authorities)")
    add.add_argument("name")
    add.add_argument("--kind", required=True, choices=[kind.value for kind in AuthorityKind])
    add.add_argument("--contact", metavar="PERSON")
    add.add_argument("--phone")
    add.add_argument("--address")
    add.add_argument("--public-key", metavar="KEY", help="X25519: 64 hex digits or PEM")
    add.set_defaults(handler=_add)
    keygen = sub.add_parser(
        "keygen", help="make an authority's X25519 key pair (offline); prints the public key"
    )
    keygen.add_argument("--out", required=True, metavar="FILE", help="the private key file")
    keygen.set_defaults(handler=_keygen)
    opener = sub.add_parser(
        "open-package", help="open a sealed transfer package with the authority's private key"
    )
    opener.add_argument("--key", required=True, metavar="FILE", help="PEM or 64 hex digits")
    opener.add_argument("package", help="the .pdf.sealed file")
    opener.add_argument("--out", metavar="FILE", help="where to write the PDF (- for stdout)")
    opener.set_defaults(handler=_open_package)
