"""A real SMTP server on 127.0.0.1 for the tests (aiosmtpd in its own thread)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

SMTP_USER = "tipline"
SMTP_PASSWORD = "relay-secret"


class Mailbox:
    """Collects what the server accepted; ``failing`` makes it answer 451 to every DATA."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.failing = False
        self.refused = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.failing:
            self.refused += 1
            return "451 4.3.0 try again later"
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == SMTP_USER
        and auth_data.password.decode() == SMTP_PASSWORD
    )
    # handled=False: aiosmtpd answers a refusal with 535 itself (handled=True, its default,
    # would leave the client waiting for an answer until its 30-second timeout).
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(
            self.mailbox,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=_authenticate,
            auth_require_tls=False,
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
