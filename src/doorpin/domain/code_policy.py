"""A property's code policy: how long PINs are, who shares them, and how strict doorpin is.

Every field is validated on construction, so a `CodePolicy` that exists is a valid one. Errors are
`DomainError("validation_error", ..., field="code_policy.<name>")`, which the API answers with 422.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import timedelta
from enum import StrEnum
from typing import Any

from doorpin.domain.errors import DomainError

MIN_PIN_LENGTH = 4
MAX_PIN_LENGTH = 8
MAX_REUSE_COOLDOWN_HOURS = 8760  # one year
MAX_WINDOW_SHIFT_MINUTES = 1440  # one day


class PinScope(StrEnum):
    """Who a PIN belongs to: one stay, or the unit (shared by every stay in it)."""

    RESERVATION = "reservation"
    UNIT = "unit"


class WeakPinPolicy(StrEnum):
    """What happens to a weak custom PIN: refused (`pin_too_weak`) or accepted with a warning."""

    REJECT = "reject"
    WARN = "warn"


def _invalid(name: str, message: str) -> DomainError:
    return DomainError("validation_error", message, field=f"code_policy.{name}")


@dataclass(frozen=True)
class CodePolicy:
    """The `code_policy` of a property (see API.md).

    `length` is the length of *generated* PINs; a PIN set through the API may have any length from
    `MIN_PIN_LENGTH` to `MAX_PIN_LENGTH` that every lock it opens accepts.
    `refuse_guess_probability` / `warn_guess_probability` bound the chance that one random guess
    opens a lock (active codes / 10**length); see `doorpin.domain.clash.space_verdict`.
    String values for the two enums are accepted and converted (`pin_scope="unit"`).
    """

    length: int = 6
    pin_scope: PinScope = PinScope.RESERVATION
    reuse_cooldown_hours: int = 72
    weak_pins: WeakPinPolicy = WeakPinPolicy.REJECT
    activate_before_minutes: int = 0
    expire_after_minutes: int = 0
    refuse_guess_probability: float = 0.01
    warn_guess_probability: float = 0.001

    def __post_init__(self) -> None:
        self._check_int("length", MIN_PIN_LENGTH, MAX_PIN_LENGTH)
        self._coerce_enum("pin_scope", PinScope)
        self._check_int("reuse_cooldown_hours", 0, MAX_REUSE_COOLDOWN_HOURS)
        self._coerce_enum("weak_pins", WeakPinPolicy)
        self._check_int("activate_before_minutes", 0, MAX_WINDOW_SHIFT_MINUTES)
        self._check_int("expire_after_minutes", 0, MAX_WINDOW_SHIFT_MINUTES)
        self._check_probability("refuse_guess_probability")
        self._check_probability("warn_guess_probability")
        if self.warn_guess_probability > self.refuse_guess_probability:
            raise _invalid(
                "warn_guess_probability",
                "warn_guess_probability must not be above refuse_guess_probability",
            )

    @property
    def reuse_cooldown(self) -> timedelta:
        return timedelta(hours=self.reuse_cooldown_hours)

    @property
    def activate_before(self) -> timedelta:
        return timedelta(minutes=self.activate_before_minutes)

    @property
    def expire_after(self) -> timedelta:
        return timedelta(minutes=self.expire_after_minutes)

    def to_mapping(self) -> dict[str, Any]:
        """JSON-ready form (enums as their string values), the inverse of `from_mapping`."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> CodePolicy:
        """Build from JSON; absent keys take their defaults, unknown keys are a validation error."""
        known = {f.name for f in fields(cls)}
        for name in data:
            if name not in known:
                raise _invalid(str(name), f"unknown code_policy field {str(name)!r}")
        return cls(**dict(data))

    def _check_int(self, name: str, low: int, high: int) -> None:
        value = getattr(self, name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _invalid(name, f"{name} must be a whole number")
        if not low <= value <= high:
            raise _invalid(name, f"{name} must be between {low} and {high}")

    def _coerce_enum(self, name: str, enum: type[PinScope] | type[WeakPinPolicy]) -> None:
        value = getattr(self, name)
        allowed = ", ".join(repr(member.value) for member in enum)
        if not isinstance(value, str):
            raise _invalid(name, f"{name} must be one of {allowed}")
        try:
            member = enum(value)
        except ValueError:
            raise _invalid(name, f"{name} must be one of {allowed}") from None
        object.__setattr__(self, name, member)

    def _check_probability(self, name: str) -> None:
        value = getattr(self, name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _invalid(name, f"{name} must be a number")
        if not (math.isfinite(value) and 0 < value <= 1):
            raise _invalid(name, f"{name} must be above 0 and at most 1")
        object.__setattr__(self, name, float(value))


def _plain(value: object) -> object:
    return value.value if isinstance(value, StrEnum) else value
