"""The lock-provider port: what the reconciler asks of any door system.

A provider is a class registered by name under the `doorpin.lock_providers` entry-point group,
so a third party can add one from its own package. Calls are synchronous and each does one
thing on one lock; the reconciler decides what to do, when, and how often to retry.

Every call answers with a typed outcome instead of raising:
- `Done`: the lock now holds (or no longer holds) the code;
- `RetryLater`: a transient failure (`timeout`, `device_offline`, `rate_limited`, …), to retry
  with backoff, optionally not before `retry_after` seconds;
- `PermanentFailure`: retrying the same command cannot help (`code_constraints_violated`,
  `duplicate_code_on_device`, `no_space_on_device`): stop and alert a person.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable


class ErrorCode(StrEnum):
    # permanent
    CODE_CONSTRAINTS_VIOLATED = "code_constraints_violated"
    DUPLICATE_CODE_ON_DEVICE = "duplicate_code_on_device"
    NO_SPACE_ON_DEVICE = "no_space_on_device"
    NOT_SUPPORTED = "not_supported"
    # transient
    TIMEOUT = "timeout"
    DEVICE_OFFLINE = "device_offline"
    RATE_LIMITED = "rate_limited"
    PROVIDER_ERROR = "provider_error"


PERMANENT = frozenset(
    {
        ErrorCode.CODE_CONSTRAINTS_VIOLATED,
        ErrorCode.DUPLICATE_CODE_ON_DEVICE,
        ErrorCode.NO_SPACE_ON_DEVICE,
        ErrorCode.NOT_SUPPORTED,
    }
)


@dataclass(frozen=True)
class LockRef:
    """A lock as a provider sees it: doorpin's id, the provider's device id and settings."""

    lock_id: str
    device_id: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    native_scheduling: bool = False


@dataclass(frozen=True)
class CodeSpec:
    """A code to put on a lock. `ref` is doorpin's claim id: the name the code carries on the
    device, so a later read-back tells doorpin's codes from codes put there by others."""

    ref: str
    pin: str
    starts_at: datetime | None = None  # sent only to locks with native scheduling
    ends_at: datetime | None = None


@dataclass(frozen=True)
class Done:
    slot: int | None = None


@dataclass(frozen=True)
class RetryLater:
    code: ErrorCode
    message: str
    retry_after: float | None = None


@dataclass(frozen=True)
class PermanentFailure:
    code: ErrorCode
    message: str


Outcome = Done | RetryLater | PermanentFailure


@dataclass(frozen=True)
class DeviceCode:
    """A code found on a device by read-back. `ref` is None for codes without a name."""

    ref: str | None
    pin: str
    slot: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None


@dataclass(frozen=True)
class DeviceEvent:
    """An access event as the device reports it."""

    event_id: str
    occurred_at: datetime
    result: str  # granted | denied | lockout
    code_ref: str | None = None
    pin: str | None = None  # the digits entered, when the device reports them; never stored in clear
    reason: str | None = None  # the device's word for it: unknown_code, outside_window, locked_out, ...


@dataclass(frozen=True)
class DeviceEvents:
    events: Sequence[DeviceEvent]
    cursor: str | None  # pass back to get only newer events
    has_more: bool = False  # the device holds more events after this page: ask again now


@runtime_checkable
class LockProvider(Protocol):
    name: str

    def program(self, lock: LockRef, code: CodeSpec) -> Outcome:
        """Put `code` on the lock (idempotent: programming the same ref twice is not an error)."""
        ...

    def remove(self, lock: LockRef, ref: str) -> Outcome:
        """Take the code named `ref` off the lock (idempotent: an absent code is Done)."""
        ...

    def list_codes(self, lock: LockRef) -> Sequence[DeviceCode] | RetryLater:
        """Read back what the lock holds now."""
        ...

    def fetch_events(self, lock: LockRef, cursor: str | None) -> DeviceEvents | RetryLater:
        """Access events newer than `cursor` (from the oldest the device keeps when None), oldest first.

        A provider with no device event list (its doors report nowhere doorpin can read) sets the
        class attribute `polls_events = False`; the poller then leaves its locks alone.
        """
        ...

    def close(self) -> None:
        """Release connections."""
        ...
