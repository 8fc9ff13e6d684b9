"""Acceptance: SMS and WhatsApp through a real local gateway, retries, failures and status callbacks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from doorpin.adapters.db.access_models import Alert
from doorpin.adapters.messaging.signature import twilio_signature
from doorpin.bootstrap import AppServices
from doorpin.domain.deliveries import retry_delay
from tests.integration.messages.conftest import BASE_URL, book, deliveries, guest_property, pin_of
from tests.support.api import Tenant
from tests.support.clock import FakeClock
from tests.support.gateway_server import ACCOUNT_SID, AUTH_TOKEN, SMS_FROM, Gateway
from tests.support.resources import ok
from tests.support.smtp_server import SmtpServer

PHONE = "+351 912 345 678"  # a Portuguese mobile, as a PMS might send it
E164 = "+351912345678"


def _callback(client: TestClient, delivery_id: str, form: dict[str, str], token: str = AUTH_TOKEN) -> Any:
    url = f"{BASE_URL}/callbacks/messages/{delivery_id}"
    signature = twilio_signature(token, url, form.items())
    return client.post(
        f"/callbacks/messages/{delivery_id}",
        data=form,
        headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
    )


def test_sms_and_whatsapp_requests_have_the_twilio_shape(
    tenant: Tenant, gateway: Gateway, send: Callable[[], int]
) -> None:
    prop, unit = guest_property(tenant, channels=["sms", "whatsapp"])
    stay = book(tenant, prop, unit, "2026-06-01", "2026-06-03", phone=PHONE)
    pin = pin_of(tenant, stay)
    assert send() == 2
    by_to = {r.form["To"]: r for r in gateway.requests}
    assert set(by_to) == {E164, f"whatsapp:{E164}"}
    for request in by_to.values():
        assert request.method == "POST"
        assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
        assert request.content_type.startswith("application/x-www-form-urlencoded")
        assert (request.user, request.password) == (ACCOUNT_SID, AUTH_TOKEN)
        assert set(request.form) == {"To", "From", "Body", "StatusCallback"}
        assert pin in request.form["Body"]
        assert "Entrance, Room 12 door" in request.form["Body"]
    assert by_to[E164].form["From"] == SMS_FROM
    assert by_to[f"whatsapp:{E164}"].form["From"] == f"whatsapp:{SMS_FROM}"
    rows = {d["channel"]: d for d in deliveries(tenant, stay)}
    for channel, row in rows.items():
        assert row["status"] == "sent"
        assert row["to"] == E164
        request = by_to[E164 if channel == "sms" else f"whatsapp:{E164}"]
        assert request.form["StatusCallback"] == f"{BASE_URL}/callbacks/messages/{row['id']}"


def test_a_phone_number_without_country_code_is_read_in_the_property_country(
    tenant: Tenant, gateway: Gateway, send: Callable[[], int]
) -> None:
    prop, unit = guest_property(tenant, channels=["sms"])  # Europe/Lisbon: Portugal
    book(tenant, prop, unit, "2026-06-01", "2026-06-03", phone="912 345 678")
    send()
    assert [r.form["To"] for r in gateway.requests] == [E164]


def test_the_gateway_answering_500_then_200_ends_sent_then_delivered_by_callback(
    tenant: Tenant,
    clock: FakeClock,
    gateway: Gateway,
    client: TestClient,
    services: AppServices,
    send: Callable[[], int],
) -> None:
    prop, unit = guest_property(tenant, channels=["sms"])
    stay = book(tenant, prop, unit, "2026-06-01", "2026-06-03", phone=PHONE)
    gateway.answer_next(500, {"code": 20500, "message": "Internal Server Error"})
    send()
    [row] = deliveries(tenant, stay)
    assert row["status"] == "scheduled"
    assert row["attempts"] == 1
    assert row["error"]["code"] == "gateway_error"
    assert "500" in row["error"]["message"]

    send()  # not due yet: the backoff holds it
    assert len(gateway.requests) == 1
    clock.advance(seconds=retry_delay(1).total_seconds())
    send()
    assert len(gateway.requests) == 2
    [row] = deliveries(tenant, stay)
    assert row["status"] == "sent"
    assert row["attempts"] == 2
    assert row["error"] is None

    sid = "SM" + f"{2:032x}"  # the gateway's sid for its second message
    clock.advance(seconds=30)
    response = _callback(client, row["id"], {"MessageSid": sid, "MessageStatus": "sent", "AccountSid": ACCOUNT_SID})
    assert response.status_code == 204, response.text
    assert deliveries(tenant, stay)[0]["status"] == "sent"
    response = _callback(client, row["id"], {"MessageSid": sid, "MessageStatus": "delivered"})
    assert response.status_code == 204, response.text
    [row] = deliveries(tenant, stay)
    assert row["status"] == "delivered"
    assert row["delivered_at"] is not None
    # A late `failed` (out of order) does not undo a final state.
    assert _callback(client, row["id"], {"MessageSid": sid, "MessageStatus": "failed"}).status_code == 204
    assert deliveries(tenant, stay)[0]["status"] == "delivered"


def test_a_callback_with_a_bad_signature_is_refused_and_changes_nothing(
    tenant: Tenant, gateway: Gateway, client: TestClient, send: Callable[[], int]
) -> None:
    prop, unit = guest_property(tenant, channels=["sms"])
    stay = book(tenant, prop, unit, "2026-06-01", "2026-06-03", phone=PHONE)
    send()
    [row] = deliveries(tenant, stay)
    sid = "SM" + f"{1:032x}"
    forged = _callback(client, row["id"], {"MessageSid": sid, "MessageStatus": "failed"}, token="not-the-token")
    assert forged.status_code == 403
    assert forged.json()["error"]["code"] == "forbidden"
    unsigned = client.post(f"/callbacks/messages/{row['id']}", data={"MessageSid": sid, "MessageStatus": "failed"})
    assert unsigned.status_code == 403
    assert deliveries(tenant, stay)[0]["status"] == "sent"
    # Signed, but for another message: not found, nothing changes.
    other = _callback(client, row["id"], {"MessageSid": "SMother", "MessageStatus": "failed"})
    assert other.status_code == 404
    assert deliveries(tenant, stay)[0]["status"] == "sent"


def test_an_undelivered_callback_fails_the_delivery_with_an_event(
    tenant: Tenant, gateway: Gateway, client: TestClient, send: Callable[[], int]
) -> None:
    prop, unit = guest_property(tenant, channels=["whatsapp"])
    stay = book(tenant, prop, unit, "2026-06-01", "2026-06-03", phone=PHONE)
    send()
    [row] = deliveries(tenant, stay)
    form = {"MessageSid": "SM" + f"{1:032x}", "MessageStatus": "undelivered", "ErrorCode": "63016"}
    assert _callback(client, row["id"], form).status_code == 204
    [row] = deliveries(tenant, stay)
    assert row["status"] == "failed"
    assert row["error"]["code"] == "undelivered"
    assert "63016" in row["error"]["message"]
    events = ok(tenant.get("/v1/events?type=audit.delivery.failed"))["data"]
    assert [e["subject"]["id"] for e in events] == [stay["id"]]


def test_a_number_the_gateway_refuses_ends_failed_with_a_reason_an_event_and_an_alert(
    tenant: Tenant, clock: FakeClock, gateway: Gateway, services: AppServices, send: Callable[[], int]
) -> None:
    prop, unit = guest_property(tenant, channels=["sms"])
    stay = book(tenant, prop, unit, "2026-06-01", "2026-06-03", phone=PHONE)
    gateway.answer_next(400, {"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400})
    send()
    [row] = deliveries(tenant, stay)
    assert row["status"] == "failed"
    assert row["error"]["code"] == "invalid_address"
    assert "21211" in row["error"]["message"]
    clock.advance(hours=2)
    send()
    assert len(gateway.requests) == 1, "a permanent failure is not retried"
    events = ok(tenant.get("/v1/events?type=audit.delivery.failed"))["data"]
    assert len(events) == 1
    assert events[0]["data"]["error_code"] == "invalid_address"
    assert events[0]["data"]["delivery_id"] == row["id"]
    assert _open_alerts(services, "delivery_failed") == [stay["id"]]


def test_a_bad_address_fails_without_reaching_the_gateway(
    tenant: Tenant, gateway: Gateway, smtp: SmtpServer, services: AppServices, send: Callable[[], int]
) -> None:
    prop, unit = guest_property(tenant, channels=["sms", "email"])
    bad_phone = book(tenant, prop, unit, "2026-06-01", "2026-06-03", phone="+351 12")
    no_email = book(tenant, prop, unit, "2026-06-01", "2026-06-03", phone=PHONE, email=None)
    send()
    errors = {
        (s["id"], d["channel"]): (d["status"], (d["error"] or {}).get("code"))
        for s in (bad_phone, no_email)
        for d in deliveries(tenant, s)
    }
    assert errors == {
        (bad_phone["id"], "sms"): ("failed", "invalid_address"),
        (bad_phone["id"], "email"): ("sent", None),
        (no_email["id"], "sms"): ("sent", None),
        (no_email["id"], "email"): ("failed", "no_address"),
    }
    assert [r.form["To"] for r in gateway.requests] == [E164]
    assert len(smtp.received) == 1
    assert sorted(_open_alerts(services, "delivery_failed")) == sorted([bad_phone["id"], no_email["id"]])


def test_a_mailbox_the_mail_server_refuses_ends_failed(
    tenant: Tenant, smtp: SmtpServer, send: Callable[[], int]
) -> None:
    prop, unit = guest_property(tenant)
    smtp.refuse("gone@guest.example")
    stay = book(tenant, prop, unit, "2026-06-01", "2026-06-03", email="gone@guest.example")
    send()
    [row] = deliveries(tenant, stay)
    assert row["status"] == "failed"
    assert row["error"]["code"] == "recipient_refused"
    assert "550" in row["error"]["message"]


def _open_alerts(services: AppServices, kind: str) -> list[str]:
    with services.db.reader() as session:
        rows = session.scalars(select(Alert).where(Alert.kind == kind, Alert.closed_at.is_(None))).all()
        return [str(row.subject_id) for row in rows]
