"""``tipline notifications send|test-email``: the e-mail outbox from the command line."""

from __future__ import annotations

import argparse
from typing import Any

from tipline.settings import Settings


def _send(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.commandline import CommandError, run_with_database
    from tipline.notifications import services

    if not settings.smtp_configured:
        raise CommandError("SMTP is not configured: set TIPLINE_SMTP_HOST and TIPLINE_SMTP_FROM")

    async def work() -> Any:
        return await services.send_pending(settings)

    result = run_with_database(settings, work)
    print(f"{result.sent} sent, {result.failed} failed ({result.given_up} given up)")
    return 0 if result.failed == 0 else 1


def _test_email(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.commandline import CommandError, run_with_database
    from tipline.notifications import services
    from tipline.web.i18n import translate

    if not settings.smtp_configured:
        raise CommandError("SMTP is not configured: set TIPLINE_SMTP_HOST and TIPLINE_SMTP_FROM")
    locale = settings.default_locale

    async def work() -> Any:
        await services.queue_email(
            args.address,
            translate(locale, "notifications.test_email.subject"),
            translate(locale, "notifications.test_email.body"),
        )
        return await services.send_pending(settings)

    result = run_with_database(settings, work)
    print(f"{result.sent} sent, {result.failed} failed")
    return 0 if result.failed == 0 else 1


def register(commands: Any) -> None:
    """Add ``notifications send`` and ``notifications test-email``."""
    notifications = commands.add_parser("notifications", help="e-mail notifications")
    sub = notifications.add_subparsers(
        dest="notifications_command", required=True, metavar="COMMAND"
    )
    send = sub.add_parser("send", help="send the e-mails that are due now")
    send.set_defaults(handler=_send)
    test = sub.add_parser("test-email", help="send a test e-mail to check the SMTP settings")
    test.add_argument("address", help="where to send it")
    test.set_defaults(handler=_test_email)
