"""Property-local wall-clock time <-> instants.

Every window doorpin stores is an instant in UTC. Operators and guests think in the
property's wall clock: "check-in 15:00 on 2026-10-25 in Europe/Berlin". These functions
convert between the two with `zoneinfo`, never with the server's local time.

DST rules (API.md): a wall time that does not exist (spring-forward gap) moves forward by
the length of the gap; an ambiguous one (fall-back overlap) takes its first occurrence.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from doorpin.domain.errors import DomainError

_NOT_ZONES = frozenset({"localtime", "posixrules"})


def load_timezone(name: str) -> ZoneInfo:
    """The IANA zone called `name`, or `invalid_timezone`."""
    # "localtime" and "posixrules" are files in the system zone directory, not IANA zones: the
    # first is the server's own zone, which must never decide a property's wall clock.
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name or name in _NOT_ZONES:
        raise DomainError("invalid_timezone", "timezone must be an IANA zone such as Europe/Paris", "timezone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise DomainError(
            "invalid_timezone",
            f"unknown time zone {name!r}; use an IANA zone such as Europe/Paris",
            "timezone",
        ) from None


def parse_time_of_day(value: str, field: str) -> time:
    """A wall-clock time written "HH:MM" (24 h)."""
    parts = value.split(":")
    if len(parts) != 2 or not all(len(p) == 2 and p.isascii() and p.isdigit() for p in parts):
        raise DomainError("validation_error", "expected a time of day as HH:MM, e.g. 15:00", field)
    hour, minute = int(parts[0]), int(parts[1])
    if hour > 23 or minute > 59:
        raise DomainError("validation_error", "expected a time of day as HH:MM, e.g. 15:00", field)
    return time(hour, minute)


def format_time_of_day(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def wall_to_instant(wall: datetime, tz: ZoneInfo) -> datetime:
    """A naive wall-clock time in `tz` as a UTC instant (gap: forward, overlap: first)."""
    if wall.tzinfo is not None:
        raise ValueError("wall_to_instant takes a naive datetime")
    # fold=0 is the first occurrence of an ambiguous time and, for a time in a gap, uses the
    # offset in force before the transition, which lands after the gap: "moves forward".
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


def local_date_to_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """`day` at wall time `at` in `tz`, as a UTC instant."""
    return wall_to_instant(datetime.combine(day, at), tz)


def to_instant(value: date | datetime, tz: ZoneInfo, default_time: time) -> datetime:
    """Read an API input: a local date (with the default time), a naive local datetime, or an aware one."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return wall_to_instant(value, tz)
        return value.astimezone(UTC)
    return local_date_to_instant(value, default_time, tz)


def local_day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants where the property-local `day` starts and the next day starts."""
    start = local_date_to_instant(day, time(0, 0), tz)
    end = local_date_to_instant(day + timedelta(days=1), time(0, 0), tz)
    return start, end


def in_zone(instant: datetime, tz: ZoneInfo) -> datetime:
    """`instant` shown on the property's wall clock, with its UTC offset."""
    if instant.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return instant.astimezone(tz)
