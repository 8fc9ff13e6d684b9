"""A small client for the hub's operator side (lock setup, faults, keypad, clock, stats), for
`doorpin demo`, tests and benchmarks. doorpin's own lock commands go through `KeypadProvider`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx


class HubClientError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code


def _q(value: str) -> str:
    return quote(value, safe="")


class HubClient:
    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        response = self._http.request(method, path, json=json, params=params)
        if response.is_success:
            return response.json()
        try:
            error = response.json()["error"]
            code, message = str(error["code"]), str(error["message"])
        except (ValueError, KeyError, TypeError):
            code, message = "http_error", response.text[:200]
        raise HubClientError(response.status_code, code, message)

    def configure_lock(
        self,
        device_id: str,
        *,
        slots: int = 20,
        code_lengths: Iterable[int] = (4, 5, 6, 7, 8),
        native_scheduling: bool = False,
        **lockout: float,
    ) -> dict[str, Any]:
        body = {"slots": slots, "code_lengths": list(code_lengths), "native_scheduling": native_scheduling, **lockout}
        result: dict[str, Any] = self._send("PUT", f"/locks/{_q(device_id)}", body)
        return result

    def lock(self, device_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._send("GET", f"/locks/{_q(device_id)}")
        return result

    def set_faults(self, device_id: str, **faults: Any) -> dict[str, Any]:
        """Replace the lock's faults: knobs not given are off. Datetimes are sent as ISO 8601."""
        body = {key: value.isoformat() if isinstance(value, datetime) else value for key, value in faults.items()}
        result: dict[str, Any] = self._send("PUT", f"/locks/{_q(device_id)}/faults", body)
        return result

    def clear_faults(self, device_id: str) -> None:
        self._send("DELETE", f"/locks/{_q(device_id)}/faults")

    def keypad(self, device_id: str, code: str) -> str:
        """Key `code` in at the door; the answer: granted, denied or lockout."""
        return str(self._send("POST", f"/locks/{_q(device_id)}/keypad", {"code": code})["result"])

    def codes(self, device_id: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._send("GET", f"/locks/{_q(device_id)}/codes")
        return result

    def events(self, device_id: str, after: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._send(
            "GET", f"/locks/{_q(device_id)}/events", params=None if after is None else {"after": after}
        )
        return result

    def now(self) -> datetime:
        return datetime.fromisoformat(self._send("GET", "/clock")["now"])

    def set_clock(self, now: datetime | None = None, offset_seconds: float | None = None) -> datetime:
        body = {"now": now.isoformat()} if now is not None else {"offset_seconds": offset_seconds or 0.0}
        return datetime.fromisoformat(self._send("PUT", "/clock", body)["now"])

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._send("GET", "/stats")
        return result
