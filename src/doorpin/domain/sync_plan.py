"""Lock sync planning: what the reconciler should do with one claim, and when.

Pure rules, no I/O. The reconciler loads a claim, asks `plan`, acts, and records the outcome.
- Locks with native scheduling get a code up to `horizon` before its window, together with the
  window; they drop it at the end themselves, and doorpin removes it then to free the slot.
- Other locks get a code `lead` before `valid_from` and lose it at `valid_until`.
- Transient failures back off exponentially with jitter, up to `max_backoff`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Action(StrEnum):
    PROGRAM = "program"
    REMOVE = "remove"
    WAIT = "wait"  # nothing now; look again at `at`
    IDLE = "idle"  # nothing to do until the claim changes
    EXPIRE = "expire"  # the window ended before the code ever reached the lock


@dataclass(frozen=True)
class SyncTiming:
    lead: timedelta = timedelta(minutes=60)
    horizon: timedelta = timedelta(hours=72)
    base_backoff: timedelta = timedelta(seconds=2)
    max_backoff: timedelta = timedelta(minutes=10)
    alert_after_attempts: int = 5


@dataclass(frozen=True)
class ClaimView:
    desired: str  # present | absent
    state: str  # pending | programmed | removing | removed | failed
    valid_from: datetime
    valid_until: datetime | None
    synced_from: datetime | None  # the window the lock was last given (native scheduling)
    synced_until: datetime | None


@dataclass(frozen=True)
class Plan:
    action: Action
    at: datetime | None = None


def program_time(claim: ClaimView, native: bool, timing: SyncTiming) -> datetime:
    return claim.valid_from - (timing.horizon if native else timing.lead)


def plan(claim: ClaimView, native: bool, now: datetime, timing: SyncTiming) -> Plan:
    ended = claim.valid_until is not None and now >= claim.valid_until
    if claim.desired == "absent" or (ended and claim.state == "programmed"):
        if claim.state in ("removing", "programmed"):
            return Plan(Action.REMOVE)
        return Plan(Action.IDLE)
    if claim.state == "failed":
        return Plan(Action.IDLE)  # a permanent failure waits for a person or a change
    # Pending again after the lock was given the code (its window moved): the lock may still hold
    # it under the old window, so it can neither expire quietly nor wait for the new lead time.
    held = claim.state == "pending" and claim.synced_from is not None
    if ended:
        if claim.state == "pending":
            return Plan(Action.REMOVE) if held else Plan(Action.EXPIRE)
        return Plan(Action.IDLE)
    if claim.state == "programmed":
        window_moved = native and (claim.synced_from, claim.synced_until) != (claim.valid_from, claim.valid_until)
        if window_moved:
            return Plan(Action.PROGRAM)
        return Plan(Action.WAIT, claim.valid_until) if claim.valid_until is not None else Plan(Action.IDLE)
    start = program_time(claim, native, timing)
    if now < start:
        if held:  # a native lock takes the new window now; any other lock would open too early
            return Plan(Action.PROGRAM) if native else Plan(Action.REMOVE)
        return Plan(Action.WAIT, start)
    return Plan(Action.PROGRAM)


def backoff(attempts: int, timing: SyncTiming, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter: uniform in [base, min(max, base * 2^attempts)]."""
    rng = rng or random.Random()  # noqa: S311 - jitter, not security
    ceiling = min(timing.max_backoff.total_seconds(), timing.base_backoff.total_seconds() * 2 ** min(attempts, 30))
    floor = timing.base_backoff.total_seconds()
    return timedelta(seconds=rng.uniform(floor, max(floor, ceiling)))
