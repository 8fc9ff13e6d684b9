"""Acceptance: `doorpin serve` (API and embedded worker) tells a subscribed receiver that a stay got
its PIN. The receiver fails the first three tries; it ends up with the event exactly once
accepted, every try carrying the same event id and a signature that the code published in
docs/webhooks.md accepts."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.server import BACKENDS, LiveServer, call, serving_with_worker
from tests.support.webhook_docs import documented_verifier
from tests.support.webhook_receiver import ReceivedRequest, webhook_receiver

pytestmark = pytest.mark.e2e
DEADLINE_SECONDS = 30.0


@pytest.fixture(scope="module", params=BACKENDS)
def serving(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serving_with_worker(
        str(request.param), tmp_path_factory, "webhooks", {"DOORPIN_WEBHOOK_RETRY_BASE_SECONDS": "0.2"}
    ) as server:
        yield server


def test_a_pin_assignment_reaches_a_flaky_receiver_exactly_once(serving: LiveServer) -> None:
    with webhook_receiver(fail_first=3, fail_status=503) as receiver:
        webhook = call(
            serving, "POST", "/v1/webhooks", {"url": receiver.url, "events": ["reservation.pin_changed"]}, 201
        )
        secret = webhook["secret"]
        prop = call(serving, "POST", "/v1/properties", {"name": "Quay", "timezone": "Europe/Lisbon"}, 201)
        door = call(serving, "POST", f"/v1/properties/{prop['id']}/locks", {"name": "Room 1"}, 201)
        unit = call(
            serving, "POST", f"/v1/properties/{prop['id']}/units", {"name": "Room 1", "lock_ids": [door["id"]]}, 201
        )
        today = datetime.now(UTC).date()
        booking = {
            "property_id": prop["id"],
            "unit_id": unit["id"],
            "external_ref": "PMS-4711",
            "check_in": (today + timedelta(days=3)).isoformat(),
            "check_out": (today + timedelta(days=5)).isoformat(),
        }
        stay = call(serving, "POST", "/v1/reservations", booking, 201)
        pin = stay["access"]["pin"]
        assert pin.isdigit()

        def accepted_once(requests: list[ReceivedRequest]) -> bool:
            return any(r.answered == 200 for r in requests)

        receiver.wait_for(accepted_once, timeout=DEADLINE_SECONDS)
        time.sleep(2)  # a second success, if any, would arrive meanwhile
        requests = receiver.requests

    assert [r.answered for r in requests] == [503, 503, 503, 200]
    verify_signature = documented_verifier()
    event_ids = set()
    for request in requests:
        assert verify_signature(secret, request.body, request.headers["doorpin-signature"])
        body = json.loads(request.body)
        event_ids.add(body["id"])
        assert body["type"] == "reservation.pin_changed"
        assert body["data"]["reservation_id"] == stay["id"]
        assert body["data"]["external_ref"] == "PMS-4711"
        assert pin.encode() not in request.body
        assert request.headers["doorpin-event-id"] == body["id"]
    assert len(event_ids) == 1
    assert len({r.body for r in requests}) == 1

    [logged] = call(serving, "GET", f"/v1/webhooks/{webhook['id']}/deliveries")["data"]
    assert (logged["status"], logged["attempt_count"]) == ("delivered", 4)
    assert [a["status_code"] for a in logged["attempts"]] == [503, 503, 503, 200]
    assert logged["event_id"] in event_ids
    assert call(serving, "GET", f"/v1/webhooks/{webhook['id']}")["failing_since"] is None
    call(serving, "DELETE", f"/v1/webhooks/{webhook['id']}", expect=204)
