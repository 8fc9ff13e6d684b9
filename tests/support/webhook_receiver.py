"""A real local HTTP server playing an integrator's webhook endpoint.

It records every request (path, headers, the raw body bytes) and answers from a script: the
first `fail_first` requests get `fail_status`, then 200 (or `fail_status` for ever after
`always_fail()`). Reachable from other processes, so real doorpin workers can deliver to it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    answered: int  # the status this receiver sent back
    received_at: float  # time.time() when it arrived


@dataclass
class _State:
    requests: list[ReceivedRequest] = field(default_factory=list)
    fail_remaining: int = 0
    fail_status: int = 500
    fail_always: bool = False
    answer_headers: dict[str, str] = field(default_factory=dict)
    answer_body: bytes = b""
    delay_seconds: float = 0.0  # how long each answer takes (to let concurrent senders overlap)
    in_flight: int = 0
    max_in_flight: int = 0  # the most requests ever being answered at the same time
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.arrived = threading.Condition(self.lock)


class _Handler(BaseHTTPRequestHandler):
    state: _State
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: no request lines on stderr
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        state = self.state
        with state.lock:
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
            delay = state.delay_seconds
        time.sleep(delay)
        with state.lock:
            state.in_flight -= 1
            failing = state.fail_always or state.fail_remaining > 0
            if state.fail_remaining > 0:
                state.fail_remaining -= 1
            status = state.fail_status if failing else 200
            extra_headers = dict(state.answer_headers) if failing else {}
            payload = state.answer_body if failing else b'{"ok": true}'
            headers = {name.lower(): value for name, value in self.headers.items()}
            state.requests.append(ReceivedRequest(self.path, headers, body, status, time.time()))
            state.arrived.notify_all()
        self.send_response(status)
        for name, value in extra_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    state: _State

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/doorpin"

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self.state.lock:
            return list(self.state.requests)

    @property
    def accepted(self) -> list[ReceivedRequest]:
        """The requests answered with a 2xx: what the integrator actually took in."""
        return [r for r in self.requests if 200 <= r.answered < 300]

    def fail_next(
        self, count: int, status: int = 500, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> None:
        with self.state.lock:
            self.state.fail_remaining, self.state.fail_status = count, status
            self.state.answer_body, self.state.answer_headers = body, dict(headers or {})

    def answer_slowly(self, seconds: float) -> None:
        with self.state.lock:
            self.state.delay_seconds = seconds

    @property
    def max_in_flight(self) -> int:
        with self.state.lock:
            return self.state.max_in_flight

    def always_fail(self, status: int = 503) -> None:
        with self.state.lock:
            self.state.fail_always, self.state.fail_status = True, status

    def recover(self) -> None:
        with self.state.lock:
            self.state.fail_always, self.state.fail_remaining = False, 0

    def wait_for(self, done: Callable[[list[ReceivedRequest]], bool], timeout: float = 30.0) -> list[ReceivedRequest]:
        """Block until `done(requests)` holds; fails with what arrived if it never does."""
        deadline = time.monotonic() + timeout
        with self.state.arrived:
            while not done(list(self.state.requests)):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"the receiver did not get what was expected: {len(self.state.requests)} requests"
                    )
                self.state.arrived.wait(min(left, 0.5))
            return list(self.state.requests)


@contextmanager
def webhook_receiver(fail_first: int = 0, fail_status: int = 500) -> Iterator[Receiver]:
    state = _State(fail_remaining=fail_first, fail_status=fail_status)
    handler = type("WebhookHandler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="test-webhook-receiver", daemon=True)
    thread.start()
    try:
        yield Receiver(server, state)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
