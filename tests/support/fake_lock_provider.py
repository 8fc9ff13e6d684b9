"""An in-memory lock provider with the keypad hub's behaviour and fault knobs, for tests that
need locks without HTTP. It passes the same contract suite as `keypad` against a real hub
(tests/contract/test_lock_provider_contract.py), so what a test learns from it holds for both.

Test-side controls mirror the hub's operator API: `configure_lock`, `set_faults` (replaces all
knobs, omitted = off), `keypad`, `set_clock`/`now`, and `commands` (a Counter like `/stats`).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

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


@dataclass(frozen=True)
class FakeFaults:
    offline: bool = False
    offline_until: datetime | None = None
    error_rate: float = 0.0
    lost_reply_rate: float = 0.0
    latency_ms: int = 0
    latency_min_ms: int = 0
    memory_full: bool = False
    lie_on_store: bool = False
    lie_on_remove: bool = False
    rate_limit: int | None = None
    rate_limit_window_seconds: float = 1.0


@dataclass
class FakeLock:
    slots: int = 20
    code_lengths: tuple[int, ...] = (4, 5, 6, 7, 8)
    native_scheduling: bool = False
    lockout_after: int = 5
    lockout_window_seconds: float = 60.0
    lockout_seconds: float = 60.0
    faults: FakeFaults = field(default_factory=FakeFaults)
    codes: dict[str, DeviceCode] = field(default_factory=dict)
    events: list[DeviceEvent] = field(default_factory=list)
    wrong: list[datetime] = field(default_factory=list)
    lockout_until: datetime | None = None
    recent: list[float] = field(default_factory=list)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class FakeLockProvider:
    name = "fake"

    def __init__(
        self,
        settings: Mapping[str, Any] | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        seed: int | None = None,
    ) -> None:
        self.settings = dict(settings or {})
        self.timeout_seconds = float(self.settings.get("timeout_seconds", 5.0))
        self._clock = clock
        self._offset = timedelta()
        self._rng = random.Random(seed)
        self._guard = threading.RLock()
        self._locks: dict[str, FakeLock] = {}
        self._seq = 0
        self.commands: Counter[str] = Counter()
        self.closed = False
        self.events_page_size = 1000  # as the hub: more events wait for the next page (has_more)

    # -- test-side controls ----------------------------------------------------------------------

    def now(self) -> datetime:
        base = self._clock() if self._clock is not None else datetime.now(UTC)
        return base + self._offset

    def set_clock(self, now: datetime) -> None:
        base = self._clock() if self._clock is not None else datetime.now(UTC)
        self._offset = now - base

    def _lock(self, device_id: str) -> FakeLock:
        return self._locks.setdefault(device_id, FakeLock())

    def configure_lock(
        self,
        device_id: str,
        *,
        slots: int = 20,
        code_lengths: Iterable[int] = (4, 5, 6, 7, 8),
        native_scheduling: bool = False,
        **lockout: float,
    ) -> None:
        with self._guard:
            lock = self._lock(device_id)
            lock.slots, lock.code_lengths, lock.native_scheduling = slots, tuple(code_lengths), native_scheduling
            for key, value in lockout.items():
                setattr(lock, key, int(value) if key == "lockout_after" else float(value))

    def set_faults(self, device_id: str, **faults: Any) -> None:
        with self._guard:
            self._lock(device_id).faults = FakeFaults(**faults)

    def keypad(self, device_id: str, code: str) -> str:
        with self._guard:
            lock, now = self._lock(device_id), self.now()
            ref: str | None = None
            reason: str | None = None
            if lock.lockout_until is not None and now < lock.lockout_until:
                result, reason = "lockout", "locked_out"
            else:
                lock.lockout_until = None
                ref = next((c.ref for c in lock.codes.values() if c.pin == code), None)
                if ref is not None:
                    held = lock.codes[ref]
                    inside = (held.starts_at is None or held.starts_at <= now) and (
                        held.ends_at is None or now < held.ends_at
                    )
                    result = "granted" if inside or not lock.native_scheduling else "denied"
                    if result == "granted":
                        lock.wrong.clear()
                    else:
                        reason = "outside_window"
                else:
                    lock.wrong = [at for at in lock.wrong if at > now - timedelta(seconds=lock.lockout_window_seconds)]
                    lock.wrong.append(now)
                    result, reason = "denied", "unknown_code"
                    if len(lock.wrong) >= lock.lockout_after:
                        lock.wrong.clear()
                        lock.lockout_until = now + timedelta(seconds=lock.lockout_seconds)
                        result, reason = "lockout", "too_many_wrong_codes"
            self._seq += 1
            lock.events.append(DeviceEvent(f"ev_{self._seq}", now, result, ref, code, reason))
            return result

    # -- faults ----------------------------------------------------------------------------------

    def _gate(self, device_id: str, command: str) -> RetryLater | None:
        """Count the command and apply rate limit, latency, offline and error rate, like the hub."""
        with self._guard:
            lock = self._lock(device_id)
            faults = lock.faults
            self.commands[command] += 1
            if faults.rate_limit is not None:
                mono = time.monotonic()
                lock.recent = [at for at in lock.recent if mono - at < faults.rate_limit_window_seconds]
                if len(lock.recent) >= faults.rate_limit:
                    wait = faults.rate_limit_window_seconds - (mono - lock.recent[0])
                    return RetryLater(ErrorCode.RATE_LIMITED, "too many commands", max(1.0, wait))
                lock.recent.append(mono)
            low, high = sorted((faults.latency_min_ms, faults.latency_ms))
            delay = self._rng.uniform(low, high) / 1000.0 if high > 0 else 0.0
        if delay > self.timeout_seconds:
            time.sleep(self.timeout_seconds)
            return RetryLater(ErrorCode.TIMEOUT, f"no answer within {self.timeout_seconds:g}s")
        time.sleep(delay)
        with self._guard:
            offline_until = faults.offline_until
            if faults.offline or (offline_until is not None and self.now() < offline_until):
                return RetryLater(ErrorCode.DEVICE_OFFLINE, "the lock does not answer")
            if faults.error_rate > 0 and self._rng.random() < faults.error_rate:
                return RetryLater(ErrorCode.PROVIDER_ERROR, "transient error")
        return None

    def _lost_reply(self, lock: FakeLock) -> bool:
        return lock.faults.lost_reply_rate > 0 and self._rng.random() < lock.faults.lost_reply_rate

    # -- the port --------------------------------------------------------------------------------

    def program(self, lock: LockRef, code: CodeSpec) -> Outcome:
        refused = self._gate(lock.device_id, "program")
        if refused is not None:
            return refused
        with self._guard:
            device = self._lock(lock.device_id)
            if not (code.pin.isascii() and code.pin.isdigit() and len(code.pin) in device.code_lengths):
                return PermanentFailure(ErrorCode.CODE_CONSTRAINTS_VIOLATED, "length or characters not accepted")
            starts_at, ends_at = (_utc(code.starts_at), _utc(code.ends_at)) if lock.native_scheduling else (None, None)
            if (starts_at or ends_at) and not device.native_scheduling:
                return PermanentFailure(ErrorCode.NOT_SUPPORTED, "this lock does not keep time windows")
            if starts_at and ends_at and ends_at <= starts_at:
                return PermanentFailure(ErrorCode.CODE_CONSTRAINTS_VIOLATED, "the window ends before it starts")
            holder = next((c.ref for c in device.codes.values() if c.pin == code.pin), None)
            if holder is not None and holder != code.ref:
                return PermanentFailure(ErrorCode.DUPLICATE_CODE_ON_DEVICE, f"{holder} has the same digits")
            existing = device.codes.get(code.ref)
            if existing is not None:
                slot = existing.slot
            else:
                used = {c.slot for c in device.codes.values()}
                slot = next((n for n in range(1, device.slots + 1) if n not in used), None)
                if slot is None or device.faults.memory_full:
                    return PermanentFailure(ErrorCode.NO_SPACE_ON_DEVICE, "the lock's memory is full")
            if device.faults.lie_on_store:
                return Done(slot)
            stored = DeviceCode(code.ref, code.pin, slot, starts_at, ends_at)
            if stored != existing:
                device.codes[code.ref] = stored
                self.commands["program_applied"] += 1
            if self._lost_reply(device):
                return RetryLater(ErrorCode.PROVIDER_ERROR, "the answer was lost; the command may have been applied")
            return Done(slot)

    def remove(self, lock: LockRef, ref: str) -> Outcome:
        refused = self._gate(lock.device_id, "remove")
        if refused is not None:
            return refused
        with self._guard:
            device = self._lock(lock.device_id)
            if device.faults.lie_on_remove:
                return Done()
            if device.codes.pop(ref, None) is not None:
                self.commands["remove_applied"] += 1
            if self._lost_reply(device):
                return RetryLater(ErrorCode.PROVIDER_ERROR, "the answer was lost; the command may have been applied")
            return Done()

    def list_codes(self, lock: LockRef) -> Sequence[DeviceCode] | RetryLater:
        refused = self._gate(lock.device_id, "list_codes")
        if refused is not None:
            return refused
        with self._guard:
            return sorted(self._lock(lock.device_id).codes.values(), key=lambda c: c.slot or 0)

    def fetch_events(self, lock: LockRef, cursor: str | None) -> DeviceEvents | RetryLater:
        refused = self._gate(lock.device_id, "events")
        if refused is not None:
            return refused
        with self._guard:
            after = int(cursor) if cursor else 0
            newer = [e for e in self._lock(lock.device_id).events if int(e.event_id.removeprefix("ev_")) > after]
            page = newer[: self.events_page_size]
            last = int(page[-1].event_id.removeprefix("ev_")) if page else after
            return DeviceEvents([replace(e) for e in page], str(last), has_more=len(newer) > len(page))

    def close(self) -> None:
        self.closed = True
