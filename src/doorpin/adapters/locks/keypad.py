"""The `keypad` provider: network keypad locks behind a hub speaking the HTTP API of
`doorpin simulate-locks` (docs/keypad-simulator.md).

Settings: `hub_url` (required, here or in the lock's own settings, which win), `timeout_seconds`
(default 5). Device ids and refs must not contain "/". PINs are never logged nor put in messages.
"""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from doorpin.adapters.locks.base import (
    CodeSpec,
    DeviceCode,
    DeviceEvent,
    DeviceEvents,
    Done,
    ErrorCode,
    LockRef,
    Outcome,
    PermanentFailure,
    RetryLater,
)

log = logging.getLogger("doorpin.locks.keypad")

DEFAULT_TIMEOUT_SECONDS = 5.0
Failure = RetryLater | PermanentFailure


def _q(value: str) -> str:
    return quote(value, safe="")


def _iso(value: datetime) -> str:
    """Windows are UTC instants; a naive datetime (SQLite hands those back) is taken as UTC."""
    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)).isoformat()


def _when(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def _retry_after(header: str | None) -> float | None:
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds()) if when.tzinfo else None


def _hub_error(response: httpx.Response) -> tuple[str, str]:
    try:
        error = response.json()["error"]
        return str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return "", f"HTTP {response.status_code}"


def _failure(response: httpx.Response) -> Failure:
    """The typed outcome of a refusal, from its status (and the hub's error code where it matters)."""
    status = response.status_code
    code, message = _hub_error(response)
    if status == 409:
        return PermanentFailure(ErrorCode.DUPLICATE_CODE_ON_DEVICE, message)
    if status == 507:
        return PermanentFailure(ErrorCode.NO_SPACE_ON_DEVICE, message)
    if status == 422:
        if code == "scheduling_not_supported":
            return PermanentFailure(ErrorCode.NOT_SUPPORTED, message)
        return PermanentFailure(ErrorCode.CODE_CONSTRAINTS_VIOLATED, message)
    if status == 429:
        return RetryLater(ErrorCode.RATE_LIMITED, message, _retry_after(response.headers.get("Retry-After")))
    if status == 503 and code == "device_offline":
        return RetryLater(ErrorCode.DEVICE_OFFLINE, message, _retry_after(response.headers.get("Retry-After")))
    if status >= 500:
        return RetryLater(ErrorCode.PROVIDER_ERROR, f"hub answered {status} {code}: {message}".strip())
    # 400/404/…: doorpin and the hub disagree about the API; repeating the request cannot help
    return PermanentFailure(ErrorCode.PROVIDER_ERROR, f"hub refused the request: {status} {code}: {message}")


def _transient(outcome: Failure) -> RetryLater:
    """Reads cannot fail permanently in the port: an unexpected refusal is reported as provider_error."""
    if isinstance(outcome, RetryLater):
        return outcome
    return RetryLater(ErrorCode.PROVIDER_ERROR, f"{outcome.code}: {outcome.message}")


class KeypadProvider:
    name = "keypad"

    def __init__(self, settings: Mapping[str, Any]) -> None:
        url = settings.get("hub_url")
        self._hub_url = str(url).rstrip("/") if url else None
        self._timeout = float(settings.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS))
        self._clients: dict[str, httpx.Client] = {}
        self._guard = threading.Lock()

    # -- plumbing --------------------------------------------------------------------------------

    def _client(self, lock: LockRef) -> httpx.Client | None:
        url = lock.settings.get("hub_url")
        base = str(url).rstrip("/") if url else self._hub_url
        if base is None:
            return None
        with self._guard:
            client = self._clients.get(base)
            if client is None:
                client = self._clients[base] = httpx.Client(base_url=base, timeout=self._timeout)
            return client

    def _request(
        self,
        lock: LockRef,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response | Failure:
        client = self._client(lock)
        if client is None:
            return PermanentFailure(ErrorCode.PROVIDER_ERROR, "no hub_url configured for this keypad lock")
        started = time.monotonic()
        try:
            response = client.request(method, f"/locks/{_q(lock.device_id)}{path}", json=json, params=params)
        except httpx.TimeoutException as exc:
            message = f"no answer from the hub within {self._timeout:g}s ({type(exc).__name__})"
            return RetryLater(ErrorCode.TIMEOUT, message)
        except httpx.NetworkError as exc:
            return RetryLater(ErrorCode.DEVICE_OFFLINE, f"hub unreachable ({type(exc).__name__})")
        except httpx.TransportError as exc:
            return RetryLater(ErrorCode.PROVIDER_ERROR, f"hub connection failed ({type(exc).__name__})")
        elapsed_ms = (time.monotonic() - started) * 1000
        log.debug("keypad %s %s lock=%s: %s in %.0f ms", method, path, lock.lock_id, response.status_code, elapsed_ms)
        return response if response.is_success else _failure(response)

    @staticmethod
    def _masked(outcome: Failure, pin: str) -> Failure:
        """Whatever a hub puts in a message, the PIN does not leave this module."""
        if not pin or pin not in outcome.message:
            return outcome
        masked = outcome.message.replace(pin, "••••")
        if isinstance(outcome, RetryLater):
            return RetryLater(outcome.code, masked, outcome.retry_after)
        return PermanentFailure(outcome.code, masked)

    # -- the port --------------------------------------------------------------------------------

    def ensure_device(self, lock: LockRef, capabilities: Mapping[str, Any]) -> None:
        """On a simulated hub (settings `simulated: true`), make the lock match doorpin's view of it.

        Real hubs are never configured by doorpin: their locks are what they are.
        """
        if not lock.settings.get("simulated"):
            return
        body = {
            "slots": int(capabilities.get("max_codes") or 20),
            "code_lengths": list(capabilities.get("code_lengths") or [4, 5, 6, 7, 8]),
            "native_scheduling": bool(capabilities.get("native_scheduling")),
        }
        result = self._request(lock, "PUT", "", json=body)
        if not isinstance(result, httpx.Response):
            log.warning("could not configure simulated lock %s: %s", lock.lock_id, result.message)

    def program(self, lock: LockRef, code: CodeSpec) -> Outcome:
        body: dict[str, Any] = {"pin": code.pin}
        if lock.native_scheduling:
            body["starts_at"] = None if code.starts_at is None else _iso(code.starts_at)
            body["ends_at"] = None if code.ends_at is None else _iso(code.ends_at)
        result = self._request(lock, "PUT", f"/codes/{_q(code.ref)}", json=body)
        if not isinstance(result, httpx.Response):
            outcome = self._masked(result, code.pin)
            log.info("keypad program %s on lock %s: %s", code.ref, lock.lock_id, outcome.code)
            return outcome
        try:
            slot = result.json().get("slot")
        except (ValueError, AttributeError):
            slot = None
        return Done(slot if isinstance(slot, int) else None)

    def remove(self, lock: LockRef, ref: str) -> Outcome:
        result = self._request(lock, "DELETE", f"/codes/{_q(ref)}")
        if isinstance(result, httpx.Response):
            return Done()
        log.info("keypad remove %s on lock %s: %s", ref, lock.lock_id, result.code)
        return result

    def list_codes(self, lock: LockRef) -> Sequence[DeviceCode] | RetryLater:
        result = self._request(lock, "GET", "/codes")
        if not isinstance(result, httpx.Response):
            return _transient(result)
        try:
            return [
                DeviceCode(
                    ref=None if item.get("ref") is None else str(item["ref"]),
                    pin=str(item["pin"]),
                    slot=None if item.get("slot") is None else int(item["slot"]),
                    starts_at=_when(item.get("starts_at")),
                    ends_at=_when(item.get("ends_at")),
                )
                for item in result.json()
            ]
        except (ValueError, KeyError, TypeError, AttributeError):
            return RetryLater(ErrorCode.PROVIDER_ERROR, "the hub's list of codes is unreadable")

    def fetch_events(self, lock: LockRef, cursor: str | None) -> DeviceEvents | RetryLater:
        result = self._request(lock, "GET", "/events", params=None if cursor is None else {"after": cursor})
        if not isinstance(result, httpx.Response):
            return _transient(result)
        try:
            body = result.json()
            events = [
                DeviceEvent(
                    event_id=str(item["id"]),
                    occurred_at=datetime.fromisoformat(str(item["occurred_at"])),
                    result=str(item["result"]),
                    code_ref=None if item.get("code_ref") is None else str(item["code_ref"]),
                    pin=None if item.get("pin") is None else str(item["pin"]),
                    reason=None if item.get("reason") is None else str(item["reason"]),
                )
                for item in body["events"]
            ]
            next_cursor = body.get("cursor")
            has_more = bool(body.get("has_more", False))
        except (ValueError, KeyError, TypeError, AttributeError):
            return RetryLater(ErrorCode.PROVIDER_ERROR, "the hub's events are unreadable")
        return DeviceEvents(events, cursor if next_cursor is None else str(next_cursor), has_more)

    def close(self) -> None:
        with self._guard:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()
