"""A real local HTTP server playing a Twilio-compatible messaging gateway.

It records every request (path, Basic-auth user, form fields) and answers from a script: the
answers queued with `answer_next`, then 201 with a fresh message `sid`.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "gateway-auth-token-0123456789"
SMS_FROM = "+15551234567"


@dataclass
class GatewayRequest:
    method: str
    path: str
    user: str | None
    password: str | None
    content_type: str
    form: dict[str, str]


@dataclass
class _State:
    requests: list[GatewayRequest] = field(default_factory=list)
    script: list[tuple[int, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    state: _State

    def log_message(self, format: str, *args: Any) -> None:  # quiet: no request lines on stderr
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        user = password = None
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        with self.state.lock:
            self.state.requests.append(
                GatewayRequest(
                    "POST", self.path, user, password, self.headers.get("Content-Type", ""), dict(parse_qsl(body))
                )
            )
            count = len(self.state.requests)
            status, payload = self.state.script.pop(0) if self.state.script else (201, None)
        if payload is None and status == 201:
            payload = {"sid": f"SM{count:032x}", "status": "queued"}
        data = json.dumps(payload).encode() if payload is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@dataclass
class Gateway:
    server: ThreadingHTTPServer
    state: _State

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        """DOORPIN_SMS_URL for this gateway (without the path: the default Twilio path is used)."""
        return f"http://{ACCOUNT_SID}:{AUTH_TOKEN}@127.0.0.1:{self.port}?from={SMS_FROM}"

    @property
    def requests(self) -> list[GatewayRequest]:
        with self.state.lock:
            return list(self.state.requests)

    def answer_next(self, status: int, payload: Any = None) -> None:
        with self.state.lock:
            self.state.script.append((status, payload))


@contextmanager
def messaging_gateway() -> Iterator[Gateway]:
    state = _State()
    handler = type("GatewayHandler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="test-gateway", daemon=True)
    thread.start()
    try:
        yield Gateway(server, state)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
