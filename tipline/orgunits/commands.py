"""``tipline orgunits import|export``: the county's unit list from and to a spreadsheet."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tipline.settings import Settings


def _describe(error: Exception, locale: str) -> str:
    """A refusal in the service's default language, with one line per problem row."""
    from tipline.errors import DomainError
    from tipline.orgunits.exceptions import ImportRejected
    from tipline.web.i18n import translate

    if not isinstance(error, DomainError):
        return str(error)
    message = translate(locale, error.key, **error.values)
    if isinstance(error, ImportRejected):
        lines = [message]
        for problem in error.problems:
            where = translate(
                locale, "orgunits.problem.where", row=problem.row, column=problem.column
            )
            reason = translate(locale, problem.reason, **problem.values)
            lines.append(f"  {where}: {reason}")
        return "\n".join(lines)
    return message


def _import(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.commandline import CommandError, run_with_database
    from tipline.errors import DomainError
    from tipline.ledger.services import SYSTEM
    from tipline.orgunits import services
    from tipline.orgunits.files import MAX_FILE_BYTES, file_type

    path = Path(args.file)
    try:
        file_type(path.name)
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        if path.stat().st_size > MAX_FILE_BYTES:
            from tipline.orgunits.exceptions import FileTooLarge

            raise FileTooLarge(max_mb=MAX_FILE_BYTES // (1024 * 1024))
        data = path.read_bytes()

        async def work() -> Any:
            return await services.import_file(SYSTEM, path.name, data, source="cli")

        result = run_with_database(settings, work)
    except DomainError as error:
        raise CommandError(_describe(error, settings.default_locale)) from error
    print(f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged")
    return 0


def _export(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.commandline import CommandError, run_with_database
    from tipline.errors import DomainError
    from tipline.orgunits import services
    from tipline.orgunits.files import file_type

    path = Path(args.file)
    try:
        file_type(path.name)
    except DomainError as error:
        raise CommandError(_describe(error, settings.default_locale)) from error

    async def work() -> Any:
        return await services.export_rows()

    rows = run_with_database(settings, work)
    from tipline.orgunits.files import write_file

    path.write_bytes(write_file(path.name, rows))
    print(f"{len(rows)} org units written to {path}")
    return 0


def register(commands: Any) -> None:
    """Add ``orgunits import`` and ``orgunits export``."""
    orgunits = commands.add_parser("orgunits", help="org units: import or export the hierarchy")
    sub = orgunits.add_subparsers(dest="orgunits_command", required=True, metavar="COMMAND")
    importer = sub.add_parser(
        "import",
        help="import units from .xlsx or .csv (columns code, name, kind, parent_code); "
        "all rows are checked and nothing is written if any row is wrong",
    )
    importer.add_argument("file", metavar="FILE", help="an .xlsx or .csv file")
    importer.set_defaults(handler=_import)
    exporter = sub.add_parser(
        "export", help="write all units to .xlsx or .csv (by the extension), re-importable"
    )
    exporter.add_argument("file", metavar="FILE", help="the .xlsx or .csv file to write")
    exporter.set_defaults(handler=_export)
