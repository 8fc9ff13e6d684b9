"""The hub's HTTP API (see docs/keypad-simulator.md). Errors: `{"error": {"code", "message"}}`."""

from __future__ import annotations

import asyncio
import math
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from doorpin.adapters.locks.simulator.model import DEFAULT_CODE_LENGTHS, Faults, HubError, LockConfig
from doorpin.adapters.locks.simulator.state import MAX_EVENTS_PAGE, Hub


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LockConfigBody(_Body):
    slots: int = Field(20, ge=1, le=10_000)
    code_lengths: list[int] = Field(default_factory=lambda: list(DEFAULT_CODE_LENGTHS), min_length=1)
    native_scheduling: bool = False
    lockout_after: int = Field(5, ge=1)
    lockout_window_seconds: float = Field(60.0, gt=0)
    lockout_seconds: float = Field(60.0, ge=0)

    @model_validator(mode="after")
    def _lengths(self) -> LockConfigBody:
        if any(not 1 <= n <= 16 for n in self.code_lengths):
            raise ValueError("code_lengths must be between 1 and 16")
        return self


class FaultsBody(_Body):
    offline: bool = False
    offline_until: datetime | None = None
    error_rate: float = Field(0.0, ge=0, le=1)
    lost_reply_rate: float = Field(0.0, ge=0, le=1)
    latency_ms: int = Field(0, ge=0, le=600_000)
    latency_min_ms: int = Field(0, ge=0, le=600_000)
    memory_full: bool = False
    lie_on_store: bool = False
    lie_on_remove: bool = False
    rate_limit: int | None = Field(None, ge=1)
    rate_limit_window_seconds: float = Field(1.0, gt=0)


class CodeBody(_Body):
    pin: str = Field(max_length=256)
    starts_at: datetime | None = None
    ends_at: datetime | None = None


class KeypadBody(_Body):
    code: str = Field(max_length=256)


class ClockBody(_Body):
    now: datetime | None = None
    offset_seconds: float | None = None

    @model_validator(mode="after")
    def _one(self) -> ClockBody:
        if (self.now is None) == (self.offset_seconds is None):
            raise ValueError("give exactly one of now, offset_seconds")
        return self


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def create_app(hub: Hub) -> FastAPI:
    app = FastAPI(title="doorpin keypad lock hub (simulator)", version="1")
    app.state.hub = hub

    @app.exception_handler(HubError)
    async def _hub_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HubError)
        headers = None if exc.retry_after is None else {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
        return _error(exc.status, exc.code, exc.message, headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return _error(400, "invalid_request", f"{where}: {first.get('msg', 'invalid')}" if where else "invalid")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error(exc.status_code, code, str(exc.detail))

    async def _command(device_id: str, command: str) -> None:
        delay = hub.admit(device_id, command)
        if delay > 0:
            await asyncio.sleep(delay)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/clock")
    async def get_clock() -> dict[str, Any]:
        return hub.clock_info()

    @app.put("/clock")
    async def put_clock(body: ClockBody) -> dict[str, Any]:
        return hub.set_clock(now=body.now, offset_seconds=body.offset_seconds)

    @app.get("/stats")
    async def get_stats() -> dict[str, Any]:
        return hub.stats.snapshot()

    @app.delete("/stats")
    async def reset_stats() -> dict[str, Any]:
        hub.stats.reset()
        return hub.stats.snapshot()

    @app.get("/locks")
    async def list_locks() -> list[dict[str, Any]]:
        return hub.list_locks()

    @app.get("/locks/{device_id}")
    async def get_lock(device_id: str) -> dict[str, Any]:
        return hub.lock_info(device_id)

    @app.put("/locks/{device_id}")
    async def put_lock(device_id: str, body: LockConfigBody) -> dict[str, Any]:
        data = body.model_dump()
        return hub.configure(device_id, LockConfig(**{**data, "code_lengths": tuple(sorted(set(body.code_lengths)))}))

    @app.get("/locks/{device_id}/faults")
    async def get_faults(device_id: str) -> dict[str, Any]:
        return hub.faults(device_id)

    @app.put("/locks/{device_id}/faults")
    async def put_faults(device_id: str, body: FaultsBody) -> dict[str, Any]:
        return hub.set_faults(device_id, Faults(**body.model_dump()))

    @app.delete("/locks/{device_id}/faults")
    async def clear_faults(device_id: str) -> dict[str, Any]:
        return hub.set_faults(device_id, Faults())

    @app.get("/locks/{device_id}/codes")
    async def list_codes(device_id: str) -> list[dict[str, Any]]:
        await _command(device_id, "list_codes")
        return hub.codes(device_id)

    @app.put("/locks/{device_id}/codes/{ref}")
    async def put_code(device_id: str, ref: str, body: CodeBody) -> dict[str, Any]:
        await _command(device_id, "program")
        return {"slot": hub.program(device_id, ref, body.pin, body.starts_at, body.ends_at)}

    @app.delete("/locks/{device_id}/codes/{ref}")
    async def delete_code(device_id: str, ref: str) -> dict[str, Any]:
        await _command(device_id, "remove")
        return {"removed": hub.remove(device_id, ref)}

    @app.get("/locks/{device_id}/events")
    async def list_events(
        device_id: str,
        after: str | None = Query(None, pattern=r"^\d{1,18}$"),
        limit: int = Query(MAX_EVENTS_PAGE, ge=1, le=MAX_EVENTS_PAGE),
    ) -> dict[str, Any]:
        await _command(device_id, "events")
        return hub.events(device_id, None if after is None else int(after), limit)

    @app.post("/locks/{device_id}/keypad")
    async def keypad(device_id: str, body: KeypadBody) -> dict[str, Any]:
        event = hub.keypad(device_id, body.code)
        return {"result": event.result, "event_id": event.event_id, "reason": event.reason}

    return app
