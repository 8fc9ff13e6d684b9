"""The stay (reservation) lifecycle: which status changes a PMS may make."""

from __future__ import annotations

from enum import StrEnum

from doorpin.domain.errors import DomainError


class StayStatus(StrEnum):
    CONFIRMED = "CONFIRMED"
    IN_HOUSE = "IN_HOUSE"
    CHECKED_OUT = "CHECKED_OUT"
    CANCELED = "CANCELED"
    NO_SHOW = "NO_SHOW"


# CHECKED_OUT, CANCELED and NO_SHOW are final: their codes have been revoked, and bringing a
# stay back would silently re-open doors. A PMS that reinstates a booking creates a new stay.
_ALLOWED: dict[StayStatus, frozenset[StayStatus]] = {
    StayStatus.CONFIRMED: frozenset(
        {StayStatus.IN_HOUSE, StayStatus.CANCELED, StayStatus.NO_SHOW, StayStatus.CHECKED_OUT}
    ),
    StayStatus.IN_HOUSE: frozenset({StayStatus.CHECKED_OUT}),
    StayStatus.CHECKED_OUT: frozenset(),
    StayStatus.CANCELED: frozenset(),
    StayStatus.NO_SHOW: frozenset(),
}

LIVE_STATUSES = frozenset({StayStatus.CONFIRMED, StayStatus.IN_HOUSE})


def allowed_next(status: StayStatus) -> frozenset[StayStatus]:
    return _ALLOWED[status]


def check_transition(current: StayStatus, new: StayStatus) -> None:
    """Raise `invalid_transition` unless a stay may move from `current` to `new` (same = no-op)."""
    if new == current or new in _ALLOWED[current]:
        return
    allowed = ", ".join(sorted(_ALLOWED[current])) or "none: the status is final"
    raise DomainError(
        "invalid_transition",
        f"a {current.value} reservation cannot become {new.value} (allowed: {allowed})",
        "status",
    )
