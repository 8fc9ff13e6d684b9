"""The hub's clock: real time plus an offset that tests set, so windows and lockouts can be checked."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from doorpin.adapters.locks.simulator.model import utc


def _real_now() -> datetime:
    return datetime.now(UTC)


class SimClock:
    """Keeps ticking with real time; `set_now` and `set_offset` only move where it reads."""

    def __init__(self, offset_seconds: float = 0.0, real_now: Callable[[], datetime] = _real_now) -> None:
        self._offset = timedelta(seconds=offset_seconds)
        self._real_now = real_now
        self._guard = threading.Lock()

    def now(self) -> datetime:
        with self._guard:
            return self._real_now() + self._offset

    @property
    def offset_seconds(self) -> float:
        with self._guard:
            return self._offset.total_seconds()

    def set_offset(self, seconds: float) -> None:
        with self._guard:
            self._offset = timedelta(seconds=seconds)

    def set_now(self, now: datetime) -> None:
        with self._guard:
            self._offset = utc(now) - self._real_now()
