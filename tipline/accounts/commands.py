"""``tipline account add|disable|enable|reset-password``: accounts from the command line.

Used to create the first administrator of a new installation and to recover access.
Passwords are read from a prompt or the first line of standard input, never argv.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tipline.auth import ALL_ROLES, ROLES_REQUIRING_TOTP, Role
from tipline.commandline import CommandError, read_secret, run_with_database
from tipline.errors import DomainError
from tipline.ledger.services import Actor
from tipline.settings import Settings
from tipline.web.i18n import translate

CLI_ACTOR = Actor("system")
VIA = "cli"


def _message(settings: Settings, error: DomainError) -> str:
    return translate(settings.default_locale, error.key, **error.values)


def _read_new_password(prompt: str) -> str:
    password = read_secret(prompt)
    if sys.stdin.isatty() and read_secret("Repeat the password: ") != password:
        raise CommandError("the two passwords differ")
    if not password:
        raise CommandError("no password given (type it at the prompt or pipe it on stdin)")
    return password


def _run(settings: Settings, work: Any) -> Any:
    try:
        return run_with_database(settings, work)
    except DomainError as error:
        raise CommandError(_message(settings, error)) from None


def _add(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.accounts import services

    role = Role(args.role)
    password = _read_new_password(f"Password for {args.username}: ")

    async def work() -> int:
        org_unit_id = await services.org_unit_id_by_code(args.org_unit)
        return await services.create_account(
            CLI_ACTOR,
            username=args.username,
            display_name=args.name,
            role=role,
            org_unit_id=org_unit_id,
            password=password,
            via=VIA,
        )

    account_id = _run(settings, work)
    print(f"account {args.username.strip().lower()} created (id {account_id}, role {role.value})")
    if role in ROLES_REQUIRING_TOTP:
        print("this role must enrol TOTP at its first sign-in (the browser shows a QR code)")
    return 0


def _disable(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.accounts import services

    async def work() -> None:
        await services.disable_account(
            CLI_ACTOR, await services.find_account_id(args.username), via=VIA
        )

    _run(settings, work)
    print(f"account {args.username} disabled; its sessions have ended")
    return 0


def _enable(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.accounts import services

    async def work() -> None:
        await services.enable_account(
            CLI_ACTOR, await services.find_account_id(args.username), via=VIA
        )

    _run(settings, work)
    print(f"account {args.username} enabled")
    return 0


def _reset_password(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.accounts import services

    password = _read_new_password(f"New password for {args.username}: ")

    async def work() -> None:
        account_id = await services.find_account_id(args.username)
        await services.reset_password(CLI_ACTOR, account_id, password, via=VIA)
        if args.reset_totp:
            await services.reset_totp(CLI_ACTOR, account_id, via=VIA)

    _run(settings, work)
    print(f"password of {args.username} reset; its sessions have ended")
    return 0


def register(commands: Any) -> None:
    """Add the ``account`` command and its sub-commands."""
    account = commands.add_parser("account", help="add, disable, enable accounts; reset passwords")
    actions = account.add_subparsers(dest="account_command", required=True, metavar="ACTION")

    add = actions.add_parser(
        "add",
        help="add an account (password from a prompt or the first line of stdin)",
        description="Add an account. The password is read from a prompt, or from the first "
        "line of standard input when piped; never give it as an argument.",
    )
    add.add_argument("username", help="3-64 characters: a-z, 0-9, dot, hyphen, underscore")
    add.add_argument(
        "--role", required=True, choices=[role.value for role in ALL_ROLES], help="the role"
    )
    add.add_argument(
        "--org-unit",
        required=True,
        metavar="CODE",
        help="code of the org unit: the county, or a township/farm for township_staff",
    )
    add.add_argument("--name", required=True, help="the person's name as shown in the service")
    add.set_defaults(handler=_add)

    disable = actions.add_parser("disable", help="disable an account and end its sessions")
    disable.add_argument("username")
    disable.set_defaults(handler=_disable)

    enable = actions.add_parser("enable", help="enable a disabled account")
    enable.add_argument("username")
    enable.set_defaults(handler=_enable)

    reset = actions.add_parser(
        "reset-password",
        help="set a new password (from a prompt or stdin) and end all sessions",
    )
    reset.add_argument("username")
    reset.add_argument(
        "--reset-totp",
        action="store_true",
        help="also forget the TOTP secret (lost phone): the account enrols again",
    )
    reset.set_defaults(handler=_reset_password)
