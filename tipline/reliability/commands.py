"""``tipline backup``, ``tipline restore`` and ``tipline keys recover``."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from tipline.settings import Settings

CLI_LOCALE = "en"


def _message(error: Any) -> str:
    from tipline.web.i18n import translate

    return translate(CLI_LOCALE, error.key, **error.values)


def _escrow_key(path: str) -> Any:
    from tipline.commandline import CommandError
    from tipline.crypto import primitives

    try:
        return primitives.private_key_from_pem(Path(path).read_bytes())
    except OSError as error:
        raise CommandError(f"--escrow-key: {error.strerror}: {path}") from None
    except Exception:
        raise CommandError(f"--escrow-key: {path} is not an escrow private key (PEM)") from None


def _backup(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.commandline import CommandError, run_with_database
    from tipline.crypto.primitives import format_fingerprint
    from tipline.errors import DomainError
    from tipline.reliability import backup

    out = Path(args.out)
    if out.exists():
        raise CommandError(f"{out} exists: a backup is never written over a file")

    async def work() -> backup.BackupInfo:
        return await backup.make_backup(settings, out)

    try:
        info = run_with_database(settings, work)
    except DomainError as error:
        raise CommandError(_message(error)) from error
    print(f"backup written: {info.path} ({info.size} bytes, {info.database})")
    print(f"key files: {', '.join(info.files) or 'none'}")
    print(f"encrypted to the escrow key {format_fingerprint(info.escrow_fingerprint)}")
    print(f"signed by the backup key {format_fingerprint(info.signing_fingerprint)}")
    return 0


def _restore(settings: Settings, args: argparse.Namespace) -> int:
    from tipline import faults
    from tipline.commandline import CommandError
    from tipline.crypto.primitives import format_fingerprint
    from tipline.errors import DomainError
    from tipline.reliability import backup

    faults.check()
    key = _escrow_key(args.escrow_key)
    try:
        data = Path(args.file).read_bytes()
    except OSError as error:
        raise CommandError(f"{args.file}: {error.strerror}") from None
    try:
        info = asyncio.run(
            backup.restore_backup(settings, data, key, signing_public_key=args.signing_key)
        )
    except DomainError as error:
        raise CommandError(_message(error)) from error
    print(f"restored the {info.database} database of {info.created_at}")
    print(f"key files: {', '.join(info.files) or 'none'}")
    print(f"the backup was signed by {format_fingerprint(info.signing_fingerprint)}")
    print("now run: tipline migrate, then tipline ledger verify")
    return 0


def _recover(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.accounts.services import find_account_id
    from tipline.commandline import CommandError, run_with_database
    from tipline.errors import DomainError
    from tipline.ledger.services import Actor
    from tipline.reliability import recovery

    key = _escrow_key(args.escrow_key)

    async def work() -> recovery.RecoveryResult:
        officer_id = await find_account_id(args.officer)
        return await recovery.recover_for_officer(key, officer_id, actor=Actor("system"))

    try:
        result = run_with_database(settings, work)
    except DomainError as error:
        raise CommandError(_message(error)) from error
    print(
        f"re-sealed {result.resealed} tips to {args.officer} "
        f"({result.already_held} already held); each is a tip.access_granted event"
    )
    if result.not_opened:
        print(f"NOT opened by this escrow key: {', '.join(result.not_opened)}")
        return 1
    return 0


def register(commands: Any) -> None:
    """Add ``backup`` and ``restore``."""
    make = commands.add_parser(
        "backup",
        help="write a consistent online backup (database and key files), encrypted to the "
        "escrow key and signed",
    )
    make.add_argument("--out", required=True, metavar="FILE", help="the backup file to write")
    make.set_defaults(handler=_backup)
    restore = commands.add_parser(
        "restore",
        help="restore a backup into an EMPTY data dir and database (needs the escrow private key)",
    )
    restore.add_argument("file", metavar="FILE", help="the backup file")
    restore.add_argument(
        "--escrow-key", required=True, metavar="PEM", help="the escrow private key file"
    )
    restore.add_argument(
        "--signing-key",
        metavar="HEX",
        help="the backup signing public key to insist on (default: the one the file names)",
    )
    restore.set_defaults(handler=_restore)


def register_keys(sub: Any) -> None:
    """Add ``keys recover`` to the ``keys`` command."""
    recover = sub.add_parser(
        "recover",
        help="re-seal every tip to a newly designated officer with the escrow private key "
        "(each tip is a tip.access_granted custody event)",
    )
    recover.add_argument(
        "--escrow-key", required=True, metavar="FILE", help="the escrow private key (PEM)"
    )
    recover.add_argument("--officer", required=True, metavar="USERNAME", help="the new officer")
    recover.set_defaults(handler=_recover)
