"""Guest page rate limits on a real `doorpin serve`: per client address, and X-Forwarded-For only
from the proxies DOORPIN_TRUSTED_PROXIES names (uvicorn's own proxy handling is off)."""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import SECRET_KEY, doorpin_env, free_port, run_doorpin, running_server

pytestmark = pytest.mark.e2e


def guesses(base_url: str, count: int, forwarded_for: list[str] | None = None) -> list[int]:
    with httpx.Client(base_url=base_url, timeout=30.0) as http:
        statuses = []
        for i in range(count):
            headers = {"X-Forwarded-For": forwarded_for[i % len(forwarded_for)]} if forwarded_for else {}
            response = http.get(f"/g/{secrets.token_urlsafe(32)}", headers=headers)
            assert response.headers["cache-control"] == "no-store"
            if response.status_code == 429:
                assert int(response.headers["retry-after"]) >= 1
            statuses.append(response.status_code)
        return statuses


def test_a_hundred_wrong_tokens_get_429_whatever_x_forwarded_for_claims(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'doorpin.db'}"
    with running_server("sqlite", url, tmp_path, secret_key=SECRET_KEY) as server:
        spoofed = [f"203.0.113.{i}" for i in range(1, 101)]
        statuses = guesses(server.base_url, 100, spoofed)
        assert 429 in statuses, "made-up X-Forwarded-For addresses escaped the limit"
        first_429 = statuses.index(429)
        assert first_429 <= 5, statuses
        assert statuses[first_429:] == [429] * (100 - first_429)
        tokens_in_log = [line for line in server.log_text().splitlines() if "/g/" in line and "{token}" not in line]
        assert tokens_in_log == [], "request logs name the route template, never a guest page's path"


def test_x_forwarded_for_names_the_client_behind_a_trusted_proxy(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'doorpin.db'}"
    extra = {"DOORPIN_TRUSTED_PROXIES": "127.0.0.1, ::1"}
    with running_server("sqlite", url, tmp_path, secret_key=SECRET_KEY, extra_env=extra) as server:
        # Sixty guests behind the proxy, one wrong link each: nobody is limited for the others.
        assert guesses(server.base_url, 60, [f"203.0.113.{i}" for i in range(1, 61)]) == [404] * 60
        # One of them guessing on: limited, although the proxy's own address is the same for all.
        assert 429 in guesses(server.base_url, 10, ["198.51.100.7"])


def test_a_malformed_trusted_proxy_list_stops_start_up_with_one_line(tmp_path: Path) -> None:
    env = doorpin_env(f"sqlite:///{tmp_path / 'doorpin.db'}", SECRET_KEY, DOORPIN_TRUSTED_PROXIES="10.0.0.0/8, proxy")
    result: subprocess.CompletedProcess[str] = run_doorpin(
        ["serve", "--no-worker", "--port", str(free_port())], env, tmp_path, timeout=30
    )
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("doorpin: DOORPIN_TRUSTED_PROXIES must list IP addresses or networks"), lines
    assert "'proxy'" in lines[0]
    assert not (tmp_path / "doorpin.db").exists()
