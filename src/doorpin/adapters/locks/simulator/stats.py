"""Counters of what the hub served since it started (not persisted): hub-wide and per lock.

`program` counts PUT requests; `program_applied` counts the ones that changed a lock's memory
(a new code, or a new PIN or window for the same ref). "Programmed exactly once" is
`program_applied == 1` for that lock, however many times the reconciler retried.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from typing import Any

DEVICE_COMMANDS = ("program", "remove", "list_codes", "events")


class Stats:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._totals: Counter[str] = Counter()
        self._locks: defaultdict[str, Counter[str]] = defaultdict(Counter)

    def count(self, device_id: str, key: str) -> None:
        with self._guard:
            self._totals[key] += 1
            self._locks[device_id][key] += 1

    def reset(self) -> None:
        with self._guard:
            self._totals.clear()
            self._locks.clear()

    def snapshot(self) -> dict[str, Any]:
        with self._guard:
            return {
                "commands": sum(self._totals[name] for name in DEVICE_COMMANDS),
                "counters": dict(sorted(self._totals.items())),
                "locks": {
                    device_id: {
                        "commands": sum(counter[name] for name in DEVICE_COMMANDS),
                        "counters": dict(sorted(counter.items())),
                    }
                    for device_id, counter in sorted(self._locks.items())
                },
            }
