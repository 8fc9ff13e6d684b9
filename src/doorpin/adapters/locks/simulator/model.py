"""What a simulated keypad lock is made of: its configuration, fault knobs, codes and events.

Plain data, serialisable to JSON-friendly dicts for the state file. Times are UTC instants.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

DEFAULT_CODE_LENGTHS = (4, 5, 6, 7, 8)


class HubError(Exception):
    """A refusal the hub answers with `{"error": {"code", "message"}}` and this HTTP status."""

    def __init__(self, status: int, code: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


def utc(value: datetime) -> datetime:
    """An aware UTC datetime; naive values are taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    return None if value is None else utc(value).isoformat()


def parse_iso(value: str | None) -> datetime | None:
    return None if value is None else utc(datetime.fromisoformat(value))


@dataclass(frozen=True)
class LockConfig:
    slots: int = 20
    code_lengths: tuple[int, ...] = DEFAULT_CODE_LENGTHS
    native_scheduling: bool = False
    lockout_after: int = 5  # wrong codes ...
    lockout_window_seconds: float = 60.0  # ... within this long ...
    lockout_seconds: float = 60.0  # ... lock the keypad this long

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["code_lengths"] = list(self.code_lengths)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LockConfig:
        return cls(**{**data, "code_lengths": tuple(data.get("code_lengths", DEFAULT_CODE_LENGTHS))})


@dataclass(frozen=True)
class Faults:
    """Fault knobs of one lock. `PUT /locks/{id}/faults` replaces them all (omitted = off)."""

    offline: bool = False  # unreachable until set back to false
    offline_until: datetime | None = None  # unreachable until this instant of the hub clock
    error_rate: float = 0.0  # share of commands answered 503 `transient_error`, not applied
    lost_reply_rate: float = 0.0  # share of writes applied, then answered 503 `transient_error`
    latency_ms: int = 0  # each command waits a random time up to this long ...
    latency_min_ms: int = 0  # ... and at least this long
    memory_full: bool = False  # 507 `no_space_on_device` on any new code
    lie_on_store: bool = False  # PUT of a code answers 200 but stores nothing
    lie_on_remove: bool = False  # DELETE of a code answers 200 but keeps it
    rate_limit: int | None = None  # at most this many commands ...
    rate_limit_window_seconds: float = 1.0  # ... per this many seconds (real time), else 429

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["offline_until"] = iso(self.offline_until)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Faults:
        return cls(**{**data, "offline_until": parse_iso(data.get("offline_until"))})

    def offline_at(self, now: datetime) -> bool:
        return self.offline or (self.offline_until is not None and now < self.offline_until)


@dataclass
class StoredCode:
    ref: str
    slot: int
    pin: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "slot": self.slot,
            "pin": self.pin,
            "starts_at": iso(self.starts_at),
            "ends_at": iso(self.ends_at),
        }

    def active_at(self, now: datetime) -> bool:
        return (self.starts_at is None or self.starts_at <= now) and (self.ends_at is None or now < self.ends_at)


@dataclass(frozen=True)
class AccessEvent:
    seq: int  # hub-wide, increasing: the events cursor
    device_id: str
    occurred_at: datetime
    result: str  # granted | denied | lockout
    code_ref: str | None
    pin: str
    reason: str | None = None  # unknown_code | outside_window | too_many_wrong_codes | locked_out

    @property
    def event_id(self) -> str:
        return f"ev_{self.seq}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.event_id,
            "occurred_at": iso(self.occurred_at),
            "result": self.result,
            "code_ref": self.code_ref,
            "pin": self.pin,
            "reason": self.reason,
        }


@dataclass
class SimLock:
    """One lock's memory and keypad state. Lockout bookkeeping is volatile (a reboot clears it)."""

    device_id: str
    config: LockConfig = field(default_factory=LockConfig)
    faults: Faults = field(default_factory=Faults)
    codes: dict[str, StoredCode] = field(default_factory=dict)  # by ref
    events: list[AccessEvent] = field(default_factory=list)  # by seq
    wrong_codes: list[datetime] = field(default_factory=list)
    lockout_until: datetime | None = None
    recent_commands: list[float] = field(default_factory=list)  # monotonic times, for rate_limit

    def ref_holding(self, pin: str) -> str | None:
        for code in self.codes.values():
            if code.pin == pin:
                return code.ref
        return None

    def free_slot(self) -> int | None:
        used = {code.slot for code in self.codes.values()}
        return next((slot for slot in range(1, self.config.slots + 1) if slot not in used), None)

    def summary(self) -> dict[str, Any]:
        return {
            "device_id": self.device_id,
            **self.config.to_dict(),
            "codes": len(self.codes),
            "free_slots": self.config.slots - len(self.codes),
            "faults": self.faults.to_dict(),
            "lockout_until": iso(self.lockout_until),
        }
