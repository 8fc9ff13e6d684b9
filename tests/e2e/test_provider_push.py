"""Acceptance, over HTTP against a real `doorpin serve`: a door provider pushes access events to
its signed endpoint with the signing code from docs/access-events.md. The same event pushed twice
is stored once; a forged, a stale and a replayed push are refused and store nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import LiveServer, call

pytestmark = pytest.mark.e2e

DOCS = Path(__file__).resolve().parents[2] / "docs" / "access-events.md"
Signer = Callable[[str, list[dict[str, Any]]], tuple[bytes, dict[str, str]]]


def documented_signer() -> Signer:
    """`signed_request` exactly as the docs print it."""
    text = DOCS.read_text(encoding="utf-8")
    block = re.search(r"^```python\n(.*?)^```", text[text.index("<!-- sign-snippet") :], re.DOTALL | re.MULTILINE)
    assert block is not None
    namespace: dict[str, Any] = {}
    exec(compile(block.group(1), str(DOCS), "exec"), namespace)
    signer: Signer = namespace["signed_request"]
    return signer


def signed_at(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "Doorpin-Signature": f"t={timestamp},v1={mac}"}


def test_pushed_events_are_stored_once_and_forged_or_replayed_pushes_refused(live_server: LiveServer) -> None:
    server = live_server
    prop = call(server, "POST", "/v1/properties", {"name": "Quay", "timezone": "UTC"}, 201)
    door = call(server, "POST", f"/v1/properties/{prop['id']}/locks", {"name": "Gate", "provider": "keypad"}, 201)
    endpoint = call(server, "POST", "/v1/provider-endpoints", {"provider": "keypad"}, 201)
    url = f"{server.base_url}/v1/provider-events/{endpoint['id']}"
    sign = documented_signer()
    key_in = {
        "lock_id": door["id"],
        "id": f"gate-{time.time_ns()}",
        "occurred_at": datetime.now(UTC).isoformat(),
        "result": "denied",
        "pin": "90210",
        "reason": "unknown_code",
    }

    with httpx.Client(timeout=10) as provider:
        body, headers = sign(endpoint["secret"], [key_in])
        first = provider.post(url, content=body, headers=headers)
        assert first.status_code == 200, first.text
        assert first.json()["stored"] == 1

        # The provider retries the same event in a new, freshly signed request: stored once.
        time.sleep(1.1)
        body_again, headers_again = sign(endpoint["secret"], [key_in])
        retried = provider.post(url, content=body_again, headers=headers_again)
        assert retried.status_code == 200, retried.text
        assert (retried.json()["stored"], retried.json()["duplicates"]) == (0, 1)

        # Someone who captured the first request sends it again, byte for byte: a replay.
        replayed = provider.post(url, content=body, headers=headers)
        assert (replayed.status_code, replayed.json()["error"]["code"]) == (401, "unauthenticated")

        other = {**key_in, "id": "forged-1"}
        forged_body = json.dumps({"events": [other]}).encode()
        forged = provider.post(
            url, content=forged_body, headers=signed_at("not-the-secret", forged_body, int(time.time()))
        )
        assert (forged.status_code, forged.json()["error"]["code"]) == (401, "unauthenticated")
        stale = provider.post(
            url, content=forged_body, headers=signed_at(endpoint["secret"], forged_body, int(time.time()) - 3600)
        )
        assert (stale.status_code, stale.json()["error"]["code"]) == (401, "unauthenticated")
        tampered = provider.post(url, content=forged_body, headers=headers_again)  # a signature for other bytes
        assert tampered.status_code == 401

    events = call(server, "GET", f"/v1/events?type=access&property_id={prop['id']}")["data"]
    assert [(e["data"]["lock_id"], e["data"]["result"], e["data"]["source"]) for e in events] == [
        (door["id"], "denied", "provider_webhook")
    ]
    assert "90210" not in json.dumps(events)
