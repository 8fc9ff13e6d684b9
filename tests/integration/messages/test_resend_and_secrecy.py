"""Resends through the API (recorded with who asked), unconfigured channels, and PINs kept out of logs."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from doorpin.adapters.messaging.base import MessageSender
from doorpin.bootstrap import AppServices
from doorpin.domain.deliveries import Channel
from doorpin.domain.scopes import Scope
from doorpin.services.message_sending import run_delivery_pass
from doorpin.worker.runner import Worker
from tests.integration.messages.conftest import book, deliveries, guest_property, pin_of
from tests.support.api import Tenant
from tests.support.clock import FakeClock
from tests.support.gateway_server import Gateway
from tests.support.resources import assert_error, ok
from tests.support.smtp_server import SmtpServer


def test_a_resend_through_the_api_goes_out_and_is_recorded_with_who_asked(
    tenant: Tenant, clock: FakeClock, smtp: SmtpServer, send: Callable[[], int]
) -> None:
    prop, unit = guest_property(tenant)
    stay = book(tenant, prop, unit, "2026-06-01", "2026-06-03")
    send()
    desk = tenant.key_with(Scope.WRITE)
    desk_key_id = ok(tenant.get("/v1/api-keys"))["data"][-1]["id"]
    clock.advance(hours=1)
    created = ok(desk.post(f"/v1/reservations/{stay['id']}/deliveries", {"channels": ["email"]}), 201)["data"]
    assert [(d["reason"], d["status"], d["requested_by_key_id"]) for d in created] == [
        ("resend", "scheduled", desk_key_id)
    ]
    events = ok(tenant.get("/v1/events?type=audit.delivery.resend_requested"))["data"]
    assert len(events) == 1
    assert events[0]["actor_key_id"] == desk_key_id
    assert events[0]["subject"]["id"] == stay["id"]

    assert send() == 1
    assert len(smtp.received) == 2
    body = smtp.received[1].message.get_body(preferencelist=("plain",))
    assert body is not None
    assert "As requested, here are your access details again." in body.get_content()
    assert f"Your code: {pin_of(tenant, stay)}" in body.get_content()
    rows = deliveries(tenant, stay)
    assert [(d["reason"], d["status"]) for d in rows] == [("pre_arrival", "sent"), ("resend", "sent")]


def test_a_resend_needs_the_write_scope_and_a_live_stay(tenant: Tenant, smtp: SmtpServer) -> None:
    prop, unit = guest_property(tenant)
    stay = book(tenant, prop, unit, "2026-06-01", "2026-06-03")
    reader = tenant.key_with(Scope.READ)
    assert_error(reader.post(f"/v1/reservations/{stay['id']}/deliveries", {}), 403, "forbidden")
    ok(tenant.patch(f"/v1/reservations/{stay['id']}", {"status": "CANCELED"}))
    assert_error(tenant.post(f"/v1/reservations/{stay['id']}/deliveries", {}), 409, "reservation_not_eligible")
    assert [d["reason"] for d in deliveries(tenant, stay)] == ["pre_arrival"]


def test_a_channel_without_a_sender_fails_with_channel_not_configured(
    tenant: Tenant, services: AppServices, senders: dict[Channel, MessageSender], gateway: Gateway
) -> None:
    prop, unit = guest_property(tenant, channels=["email", "sms"])
    stay = book(tenant, prop, unit, "2026-06-01", "2026-06-03", phone="+351912345678")
    only_sms = {Channel.SMS: senders[Channel.SMS]}
    run_delivery_pass(services, only_sms)
    rows = {d["channel"]: d for d in deliveries(tenant, stay)}
    assert rows["email"]["status"] == "failed"
    assert rows["email"]["error"]["code"] == "channel_not_configured"
    assert "DOORPIN_SMTP_URL" in rows["email"]["error"]["message"]
    assert rows["sms"]["status"] == "sent"


def test_the_worker_runs_the_sending_job_with_senders_from_the_settings(
    tenant: Tenant, services: AppServices, smtp: SmtpServer
) -> None:
    configured = AppServices(
        db=services.db, keyring=services.keyring, clock=services.clock, smtp_url=smtp.url(), base_url=services.base_url
    )
    prop, unit = guest_property(tenant)
    stay = book(tenant, prop, unit, "2026-06-01", "2026-06-03")
    worker = Worker(configured, idle_seconds=0)
    assert "guest_messages" in [job.name for job in worker.jobs]
    job = next(job for job in worker.jobs if job.name == "guest_messages")
    assert job.run_once() == 1
    assert [r.rcpt_tos for r in smtp.received] == [["ana@guest.example"]]
    assert deliveries(tenant, stay)[0]["status"] == "sent"


def test_the_pin_never_reaches_a_log(
    tenant: Tenant,
    clock: FakeClock,
    smtp: SmtpServer,
    gateway: Gateway,
    send: Callable[[], int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    prop, unit = guest_property(tenant, channels=["email", "sms", "whatsapp"])
    stay = book(tenant, prop, unit, "2026-06-01", "2026-06-03", phone="+351912345678")
    pin = pin_of(tenant, stay)
    gateway.answer_next(503)
    smtp.refuse("nobody@guest.example")
    refused = book(tenant, prop, unit, "2026-06-01", "2026-06-03", email="nobody@guest.example", phone="+351 1")
    send()
    clock.advance(minutes=5)
    send()
    ok(tenant.put(f"/v1/reservations/{stay['id']}/pin", {"pin": "******"}))
    new_pin = pin_of(tenant, stay)
    send()
    assert len(smtp.received) == 2, "the stay's pre-arrival and pin_changed emails"
    assert any(pin in r.form["Body"] for r in gateway.requests)
    assert any(new_pin in r.form["Body"] for r in gateway.requests)
    assert deliveries(tenant, refused)[0]["status"] == "failed"
    # Every record of our process (aiosmtpd's own "mail.log" is the test's SMTP server, not doorpin).
    ours = [r for r in caplog.records if not r.name.startswith("mail.log")]
    assert any(r.name == "doorpin.deliveries" for r in ours), "the sending job logs what it does"
    for record in ours:
        text = record.getMessage() + str(record.args or "")
        assert pin not in text, record.name
        assert new_pin not in text, record.name
