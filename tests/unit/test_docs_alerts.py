"""docs/alerts-and-events.md names every alert doorpin raises, and only those."""

from __future__ import annotations

import re
from pathlib import Path

from doorpin.adapters.locks.base import PERMANENT, ErrorCode
from doorpin.domain.access_alerts import AlertKind

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "alerts-and-events.md"
CODE_KINDS = {"guest", "staff", "cleaning", "maintenance", "technical", "event", "backup", "delivery"}


def documented_kinds() -> set[str]:
    section = DOC.read_text().split("## Alerts", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([a-z_]+)`", row.split("|")[1])}


def raised_kinds() -> set[str]:
    """Alert kinds written as literals where alerts are raised, the access-event rules' kinds, and
    those taken from error codes: a lock's permanent refusals (and provider errors) and the
    reasons a stay gets no PIN."""
    literals = set()
    for path in (ROOT / "src" / "doorpin" / "services").rglob("*.py"):
        literals |= set(re.findall(r'\bkind="([a-z_]+)"', path.read_text()))
    from_errors = {code.value for code in PERMANENT} | {ErrorCode.PROVIDER_ERROR.value}
    from_rules = {kind.value for kind in AlertKind}
    return (literals - CODE_KINDS) | from_rules | from_errors | {"code_space_exhausted", "code_constraints_violated"}


def test_every_alert_kind_is_documented_and_nothing_else() -> None:
    assert documented_kinds() == raised_kinds()
