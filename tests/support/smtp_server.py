"""A real SMTP server (aiosmtpd) in the test process, on a free port, keeping what it receives.

It can refuse chosen recipients (550), require STARTTLS and AUTH, and hands back each message
parsed by the standard library, so tests read exactly what a mail client would.
"""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class _Handler:
    refuse: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    credentials: tuple[str, str] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 <" + address + ">: no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if not isinstance(data, LoginPassword) or self.credentials is None:
            return AuthResult(success=False, handled=False)
        login, password = data.login.decode(), data.password.decode()
        ok = (login, password) == self.credentials
        if ok:
            self.logins.append(login)
        return AuthResult(success=ok, handled=False)


class _AnyPortController(Controller):
    """aiosmtpd's Controller, bound to port 0 (a free port), reading back the port it got."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class SmtpServer:
    controller: _AnyPortController
    handler: _Handler

    @property
    def port(self) -> int:
        return int(self.controller.port)

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def refuse(self, address: str) -> None:
        self.handler.refuse.add(address)

    def url(self, **params: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in {"from": "desk@hotel.example", **params}.items())
        return f"smtp://127.0.0.1:{self.port}?{query}"


@contextmanager
def smtp_server(tls_context: Any = None, credentials: tuple[str, str] | None = None) -> Iterator[SmtpServer]:
    handler = _Handler(credentials=credentials)
    kwargs: dict[str, Any] = {}
    if tls_context is not None:
        kwargs.update(tls_context=tls_context, require_starttls=True)
    if credentials is not None:
        kwargs.update(authenticator=handler.authenticate, auth_required=True, auth_require_tls=tls_context is not None)
    controller = _AnyPortController(handler, hostname="127.0.0.1", port=0, **kwargs)
    controller.start()
    try:
        yield SmtpServer(controller, handler)
    finally:
        controller.stop()
