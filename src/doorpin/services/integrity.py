"""The integrity sweep: live codes checked for clashes on a lock (being built)."""

from __future__ import annotations

from doorpin.bootstrap import AppServices


def sweep_code_clashes(app: AppServices) -> int:
    return 0
