"""The event types integrators can subscribe to, and how a subscription's list matches them."""

from __future__ import annotations

from collections.abc import Iterable

EVENT_TYPES: tuple[str, ...] = (
    "reservation.pin_changed",
    "access_code.programmed",
    "access_code.failed",
    "access_code.removed",
    "access.granted",
    "access.denied",
    "alert.raised",
    "delivery.failed",
)

WILDCARD = "*"


def is_pattern(value: str) -> bool:
    """A subscription lists exact types, a family such as `access.*`, or `*` for everything."""
    if value == WILDCARD or value in EVENT_TYPES:
        return True
    if value.endswith(".*"):
        family = value[:-1]
        return any(name.startswith(family) for name in EVENT_TYPES)
    return False


def matches(patterns: Iterable[str], event_type: str) -> bool:
    for pattern in patterns:
        if pattern in (WILDCARD, event_type):
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False
