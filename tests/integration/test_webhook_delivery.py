"""The webhook job against a real local HTTP receiver: signed bodies, retries with growing
backoff, exactly one success per event, auto-disable with an alert, and type filtering.

The clock is fake (the job reads it for every decision), the HTTP is real. Signatures are
checked with the code published in docs/webhooks.md, taken from the page itself.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import select

from doorpin.adapters.db.access_models import Alert
from doorpin.adapters.db.event_models import WebhookDelivery
from doorpin.adapters.signing import verify
from doorpin.bootstrap import AppServices
from doorpin.services.webhook_delivery import WebhookConfig, lease_due_deliveries, run_webhook_pass
from tests.support.access import building, pin_of, stay
from tests.support.api import Tenant
from tests.support.clock import FakeClock
from tests.support.resources import ok
from tests.support.webhook_docs import documented_verifier, snippet_imports, verification_snippet
from tests.support.webhook_receiver import ReceivedRequest, Receiver, webhook_receiver
from tests.support.webhooks import SECRET, deliveries, drive, emit_event, settle, subscribe


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


def signed_ok(request: ReceivedRequest, clock_at: datetime, secret: str = SECRET) -> bool:
    verify_signature = documented_verifier()
    return bool(verify_signature(secret, request.body, request.headers["doorpin-signature"], now=clock_at.timestamp()))


def test_the_documented_snippet_uses_the_standard_library_only() -> None:
    code = verification_snippet()
    assert snippet_imports(code) <= {"hashlib", "hmac", "time"}
    assert "compare_digest" in code
    assert "TOLERANCE_SECONDS" in code


def test_a_delivery_is_signed_and_verifies_with_the_documented_snippet(
    tenant: Tenant, services: AppServices, clock: FakeClock, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    webhook = subscribe(tenant, receiver.url, ["access.granted"])
    event_id = emit_event(services, tenant.account_id, "access.granted", {"lock_id": "lock_1", "note": "ünï ✓"})
    assert run_webhook_pass(services) == 1
    [request] = receiver.requests
    assert request.path == "/hooks/doorpin"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("doorpin-webhooks/")
    assert request.headers["doorpin-event-id"] == event_id
    body = json.loads(request.body)
    assert body == {
        "id": event_id,
        "type": "access.granted",
        "created_at": clock.now().isoformat(),
        "data": {"lock_id": "lock_1", "note": "ünï ✓"},
    }
    assert request.body.isascii()
    assert request.body == json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    verify_signature = documented_verifier()
    header = request.headers["doorpin-signature"]
    now = clock.now().timestamp()
    assert header.startswith(f"t={int(now)},v1=")
    assert verify_signature(SECRET, request.body, header, now=now)
    assert verify(SECRET, request.body, header, now=int(now))  # doorpin's own check agrees
    assert not verify_signature(SECRET, request.body.replace(b"lock_1", b"lock_2"), header, now=now)
    assert not verify_signature(SECRET + "x", request.body, header, now=now)
    assert not verify_signature(SECRET, request.body, header, now=now + 301)  # a replay, later
    assert not verify_signature(SECRET, request.body, "v1=abc", now=now)
    assert verify_signature(SECRET, request.body, header, now=now + 299)

    [logged] = deliveries(tenant, webhook["id"])
    assert (logged["status"], logged["attempt_count"], logged["event_id"]) == ("delivered", 1, event_id)
    assert logged["event_type"] == "access.granted"
    assert [a["status_code"] for a in logged["attempts"]] == [200]
    assert SECRET not in caplog.text


def test_a_receiver_failing_three_times_gets_the_event_once(
    tenant: Tenant, services: AppServices, clock: FakeClock, receiver: Receiver
) -> None:
    receiver.fail_next(3, 500, body=b'{"error": "database down"}')
    webhook = subscribe(tenant, receiver.url)
    event_id = emit_event(services, tenant.account_id)
    sent_at: list[datetime] = []

    def done() -> bool:
        if len(receiver.requests) > len(sent_at):
            sent_at.append(clock.now())
        if len(receiver.requests) == 2:
            assert ok(tenant.get(f"/v1/webhooks/{webhook['id']}"))["failing_since"] is not None
        return len(receiver.accepted) == 1

    drive(services, clock, done)
    settle(services, clock, hours=24)

    requests = receiver.requests
    assert [r.answered for r in requests] == [500, 500, 500, 200]
    assert {r.headers["doorpin-event-id"] for r in requests} == {event_id}
    assert {r.body for r in requests} == {requests[0].body}  # the same bytes every time
    assert all(signed_ok(r, at) for r, at in zip(requests, sent_at, strict=True))
    assert len({r.headers["doorpin-signature"] for r in requests}) == 4  # signed anew per attempt

    [logged] = deliveries(tenant, webhook["id"])
    assert logged["status"] == "delivered"
    assert logged["attempt_count"] == 4
    assert [a["status_code"] for a in logged["attempts"]] == [500, 500, 500, 200]
    assert logged["attempts"][0]["error"] == 'the receiver answered 500: {"error": "database down"}'
    assert logged["attempts"][-1]["error"] is None
    assert (logged["last_status_code"], logged["last_error"], logged["next_attempt_at"]) == (200, None, None)
    times = [datetime.fromisoformat(a["attempted_at"]) for a in logged["attempts"]]
    gaps = [later - earlier for earlier, later in pairwise(times)]
    base = timedelta(seconds=services.webhook_retry_base_seconds)
    assert gaps[0] >= base * 0.8
    assert gaps[0] < gaps[1] < gaps[2]  # the backoff grows
    assert ok(tenant.get(f"/v1/webhooks/{webhook['id']}"))["failing_since"] is None


def test_a_subscription_failing_too_long_is_disabled_with_an_alert(
    tenant: Tenant, services: AppServices, clock: FakeClock, receiver: Receiver
) -> None:
    app = replace(services, webhook_disable_after_hours=2)
    receiver.always_fail(503)
    webhook = subscribe(tenant, receiver.url, ["access.*"])
    watcher = subscribe(tenant, receiver.url + "?watcher=1", ["alert.raised"])
    receiver_for = {webhook["id"]: "/hooks/doorpin", watcher["id"]: "/hooks/doorpin?watcher=1"}
    emit_event(app, tenant.account_id, "access.denied")
    started = clock.now()

    def disabled() -> bool:
        return bool(ok(tenant.get(f"/v1/webhooks/{webhook['id']}"))["status"] == "disabled")

    drive(app, clock, disabled)
    shown = ok(tenant.get(f"/v1/webhooks/{webhook['id']}"))
    failing_since = datetime.fromisoformat(shown["failing_since"])
    disabled_at = datetime.fromisoformat(shown["disabled_at"])
    assert failing_since == started
    assert timedelta(hours=2) <= disabled_at - failing_since < timedelta(hours=2) + timedelta(hours=2.5)
    assert "failed for 2 h" in shown["disabled_reason"]
    with services.db.reader() as session:
        [alert] = session.scalars(select(Alert).where(Alert.kind == "webhook_disabled")).all()
    assert (alert.severity, alert.subject_type, alert.subject_id, alert.closed_at) == (
        "warning",
        "webhook",
        webhook["id"],
        None,
    )
    attempts_when_disabled = len([r for r in receiver.requests if r.path == receiver_for[webhook["id"]]])
    assert attempts_when_disabled >= 5

    # Nothing more is tried while disabled, and new events are not queued for it.
    emit_event(app, tenant.account_id, "access.granted")
    settle(app, clock, hours=12)
    mine = [r for r in receiver.requests if r.path == receiver_for[webhook["id"]]]
    assert len(mine) == attempts_when_disabled
    [pending] = deliveries(tenant, webhook["id"])
    assert pending["status"] == "pending"

    # Enabled again: the paused delivery goes out at once.
    receiver.recover()
    enabled = ok(tenant.post(f"/v1/webhooks/{webhook['id']}/enable"))
    assert (enabled["status"], enabled["failing_since"], enabled["disabled_at"]) == ("active", None, None)
    run_webhook_pass(app)
    [delivered] = deliveries(tenant, webhook["id"])
    assert delivered["status"] == "delivered"
    assert delivered["attempt_count"] == attempts_when_disabled + 1
    with services.db.reader() as session:
        closed = session.get(Alert, (tenant.account_id, alert.id))
        assert closed is not None
        assert closed.closed_at is not None
    trail = ok(tenant.get("/v1/events?type=audit.webhook"))["data"]
    assert [e["type"] for e in trail][-2:] == ["audit.webhook.disabled", "audit.webhook.enabled"]


def test_a_deleted_subscription_gets_nothing_more(
    tenant: Tenant, services: AppServices, clock: FakeClock, receiver: Receiver
) -> None:
    receiver.always_fail(500)
    webhook = subscribe(tenant, receiver.url)
    emit_event(services, tenant.account_id)
    run_webhook_pass(services)
    assert len(receiver.requests) == 1
    assert tenant.delete(f"/v1/webhooks/{webhook['id']}").status_code == 204
    receiver.recover()
    assert emit_event(services, tenant.account_id) is None
    settle(services, clock, hours=24)
    assert len(receiver.requests) == 1
    with services.db.reader() as session:
        assert session.scalars(select(WebhookDelivery.status)).all() == ["canceled"]


def test_each_subscription_gets_the_types_it_asked_for(
    tenant: Tenant, other_tenant: Tenant, services: AppServices, receiver: Receiver
) -> None:
    wants = {
        "family": ["access.*"],
        "all": ["*"],
        "pin": ["reservation.pin_changed"],
        "mixed": ["alert.raised", "access.denied"],
    }
    for name, events in wants.items():
        subscribe(tenant, f"{receiver.url}?to={name}", events)
    subscribe(other_tenant, f"{receiver.url}?to=stranger", ["*"])
    sent = ["access.granted", "access.denied", "reservation.pin_changed", "delivery.failed", "access_code.removed"]
    for event_type in sent:
        emit_event(services, tenant.account_id, event_type)
    while run_webhook_pass(services):
        pass
    got: dict[str, list[str]] = {}
    for request in receiver.requests:
        got.setdefault(request.path.split("to=")[1], []).append(json.loads(request.body)["type"])
    assert {name: sorted(types) for name, types in got.items()} == {
        "family": ["access.denied", "access.granted"],
        "all": sorted(sent),
        "pin": ["reservation.pin_changed"],
        "mixed": ["access.denied"],
    }


def test_a_lease_that_ran_out_is_sent_again(
    tenant: Tenant, services: AppServices, clock: FakeClock, receiver: Receiver
) -> None:
    """A worker that leased the delivery and died: the lease runs out, and another pass sends it."""
    subscribe(tenant, receiver.url)
    event_id = emit_event(services, tenant.account_id)
    config = WebhookConfig()
    assert len(lease_due_deliveries(services, config)) == 1  # the worker that then died
    run_webhook_pass(services, config)
    assert receiver.requests == []
    clock.advance(seconds=config.lease.total_seconds() - 1)
    run_webhook_pass(services, config)
    assert receiver.requests == []
    clock.advance(seconds=2)
    run_webhook_pass(services, config)
    assert [r.headers["doorpin-event-id"] for r in receiver.requests] == [event_id]


def test_redirects_are_failures_and_errors_are_kept_short(
    tenant: Tenant, services: AppServices, clock: FakeClock, receiver: Receiver
) -> None:
    webhook = subscribe(tenant, receiver.url)
    receiver.fail_next(1, 302, headers={"Location": receiver.url + "?moved=1"})
    emit_event(services, tenant.account_id)
    run_webhook_pass(services)
    receiver.fail_next(1, 500, body=b"x" * 50_000)
    clock.advance(hours=1)
    run_webhook_pass(services)
    assert [r.path for r in receiver.requests] == ["/hooks/doorpin"] * 2  # the redirect was not followed
    [logged] = deliveries(tenant, webhook["id"])
    first, second = logged["attempts"]
    assert first["status_code"] == 302
    assert "redirect" in first["error"]
    assert second["status_code"] == 500
    assert len(second["error"]) <= 200
    assert logged["status"] == "pending"


def test_an_unreachable_receiver_is_retried(tenant: Tenant, services: AppServices, clock: FakeClock) -> None:
    with webhook_receiver() as gone:
        url = gone.url
    webhook = subscribe(tenant, url)
    emit_event(services, tenant.account_id)
    run_webhook_pass(services)
    [logged] = deliveries(tenant, webhook["id"])
    [attempt] = logged["attempts"]
    assert attempt["status_code"] is None
    assert attempt["error"].startswith("could not reach the receiver")
    assert url not in attempt["error"]
    assert logged["status"] == "pending"
    assert datetime.fromisoformat(logged["next_attempt_at"]) > clock.now()


def test_a_pin_set_through_the_api_is_told_without_the_pin(
    tenant: Tenant, services: AppServices, receiver: Receiver
) -> None:
    webhook = subscribe(tenant, receiver.url, ["reservation.pin_changed"])
    house = building(tenant)
    booked = stay(tenant, house.id, house.unit_a["id"], external_ref="4711")
    pin = pin_of(tenant, booked["id"])
    assert pin
    run_webhook_pass(services)
    [request] = receiver.requests
    body = json.loads(request.body)
    assert body["type"] == "reservation.pin_changed"
    assert body["data"]["reservation_id"] == booked["id"]
    assert body["data"]["external_ref"] == "4711"
    assert body["data"]["first_assignment"] is True
    assert pin.encode() not in request.body
    assert deliveries(tenant, webhook["id"])[0]["status"] == "delivered"
