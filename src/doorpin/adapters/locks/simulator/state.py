"""The hub: many simulated keypad locks, their memories, keypads, faults and events.

Every operation runs under one lock and writes its change through to the store before
answering, so what a client was told is what a restarted hub holds.
"""

from __future__ import annotations

import bisect
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from doorpin.adapters.locks.simulator.clock import SimClock, _real_now
from doorpin.adapters.locks.simulator.keypad import enter_code
from doorpin.adapters.locks.simulator.model import (
    AccessEvent,
    Faults,
    HubError,
    LockConfig,
    SimLock,
    StoredCode,
    iso,
    utc,
)
from doorpin.adapters.locks.simulator.stats import Stats
from doorpin.adapters.locks.simulator.store import MemoryStore, Store, open_store

MAX_EVENTS_PAGE = 1000


class Hub:
    def __init__(
        self,
        store: Store | None = None,
        *,
        seed: int | None = None,
        real_now: Callable[[], datetime] = _real_now,
    ) -> None:
        self._store: Store = store if store is not None else MemoryStore()
        self._guard = threading.RLock()
        self._rng = random.Random(seed)  # noqa: S311 - fault injection, not security
        self.stats = Stats()
        self._locks: dict[str, SimLock] = {}
        snapshot = self._store.load()
        self.clock = SimClock(snapshot.clock_offset_seconds, real_now)
        for device_id, (config, faults) in snapshot.locks.items():
            self._locks[device_id] = SimLock(device_id, config, faults)
        for device_id, code in snapshot.codes:
            self._lock(device_id).codes[code.ref] = code
        for event in snapshot.events:
            self._lock(event.device_id).events.append(event)
        self._seq = snapshot.events[-1].seq if snapshot.events else 0

    @classmethod
    def open(cls, state_path: str | Path | None = None, *, seed: int | None = None) -> Hub:
        return cls(open_store(state_path), seed=seed)

    def close(self) -> None:
        with self._guard:
            self._store.close()

    # -- locks, faults, clock -------------------------------------------------------------------

    def _lock(self, device_id: str) -> SimLock:
        """The lock named `device_id`, created with the default configuration on first use."""
        lock = self._locks.get(device_id)
        if lock is None:
            lock = self._locks[device_id] = SimLock(device_id)
            self._store.save_lock(device_id, lock.config, lock.faults)
        return lock

    def list_locks(self) -> list[dict[str, Any]]:
        with self._guard:
            return [lock.summary() for _, lock in sorted(self._locks.items())]

    def lock_info(self, device_id: str) -> dict[str, Any]:
        with self._guard:
            return self._lock(device_id).summary()

    def configure(self, device_id: str, config: LockConfig) -> dict[str, Any]:
        with self._guard:
            lock = self._lock(device_id)
            highest = max((code.slot for code in lock.codes.values()), default=0)
            if highest > config.slots:
                raise HubError(409, "slots_in_use", f"slot {highest} holds a code; remove it before shrinking")
            lock.config = config
            self._store.save_lock(device_id, config, lock.faults)
            return lock.summary()

    def set_faults(self, device_id: str, faults: Faults) -> dict[str, Any]:
        with self._guard:
            lock = self._lock(device_id)
            lock.faults = faults
            self._store.save_lock(device_id, lock.config, faults)
            return faults.to_dict()

    def faults(self, device_id: str) -> dict[str, Any]:
        with self._guard:
            return self._lock(device_id).faults.to_dict()

    def clock_info(self) -> dict[str, Any]:
        return {"now": iso(self.clock.now()), "offset_seconds": self.clock.offset_seconds}

    def set_clock(self, *, now: datetime | None = None, offset_seconds: float | None = None) -> dict[str, Any]:
        with self._guard:
            if now is not None:
                self.clock.set_now(now)
            elif offset_seconds is not None:
                self.clock.set_offset(offset_seconds)
            self._store.save_clock_offset(self.clock.offset_seconds)
            return self.clock_info()

    # -- device commands: what a provider calls ---------------------------------------------------

    def admit(self, device_id: str, command: str) -> float:
        """Count a command, apply the rate limit, and return how long it must wait (seconds)."""
        with self._guard:
            lock = self._lock(device_id)
            self.stats.count(device_id, command)
            faults = lock.faults
            if faults.rate_limit is not None:
                now = time.monotonic()
                window = faults.rate_limit_window_seconds
                lock.recent_commands = [at for at in lock.recent_commands if now - at < window]
                if len(lock.recent_commands) >= faults.rate_limit:
                    self.stats.count(device_id, "fault_rate_limited")
                    wait = window - (now - lock.recent_commands[0])
                    raise HubError(429, "rate_limited", "too many commands for this lock", retry_after=wait)
                lock.recent_commands.append(now)
            low, high = sorted((faults.latency_min_ms, faults.latency_ms))
            return self._rng.uniform(low, high) / 1000.0 if high > 0 else 0.0

    def _reachable(self, lock: SimLock) -> None:
        if lock.faults.offline_at(self.clock.now()):
            self.stats.count(lock.device_id, "fault_offline")
            raise HubError(503, "device_offline", "the lock does not answer")
        if lock.faults.error_rate > 0 and self._rng.random() < lock.faults.error_rate:
            self.stats.count(lock.device_id, "fault_error")
            raise HubError(503, "transient_error", "the hub failed to reach the lock; try again")

    def _maybe_lose_reply(self, lock: SimLock) -> None:
        if lock.faults.lost_reply_rate > 0 and self._rng.random() < lock.faults.lost_reply_rate:
            self.stats.count(lock.device_id, "fault_lost_reply")
            raise HubError(503, "transient_error", "the lock's answer was lost; the command may have been applied")

    def program(
        self,
        device_id: str,
        ref: str,
        pin: str,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
    ) -> int:
        """Store `pin` under `ref` (in place if `ref` is there already); the slot it holds."""
        with self._guard:
            lock = self._lock(device_id)
            self._reachable(lock)
            config = lock.config
            if not (pin.isascii() and pin.isdigit() and len(pin) in config.code_lengths):
                lengths = ", ".join(str(n) for n in config.code_lengths)
                raise HubError(422, "code_constraints_violated", f"codes on this lock are digits of length {lengths}")
            starts_at = None if starts_at is None else utc(starts_at)
            ends_at = None if ends_at is None else utc(ends_at)
            if (starts_at is not None or ends_at is not None) and not config.native_scheduling:
                raise HubError(422, "scheduling_not_supported", "this lock does not keep time windows")
            if starts_at is not None and ends_at is not None and ends_at <= starts_at:
                raise HubError(422, "code_constraints_violated", "the window ends before it starts")
            holder = lock.ref_holding(pin)
            if holder is not None and holder != ref:
                raise HubError(409, "duplicate_code_on_device", f"another code ({holder}) has the same digits")
            existing = lock.codes.get(ref)
            slot = existing.slot if existing is not None else None
            if existing is None:
                if lock.faults.memory_full:
                    self.stats.count(device_id, "fault_memory_full")
                    raise HubError(507, "no_space_on_device", "the lock's memory is full")
                slot = lock.free_slot()
                if slot is None:
                    raise HubError(507, "no_space_on_device", f"all {config.slots} slots are taken")
            assert slot is not None
            if lock.faults.lie_on_store:
                self.stats.count(device_id, "fault_lie_on_store")
                return slot
            code = StoredCode(ref, slot, pin, starts_at, ends_at)
            if existing is None or (existing.pin, existing.starts_at, existing.ends_at) != (pin, starts_at, ends_at):
                lock.codes[ref] = code
                self._store.save_code(device_id, code)
                self.stats.count(device_id, "program_applied")
            self._maybe_lose_reply(lock)
            return slot

    def remove(self, device_id: str, ref: str) -> bool:
        """Take `ref` off the lock; whether it was there (absent is not an error)."""
        with self._guard:
            lock = self._lock(device_id)
            self._reachable(lock)
            if lock.faults.lie_on_remove:
                self.stats.count(device_id, "fault_lie_on_remove")
                return ref in lock.codes
            present = lock.codes.pop(ref, None) is not None
            if present:
                self._store.delete_code(device_id, ref)
                self.stats.count(device_id, "remove_applied")
            self._maybe_lose_reply(lock)
            return present

    def codes(self, device_id: str) -> list[dict[str, Any]]:
        with self._guard:
            lock = self._lock(device_id)
            self._reachable(lock)
            return [code.to_dict() for code in sorted(lock.codes.values(), key=lambda c: c.slot)]

    def events(self, device_id: str, after: int | None, limit: int = MAX_EVENTS_PAGE) -> dict[str, Any]:
        """Events with a cursor greater than `after`, oldest first, and the cursor to pass next."""
        with self._guard:
            lock = self._lock(device_id)
            self._reachable(lock)
            start = bisect.bisect_right(lock.events, after or 0, key=lambda event: event.seq)
            page = lock.events[start : start + max(1, min(limit, MAX_EVENTS_PAGE))]
            cursor = page[-1].seq if page else (after or 0)
            return {
                "events": [event.to_dict() for event in page],
                "cursor": str(cursor),
                "has_more": start + len(page) < len(lock.events),
            }

    # -- the keypad ------------------------------------------------------------------------------

    def keypad(self, device_id: str, entered: str) -> AccessEvent:
        with self._guard:
            lock = self._lock(device_id)
            now = self.clock.now()
            judged = enter_code(lock, entered, now)
            self._seq += 1
            event = AccessEvent(self._seq, device_id, now, judged.result, judged.code_ref, entered, judged.reason)
            lock.events.append(event)
            self._store.append_event(event)
            self.stats.count(device_id, f"keypad_{judged.result}")
            return event
