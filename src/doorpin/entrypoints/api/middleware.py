"""ASGI middleware: request ids, request logs and metrics, and a guard on request bodies."""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from doorpin.entrypoints.api.errors import error_response
from doorpin.logs import request_id_var

log = logging.getLogger("doorpin.http")

MAX_BODY_BYTES = 1024 * 1024
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

REQUESTS = Counter("doorpin_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("doorpin_http_request_duration_seconds", "HTTP request latency", ["method", "route"])


def _route_template(scope: Scope) -> str:
    """The matched route's template (`/v1/reservations/{reservation_id}`), never the raw path."""
    # The router records the matched route in the scope; `app.routes` alone does not list the
    # routes of included routers (FastAPI nests them), so look there first.
    template = getattr(scope.get("route"), "path_format", None) or getattr(scope.get("route"), "path", None)
    if isinstance(template, str) and template:
        return template
    endpoint = scope.get("endpoint")
    app = scope.get("app")
    if endpoint is None or app is None:
        return "unmatched"
    for route in getattr(app, "routes", ()):
        if getattr(route, "endpoint", None) is endpoint:
            return str(route.path)
    return "unmatched"


class RequestContextMiddleware:
    """Gives every request an id (kept from a sane `X-Request-ID`), logs and measures it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else secrets.token_hex(8)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        started_response = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status = message["status"]
                started_response = True
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if started_response:
                raise
            # Handled here rather than by Starlette's outermost handler, so the log line keeps the
            # request id, names the route template (a raw path may hold a guest token), and the
            # 500 still carries X-Request-ID.
            log.exception("unhandled error on %s %s", scope["method"], _route_template(scope))
            await error_response("internal_error", "internal error; the request id is in the X-Request-ID header")(
                scope, receive, send_with_id
            )
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            LATENCY.labels(scope["method"], route).observe(elapsed)
            log.info(
                "%s %s -> %s in %.1f ms",
                scope["method"],
                route,
                status,
                elapsed * 1000,
                extra={
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 1),
                },
            )
            request_id_var.reset(token)


class BodyGuardMiddleware:
    """Refuses bodies over 1 MiB (413) and JSON that Python cannot parse, e.g. nested too deep (400).

    FastAPI would otherwise read an unbounded body into memory, and a RecursionError from a
    deeply nested document would surface as a 500. NUL characters in /v1 paths, queries and
    bodies are refused too (PostgreSQL cannot store them).
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1/"):
            # PostgreSQL cannot store NUL in text, and no id contains one: refuse it up front on
            # both databases rather than answer 500 on one of them.
            if "\x00" in scope["path"]:
                await error_response("not_found", "no such resource")(scope, receive, send)
                return
            for name, value in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True):
                if "\x00" in name or "\x00" in value:
                    await error_response("validation_error", f"{name}: NUL characters are not allowed", name)(
                        scope, receive, send
                    )
                    return
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await error_response("payload_too_large", f"request bodies are limited to {self.max_bytes} bytes")(
                scope, receive, send
            )
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await error_response("payload_too_large", f"request bodies are limited to {self.max_bytes} bytes")(
                    scope, receive, send
                )
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        content_type = headers.get(b"content-type", b"").lower()
        if scope["path"].startswith("/v1/") and b"json" not in content_type:
            # The /v1 API speaks only JSON: read the body as JSON even when a client (curl -d)
            # labels it as a form, instead of failing with a puzzling "expected an object".
            # (Changed in place: the request middleware reads the matched route from this scope.)
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
            scope["headers"].append((b"content-type", b"application/json"))
            content_type = b"application/json"
        is_json = not content_type or b"json" in content_type
        if is_json and body.strip():
            document = _parse(body)
            if document is _INVALID:
                await error_response("invalid_json", "the request body is not valid JSON")(scope, receive, send)
                return
            if _contains_nul(document):
                await error_response("validation_error", "text may not contain NUL characters (\\u0000)")(
                    scope, receive, send
                )
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


_INVALID = object()


def _parse(body: bytes) -> Any:
    """The JSON document, or `_INVALID`."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return _INVALID


def _contains_nul(document: Any) -> bool:
    pending = [document]  # iterative: a document may be nested as deep as the parser allows
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
