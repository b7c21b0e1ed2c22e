"""The ``tipline`` command for operators.

Every command reads the same ``TIPLINE_*`` settings as the service. Each domain
package adds its own sub-commands in ``<package>/commands.py`` (a ``register``
function); this module assembles them and owns ``serve`` and ``migrate``. What the
commands share (:class:`CommandError`, :func:`run_with_database`, :func:`read_secret`)
lives in :mod:`tipline.commandline`, below them, and is re-exported here.
Secrets (passwords) are read from standard input or a prompt, never from argv,
where ``ps`` and the shell history would keep them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from tipline.commandline import CommandError, read_secret, run_with_database
from tipline.settings import Settings, SettingsError
from villageaffairs import legal

__all__ = [
    "CommandError",
    "build_parser",
    "main",
    "migrate_all",
    "read_secret",
    "run_with_database",
]

PICCOLO_CONF = "tipline.piccolo_conf"


async def migrate_all() -> list[str]:
    """Apply every pending migration of every Piccolo app; returns what it did."""
    os.environ.setdefault("PICCOLO_CONF", PICCOLO_CONF)
    from piccolo.apps.migrations.commands.forwards import run_forwards
    from piccolo.apps.migrations.tables import Migration

    from tipline import db, piccolo_conf

    # Piccolo's migration manager and its record of applied migrations find their engine
    # through piccolo_conf, which read the environment once at import: point both at the
    # database these settings bound, so a second migrate in one process cannot go astray.
    piccolo_conf.DB = db.engine()
    Migration._meta.db = db.engine()
    result = await run_forwards(app_name="all", migration_id="all")
    if not result.success:
        raise CommandError(f"migration failed: {result.message}")
    return [result.message or "done"]


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    workers = args.workers if args.workers is not None else (1 if settings.is_sqlite else 2)
    if workers < 1:
        raise CommandError("--workers must be at least 1")
    if settings.is_sqlite and workers > 1:
        # One process owns the SQLite writer queue and runs the scheduler; several
        # processes would fight over the file lock in the busy handler instead.
        raise CommandError(
            "--workers > 1 needs PostgreSQL (TIPLINE_DATABASE_URL): with SQLite one "
            "worker process queues every write itself; see docs/SCALING.md"
        )
    uvicorn.run(
        "tipline.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=workers,
        access_log=False,
        proxy_headers=False,
        server_header=False,
    )
    return 0


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    run_with_database(settings, migrate_all)
    print("migrations applied")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from tipline import demo
    from tipline.accounts import commands as accounts_commands
    from tipline.authorities import commands as authorities_commands
    from tipline.crypto import commands as crypto_commands
    from tipline.duedates import commands as duedates_commands
    from tipline.ledger import commands as ledger_commands
    from tipline.notifications import commands as notifications_commands
    from tipline.orgunits import commands as orgunits_commands
    from tipline.reliability import commands as reliability_commands

    parser = argparse.ArgumentParser(
        prog="tipline",
        description="Run and administer the tipline service. Settings come from TIPLINE_* "
        "environment variables (see the README).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the web application (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (PostgreSQL: default 2; SQLite: 1, more are refused)",
    )
    serve.set_defaults(handler=_serve)

    migrate = commands.add_parser("migrate", help="apply all database migrations")
    migrate.set_defaults(handler=_migrate)

    demo.register(commands)
    accounts_commands.register(commands)
    orgunits_commands.register(commands)
    ledger_commands.register(commands)
    keys = crypto_commands.register(commands)
    reliability_commands.register_keys(keys)
    reliability_commands.register(commands)
    authorities_commands.register(commands)
    duedates_commands.register(commands)
    notifications_commands.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        legal.configure(settings)
        return int(args.handler(settings, args) or 0)
    except (SettingsError, CommandError) as error:
        print(f"tipline: {error}", file=sys.stderr)
        return 2
