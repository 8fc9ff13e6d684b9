"""README.md's "A short tour" runs, as written, against a live server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.server import LiveServer

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"


def tour_script() -> str:
    """The ```sh block that follows the `<!-- tour: ... -->` marker."""
    match = re.search(r"<!-- tour:[^\n]*-->\s*\n```sh\n(.*?)\n```", README.read_text(), re.DOTALL)
    assert match, "README.md has no ```sh block right after a <!-- tour: ... --> marker"
    return match.group(1)


def test_the_tour_block_is_found_and_uses_only_curl_and_field() -> None:
    script = tour_script()
    assert "curl " in script
    commands = {
        line.split()[0]
        for line in script.splitlines()
        if line.strip() and not line.startswith((" ", "#")) and "=" not in line.split()[0]
    }
    assert commands <= {"curl", "field()"}, commands


def test_the_readme_tour_runs_against_a_live_server(live_server: LiveServer, tmp_path: Path) -> None:
    key = live_server.new_account("tour").api_key
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DOORPIN_")},
        "BASE": live_server.base_url,
        "KEY": key,
        # `field` runs python3: make it this interpreter, whatever is first on the PATH.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", tour_script()],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = result.stdout
    assert result.returncode == 0, f"exit {result.returncode}\n--- stdout\n{output}\n--- stderr\n{result.stderr}"
    # Check-in on 2026-10-24 at 15:00 in Lisbon, still on summer time (UTC+1).
    assert '"check_in":"2026-10-24T15:00:00+01:00"' in output, output
    # The day after the clocks go back: check-out at 11:00 is UTC+0.
    assert '"check_out":"2026-10-26T11:00:00+00:00"' in output, output
    # The external_ref filter finds exactly the stay.
    assert re.search(r'\{"data":\[\{"id":"res_[0-9a-z]+"[^\n]*"external_ref":"4711"', output), output
    assert output.count('"external_ref":"4711"') == 2, output  # the GET and the filtered list
    assert '"code":"invalid_window"' in output, output
    # The audit trail tells the PIN's life: assigned, shown to the key that created the stay, revoked.
    for action in ("pin.assigned", "pin.revealed", "pin.revoked"):
        assert f'"type":"audit.{action}"' in output, output
    assert result.stderr == "", result.stderr
