"""``tipline ledger ...``: checking the chain of custody, its checkpoints and proofs.

``check-proof``, ``witness-key`` and ``witness-sign`` need no database: a competent
authority or an inspector runs them on their own computer.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any

import msgspec

from tipline.settings import Settings

CLI_LOCALE = "en"


def _read_text(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    return Path(name).read_text(encoding="utf-8")


def _vkey_arg(value: str | None) -> Any:
    """A verifier key given inline (name+id+key) or as a file holding one."""
    from tipline.commandline import CommandError
    from tipline.ledger import notes

    if value is None:
        return None
    text = value
    if "+" not in value and Path(value).is_file():
        text = Path(value).read_text(encoding="utf-8").strip()
    try:
        return notes.parse_vkey(text)
    except notes.NoteError as error:
        raise CommandError(f"--pubkey: {error}") from None


def _domain(error: Exception) -> Exception:
    from tipline.commandline import CommandError
    from tipline.errors import DomainError
    from tipline.web.i18n import translate

    if isinstance(error, DomainError):
        return CommandError(translate(CLI_LOCALE, error.key, **error.values))
    return error


def _verify(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.commandline import CommandError, run_with_database
    from tipline.ledger.checkpoints import KEY_FILE, log_verifier
    from tipline.ledger.services import verify_chain

    verifier = _vkey_arg(args.pubkey)
    if verifier is None and (settings.data_dir / KEY_FILE).exists():
        verifier = log_verifier(settings)
    try:
        external = [_read_text(name) for name in args.checkpoint or []]
    except OSError as error:
        raise CommandError(f"--checkpoint: {error.strerror}: {error.filename}") from None

    async def work() -> Any:
        return await verify_chain(verifier, external)

    result = run_with_database(settings, work)
    if result.ok:
        signed = "signatures checked" if verifier else "NO key: signatures not checked"
        print(
            f"ledger ok: {result.events} events verified, "
            f"{result.checkpoints} checkpoints ({signed}), root {result.root}"
        )
        return 0
    print(f"ledger BROKEN at event {result.first_bad_seq}: {result.reason}")
    return 1


def _pubkey(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.ledger.checkpoints import log_verifier

    print(log_verifier(settings).vkey)
    return 0


def _checkpoint(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.commandline import run_with_database
    from tipline.ledger.checkpoints import drop_dir, latest_checkpoint, sign_checkpoint

    async def work() -> Any:
        made = await sign_checkpoint(settings, force=True)
        return made, await latest_checkpoint()

    made, latest = run_with_database(settings, work)
    if made is None and latest is None:
        print("the ledger is empty: no checkpoint signed")
        return 0
    if made is None:
        print(f"no new events since checkpoint {latest.size}")
    else:
        print(f"signed checkpoint {made.size}, copied to {drop_dir(settings)}/{made.size}.txt")
    print((made or latest).text, end="")
    return 0


def _prove(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.commandline import run_with_database
    from tipline.ledger.checkpoints import proof_bundle

    async def work() -> Any:
        return await proof_bundle(args.seq)

    try:
        bundle = run_with_database(settings, work)
    except Exception as error:
        raise _domain(error) from None
    text = json.dumps(msgspec.to_builtins(bundle), indent=2, ensure_ascii=False)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        print(f"proof of event {args.seq} written to {args.out}")
    else:
        print(text)
    return 0


def _check_proof(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.commandline import CommandError
    from tipline.ledger.checkpoints import ProofBundle, check_bundle

    try:
        bundle = msgspec.json.decode(_read_text(args.file).encode(), type=ProofBundle)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as error:
        raise CommandError(f"{args.file}: not a proof bundle ({error})") from None
    result = check_bundle(bundle, _vkey_arg(args.pubkey))
    if not result.ok:
        print(f"proof does NOT verify: {result.reason}")
        return 1
    print(
        f"proof ok: event {result.seq} is leaf {bundle.leaf_index} of the {result.tree_size}-event "
        f"ledger {result.origin}"
    )
    if not result.signature_checked:
        print("the checkpoint's signature was NOT checked: pass --pubkey with the log's key")
    return 0


def _witness_key(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.commandline import CommandError
    from tipline.ledger import notes

    path = Path(args.out)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CommandError(f"{path} exists: choose another file") from None
    seed = secrets.token_bytes(32)
    with os.fdopen(fd, "w") as handle:
        handle.write(seed.hex() + "\n")
    try:
        verifier = notes.Signer.from_seed(args.name, seed).verifier
    except notes.NoteError as error:
        path.unlink()
        raise CommandError(str(error)) from None
    print(f"witness key written to {path}; register its public key on the server with:")
    print(f"  tipline ledger witness-add {args.name} {verifier.vkey}")
    return 0


def _witness_add(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.commandline import run_with_database
    from tipline.ledger.checkpoints import add_witness

    async def work() -> Any:
        return await add_witness(args.name, args.vkey)

    try:
        verifier = run_with_database(settings, work)
    except Exception as error:
        raise _domain(error) from None
    print(f"witness {verifier.name} registered (key id {verifier.key_id.hex()})")
    return 0


def _witness_sign(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.commandline import CommandError
    from tipline.ledger.checkpoints import witness_sign

    try:
        print(witness_sign(Path(args.key), args.name, _read_text(args.checkpoint)), end="")
    except OSError as error:
        raise CommandError(f"{error.strerror}: {error.filename}") from None
    except ValueError as error:
        raise CommandError(str(error)) from None
    return 0


def register(commands: Any) -> None:
    ledger = commands.add_parser(
        "ledger", help="chain of custody: verify, checkpoints, proofs, witnesses"
    )
    sub = ledger.add_subparsers(dest="ledger_command", required=True, metavar="COMMAND")
    verify = sub.add_parser(
        "verify",
        help="recompute every hash, leaf and root, check every checkpoint; "
        "exit 1 naming the first bad sequence number",
    )
    verify.add_argument(
        "--checkpoint",
        action="append",
        metavar="FILE",
        help="a checkpoint kept outside the server (repeatable)",
    )
    verify.add_argument(
        "--pubkey", metavar="KEY", help="the log's verifier key (default: the key file's)"
    )
    verify.set_defaults(handler=_verify)
    sub.add_parser("pubkey", help="print the checkpoint signing key's verifier key").set_defaults(
        handler=_pubkey
    )
    sub.add_parser(
        "checkpoint", help="sign a checkpoint now (if there are new events) and print it"
    ).set_defaults(handler=_checkpoint)
    prove = sub.add_parser("prove", help="print an event's inclusion proof bundle (JSON)")
    prove.add_argument("seq", type=int)
    prove.add_argument("--out", metavar="FILE")
    prove.set_defaults(handler=_prove)
    check = sub.add_parser(
        "check-proof", help="check a proof bundle offline (no database); exit 1 if it fails"
    )
    check.add_argument("file", help="the bundle from `tipline ledger prove` (- for stdin)")
    check.add_argument("--pubkey", metavar="KEY", help="the log's verifier key, or a file")
    check.set_defaults(handler=_check_proof)
    key = sub.add_parser("witness-key", help="make a witness's Ed25519 key file (offline)")
    key.add_argument("name", help="the witness's key name, e.g. inspector-wang")
    key.add_argument("--out", required=True, metavar="FILE")
    key.set_defaults(handler=_witness_key)
    add = sub.add_parser("witness-add", help="register a witness's verifier key")
    add.add_argument("name")
    add.add_argument("vkey")
    add.set_defaults(handler=_witness_add)
    sign = sub.add_parser(
        "witness-sign", help="print a witness's signature line over a checkpoint (offline)"
    )
    sign.add_argument("checkpoint", help="the checkpoint text file (- for stdin)")
    sign.add_argument("--key", required=True, metavar="FILE")
    sign.add_argument("--name", required=True)
    sign.set_defaults(handler=_witness_sign)
