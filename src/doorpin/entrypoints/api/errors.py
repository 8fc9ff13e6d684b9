"""Every failure answers `{"error": {"code", "message", "field"}}` with a stable code."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from doorpin.domain.errors import DomainError

log = logging.getLogger("doorpin.api")

STATUS_BY_CODE: dict[str, int] = {
    "invalid_json": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "reservation_not_eligible": 409,
    "unit_not_assigned": 409,
    "door_provider_unsupported": 409,
    "pin_conflict": 409,
    "code_space_exhausted": 409,
    "invalid_transition": 409,
    "duplicate_external_ref": 409,
    "idempotency_key_reused": 409,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "validation_error": 422,
    "pin_invalid_format": 422,
    "pin_too_weak": 422,
    "pin_immutable": 422,
    "invalid_timezone": 422,
    "invalid_window": 422,
    "rate_limited": 429,
    "internal_error": 500,
    "lock_unreachable": 503,
}


def error_response(
    code: str, message: str, field: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    return JSONResponse({"error": body}, status_code=STATUS_BY_CODE[code], headers=headers)


def _field_of(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or None


def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request", "type": ""}
    if first.get("type") in ("json_invalid", "json_type"):
        return error_response("invalid_json", "the request body is not valid JSON")
    field = _field_of(tuple(first.get("loc", ())))
    message = str(first.get("msg", "invalid value"))
    if first.get("type") == "extra_forbidden":
        message = "unknown field"
    elif first.get("type") == "missing":
        message = "this field is required"
    # pydantic's own messages never echo the submitted value, so a PIN cannot leak through here.
    return error_response("validation_error", f"{field}: {message}" if field else message, field)


def _domain(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return error_response(exc.code, exc.message, exc.field)


def _http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return error_response("not_found", "no such endpoint")
    if exc.status_code == 405:
        headers = dict(exc.headers) if exc.headers else None
        return error_response("method_not_allowed", "this method is not allowed on this path", headers=headers)
    if exc.status_code == 401:
        return error_response("unauthenticated", "missing or invalid API key")
    return error_response("validation_error", str(exc.detail))


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The route template, never the raw path: a path may hold a guest token.
    route = getattr(request.scope.get("route"), "path", "unmatched")
    log.error("unhandled error on %s %s", request.method, route, exc_info=exc)
    return error_response("internal_error", "internal error; the request id is in the X-Request-ID header")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
