"""docs/access-events.md names every attribution and every alert an access event can raise."""

from __future__ import annotations

import re
from pathlib import Path

from doorpin.domain.access_alerts import AlertKind
from doorpin.domain.access_attribution import Attribution

DOC = Path(__file__).resolve().parents[2] / "docs" / "access-events.md"


def first_column(section: str) -> set[str]:
    """The `names` in the first column of the section's table."""
    body = DOC.read_text(encoding="utf-8").split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in body.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([a-z_]+)`", row.split("|")[1])}


def test_every_alert_rule_is_documented() -> None:
    assert first_column("Alerts") == {kind.value for kind in AlertKind}


def test_every_attribution_is_documented() -> None:
    assert first_column("Attribution") == {value.value for value in Attribution}
