"""The keypad at the door: grants a present code (inside its window on locks that schedule
natively), denies others, and locks itself out after repeated wrong codes.

It works whatever the network faults: a lock that doorpin cannot reach still opens for the codes
it holds. Each key-in is one event whose result is the answer the person at the door got.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from doorpin.adapters.locks.simulator.model import SimLock

GRANTED = "granted"
DENIED = "denied"
LOCKOUT = "lockout"


@dataclass(frozen=True)
class KeyIn:
    result: str
    code_ref: str | None
    reason: str | None


def enter_code(lock: SimLock, entered: str, now: datetime) -> KeyIn:
    """Judge one key-in at `now` and update the lockout bookkeeping."""
    config = lock.config
    if lock.lockout_until is not None and now < lock.lockout_until:
        return KeyIn(LOCKOUT, None, "locked_out")
    lock.lockout_until = None
    ref = lock.ref_holding(entered) if entered else None
    if ref is not None:
        code = lock.codes[ref]
        if config.native_scheduling and not code.active_at(now):
            # a known code at the wrong time: reported with its ref, not counted as a guess
            return KeyIn(DENIED, ref, "outside_window")
        lock.wrong_codes.clear()
        return KeyIn(GRANTED, ref, None)
    horizon = now - timedelta(seconds=config.lockout_window_seconds)
    lock.wrong_codes = [at for at in lock.wrong_codes if at > horizon]
    lock.wrong_codes.append(now)
    if len(lock.wrong_codes) >= config.lockout_after:
        lock.wrong_codes.clear()
        lock.lockout_until = now + timedelta(seconds=config.lockout_seconds)
        return KeyIn(LOCKOUT, None, "too_many_wrong_codes")
    return KeyIn(DENIED, None, "unknown_code")
