"""One test-side driver per lock provider, so the contract suite runs unchanged on each: the
provider under test plus the controls a test needs (lock setup, faults, the keypad, the clock)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from doorpin.adapters.locks.base import LockProvider, LockRef
from doorpin.adapters.locks.keypad import KeypadProvider
from doorpin.adapters.locks.simulator import HubClient
from tests.support.fake_lock_provider import FakeLockProvider


class LockHarness(Protocol):
    provider: LockProvider

    def new_lock(
        self, *, slots: int = 20, code_lengths: Iterable[int] = (4, 5, 6, 7, 8), native_scheduling: bool = False
    ) -> LockRef: ...
    def set_faults(self, lock: LockRef, **faults: Any) -> None: ...
    def keypad(self, lock: LockRef, code: str) -> str: ...
    def now(self) -> datetime: ...
    def set_clock(self, now: datetime) -> None: ...
    def with_timeout(self, seconds: float) -> LockProvider: ...
    def close(self) -> None: ...


def _device_id() -> str:
    return f"dev-{uuid.uuid4().hex[:12]}"


class KeypadHarness:
    """The `keypad` provider against a real hub over HTTP; the hub's operator API drives the rest."""

    def __init__(self, hub_url: str, timeout_seconds: float = 5.0) -> None:
        self.hub_url = hub_url
        self.provider: LockProvider = KeypadProvider({"hub_url": hub_url, "timeout_seconds": timeout_seconds})
        self.hub = HubClient(hub_url)
        self._others: list[LockProvider] = []

    def new_lock(
        self, *, slots: int = 20, code_lengths: Iterable[int] = (4, 5, 6, 7, 8), native_scheduling: bool = False
    ) -> LockRef:
        device_id = _device_id()
        self.hub.configure_lock(device_id, slots=slots, code_lengths=code_lengths, native_scheduling=native_scheduling)
        return LockRef(lock_id=f"lock-{device_id}", device_id=device_id, native_scheduling=native_scheduling)

    def set_faults(self, lock: LockRef, **faults: Any) -> None:
        self.hub.set_faults(lock.device_id, **faults)

    def keypad(self, lock: LockRef, code: str) -> str:
        return self.hub.keypad(lock.device_id, code)

    def now(self) -> datetime:
        return self.hub.now()

    def set_clock(self, now: datetime) -> None:
        self.hub.set_clock(now=now)

    def with_timeout(self, seconds: float) -> LockProvider:
        """Another provider on the same hub, with a shorter timeout."""
        provider = KeypadProvider({"hub_url": self.hub_url, "timeout_seconds": seconds})
        self._others.append(provider)
        return provider

    def close(self) -> None:
        self.hub.set_clock(offset_seconds=0)
        for provider in [self.provider, *self._others]:
            provider.close()
        self.hub.close()


class FakeHarness:
    def __init__(self, timeout_seconds: float = 5.0) -> None:
        self.fake = FakeLockProvider({"timeout_seconds": timeout_seconds})
        self.provider: LockProvider = self.fake

    def new_lock(
        self, *, slots: int = 20, code_lengths: Iterable[int] = (4, 5, 6, 7, 8), native_scheduling: bool = False
    ) -> LockRef:
        device_id = _device_id()
        self.fake.configure_lock(device_id, slots=slots, code_lengths=code_lengths, native_scheduling=native_scheduling)
        return LockRef(lock_id=f"lock-{device_id}", device_id=device_id, native_scheduling=native_scheduling)

    def set_faults(self, lock: LockRef, **faults: Any) -> None:
        self.fake.set_faults(lock.device_id, **faults)

    def keypad(self, lock: LockRef, code: str) -> str:
        return self.fake.keypad(lock.device_id, code)

    def now(self) -> datetime:
        return self.fake.now()

    def set_clock(self, now: datetime) -> None:
        self.fake.set_clock(now)

    def with_timeout(self, seconds: float) -> LockProvider:
        self.fake.timeout_seconds = seconds
        return self.fake

    def close(self) -> None:
        self.fake.close()
