"""`offline_pin`: the property's own door system is the lock (LIKE MAGIC style).

doorpin keeps the PIN; the door system learns of every change through a signed POST to its
`webhook_url` (settings of the lock, or provider defaults) and may also read PINs through the
API with a `door_provider` key. A 2xx answer counts as programmed. There is no read-back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from doorpin.adapters.locks.base import (
    CodeSpec,
    DeviceCode,
    DeviceEvents,
    Done,
    ErrorCode,
    LockRef,
    Outcome,
    PermanentFailure,
    RetryLater,
)
from doorpin.adapters.signing import HEADER, signature

log = logging.getLogger("doorpin.locks.offline_pin")


class OfflinePinProvider:
    name = "offline_pin"
    reads_back = False
    polls_events = False  # the door system pushes its events (provider endpoints); there is no list to read

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self._client = httpx.Client(timeout=float(settings.get("timeout_seconds", 10)))

    def _notify(self, lock: LockRef, payload: dict[str, Any]) -> Outcome:
        url = lock.settings.get("webhook_url")
        secret = lock.settings.get("webhook_secret")
        if not url:
            # Nothing to tell: the door system reads PINs through the API instead.
            return Done()
        body = json.dumps({"lock_id": lock.lock_id, "device_id": lock.device_id, **payload}).encode()
        headers = {"Content-Type": "application/json"}
        if secret:
            headers[HEADER] = signature(str(secret), body)
        try:
            response = self._client.post(str(url), content=body, headers=headers)
        except httpx.TimeoutException:
            return RetryLater(ErrorCode.TIMEOUT, "the door system did not answer in time")
        except httpx.HTTPError as exc:
            return RetryLater(ErrorCode.DEVICE_OFFLINE, f"the door system is unreachable ({type(exc).__name__})")
        if response.is_success:
            return Done()
        if response.status_code == 429:
            retry_after = response.headers.get("Retry-After", "")
            return RetryLater(
                ErrorCode.RATE_LIMITED, "rate limited", float(retry_after) if retry_after.isdigit() else None
            )
        if response.status_code in (400, 409, 422):
            return PermanentFailure(
                ErrorCode.CODE_CONSTRAINTS_VIOLATED, f"the door system refused the PIN ({response.status_code})"
            )
        return RetryLater(ErrorCode.PROVIDER_ERROR, f"the door system answered {response.status_code}")

    def program(self, lock: LockRef, code: CodeSpec) -> Outcome:
        return self._notify(
            lock,
            {
                "type": "pin.set",
                "ref": code.ref,
                "pin": code.pin,
                "valid_from": code.starts_at.isoformat() if code.starts_at else None,
                "valid_until": code.ends_at.isoformat() if code.ends_at else None,
            },
        )

    def remove(self, lock: LockRef, ref: str) -> Outcome:
        return self._notify(lock, {"type": "pin.removed", "ref": ref})

    def list_codes(self, lock: LockRef) -> Sequence[DeviceCode] | RetryLater:
        return RetryLater(ErrorCode.NOT_SUPPORTED, "offline_pin door systems cannot be read back")

    def fetch_events(self, lock: LockRef, cursor: str | None) -> DeviceEvents | RetryLater:
        return DeviceEvents((), cursor)

    def close(self) -> None:
        self._client.close()
