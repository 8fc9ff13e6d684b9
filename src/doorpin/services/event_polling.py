"""The polling job: new access events read from locks whose provider only offers a list (being built)."""

from __future__ import annotations

from doorpin.adapters.locks.pool import ProviderPool
from doorpin.bootstrap import AppServices


def poll_lock_events(app: AppServices, pool: ProviderPool, owner: str) -> int:
    return 0
