"""Weekly schedules for staff codes: `[{"days": ["mon", "tue"], "from": "08:00", "to": "17:00"}]`.

Times are the property's wall clock. A window whose `to` is earlier than its `from` runs
overnight into the next day (a night porter's 22:00-06:00).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from doorpin.domain.errors import DomainError
from doorpin.domain.local_time import format_time_of_day, parse_time_of_day

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_WINDOWS = 28


@dataclass(frozen=True)
class WeeklyWindow:
    days: tuple[str, ...]
    start: time
    end: time

    def to_mapping(self) -> dict[str, Any]:
        return {"days": list(self.days), "from": format_time_of_day(self.start), "to": format_time_of_day(self.end)}

    def is_open(self, local: datetime) -> bool:
        """Whether a property-local wall-clock moment falls in this window."""
        day = DAYS[local.weekday()]
        previous = DAYS[(local.weekday() - 1) % 7]
        now = local.time()
        if self.start < self.end:
            return day in self.days and self.start <= now < self.end
        # Overnight: open from `start` on a listed day until `end` the next morning.
        return (day in self.days and now >= self.start) or (previous in self.days and now < self.end)


def parse_schedule(raw: Sequence[Mapping[str, Any]], field: str = "schedule") -> list[WeeklyWindow]:
    if len(raw) > MAX_WINDOWS:
        raise DomainError("validation_error", f"at most {MAX_WINDOWS} schedule windows", field)
    windows = []
    for index, item in enumerate(raw):
        where = f"{field}.{index}"
        days = item.get("days")
        if not isinstance(days, list | tuple) or not days or any(d not in DAYS for d in days):
            raise DomainError(
                "validation_error", f"days must be a non-empty list of {', '.join(DAYS)}", f"{where}.days"
            )
        start = parse_time_of_day(str(item.get("from", "")), f"{where}.from")
        end = parse_time_of_day(str(item.get("to", "")), f"{where}.to")
        if start == end:
            raise DomainError("validation_error", "a schedule window must not start and end at the same time", where)
        windows.append(WeeklyWindow(tuple(dict.fromkeys(days)), start, end))
    return windows


def is_open(schedule: Sequence[WeeklyWindow], local: datetime) -> bool:
    """No schedule means always open (within the code's start and end)."""
    return not schedule or any(window.is_open(local) for window in schedule)
