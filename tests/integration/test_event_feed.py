"""GET /v1/events: audit trail, access events and alerts in one feed, filtered and paged; and
the audit trail answering "who saw this stay's PIN, and when?" without the PIN."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from doorpin.adapters.db.event_models import AccessEvent
from doorpin.bootstrap import AppServices
from doorpin.domain.scopes import Scope
from doorpin.ids import new_id
from doorpin.services.alerts import raise_alert
from tests.support.access import Building, building, stay
from tests.support.api import Tenant
from tests.support.clock import FakeClock
from tests.support.resources import assert_error, ok, walk


def _access_event(services: AppServices, tenant: Tenant, house: Building, result: str, reservation_id: str) -> str:
    """An access event row as ingestion stores it (ingestion itself is tested on its own)."""
    now = services.clock.now()
    event_id = new_id("ae")
    with services.db.transaction() as session:
        session.add(
            AccessEvent(
                account_id=tenant.account_id,
                id=event_id,
                property_id=house.id,
                lock_id=house.door_a["id"],
                provider_event_id=f"dev-{event_id}",
                source="poll",
                occurred_at=now - timedelta(seconds=30),
                received_at=now,
                result=result,
                reason=None if result == "granted" else "unknown_code",
                attribution="in_window" if result == "granted" else "unknown",
                code_fingerprint=None,
                access_code_id=None,
                lock_code_id=None,
                reservation_id=reservation_id if result == "granted" else None,
            )
        )
    return event_id


def _alert(services: AppServices, tenant: Tenant, house: Building) -> None:
    with services.db.transaction() as session:
        raise_alert(
            session,
            account_id=tenant.account_id,
            at=services.clock.now(),
            kind="repeated_wrong_codes",
            severity="warning",
            message="five wrong codes in a minute on Door A",
            dedupe_key=f"repeated_wrong_codes:{house.door_a['id']}",
            property_id=house.id,
            subject_type="lock",
            subject_id=house.door_a["id"],
        )


def _types(events: list[Any]) -> list[str]:
    return [event["type"] for event in events]


def test_the_feed_merges_audit_access_and_alerts_in_order(
    services: AppServices, tenant: Tenant, clock: FakeClock
) -> None:
    house = building(tenant)
    guest = stay(tenant, house.id, house.unit_a["id"])  # audit: pin.assigned, and revealed to the admin key
    clock.advance(seconds=1)
    granted = _access_event(services, tenant, house, "granted", guest["id"])
    clock.advance(seconds=1)
    _alert(services, tenant, house)
    clock.advance(seconds=1)
    denied = _access_event(services, tenant, house, "lockout", guest["id"])

    everything = walk(tenant, "/v1/events", 1)  # one per page: the cursor crosses the three tables
    assert _types(everything) == [
        "audit.pin.assigned",
        "audit.pin.revealed",
        "access.granted",
        "alert.raised",
        "access.denied",
    ]
    assert len({event["id"] for event in everything}) == 5
    access = everything[2]
    assert access["id"] == granted
    assert access["subject"] == {"type": "lock", "id": house.door_a["id"]}
    assert access["data"]["reservation_id"] == guest["id"]
    assert access["data"]["result"] == "granted"
    assert access["data"]["source"] == "poll"
    assert everything[3]["data"]["kind"] == "repeated_wrong_codes"

    assert [e["id"] for e in ok(tenant.get("/v1/events?type=access"))["data"]] == [granted, denied]
    assert [e["id"] for e in ok(tenant.get("/v1/events?type=access.denied"))["data"]] == [denied]
    assert _types(ok(tenant.get("/v1/events?type=alert"))["data"]) == ["alert.raised"]
    assert _types(ok(tenant.get("/v1/events?type=audit.pin"))["data"]) == ["audit.pin.assigned", "audit.pin.revealed"]
    assert ok(tenant.get("/v1/events?type=access.opened"))["data"] == []
    since = (clock.now() - timedelta(seconds=1, milliseconds=500)).isoformat().replace("+00:00", "Z")
    # `since` is about when things happened: the lockout reached doorpin just now but occurred 30 s ago.
    assert _types(ok(tenant.get("/v1/events", params={"since": since}))["data"]) == ["alert.raised"]


def test_the_feed_keeps_to_the_keys_properties(services: AppServices, tenant: Tenant) -> None:
    house, other = building(tenant), building(tenant)
    guest = stay(tenant, house.id, house.unit_a["id"])
    _access_event(services, tenant, house, "granted", guest["id"])
    _alert(services, tenant, house)
    stay(tenant, other.id, other.unit_a["id"])

    limited = tenant.key_with(Scope.READ, property_ids=[other.id])
    seen = ok(limited.get("/v1/events"))["data"]
    assert {event["property_id"] for event in seen} == {other.id}
    assert ok(tenant.get(f"/v1/events?property_id={other.id}&type=access"))["data"] == []
    assert len(ok(tenant.get(f"/v1/events?property_id={house.id}&type=access"))["data"]) == 1


def test_bad_filters_are_refused(tenant: Tenant) -> None:
    assert_error(tenant.get("/v1/events?type=webhook"), 422, "validation_error", "type")
    assert_error(tenant.get("/v1/events?type=audit.pin%20x"), 422, "validation_error", "type")
    assert_error(tenant.get("/v1/events?cursor=bm9wZQ"), 422, "validation_error", "cursor")


def test_the_audit_trail_shows_who_revealed_which_stays_pin_and_when_without_the_pin(
    services: AppServices, tenant: Tenant, clock: FakeClock
) -> None:
    house = building(tenant)
    guest = stay(tenant, house.id, house.unit_a["id"])
    front_desk = tenant.key_with(Scope.PINS)
    reader = tenant.key_with(Scope.READ)
    keys = {key["id"]: key for key in ok(tenant.get("/v1/api-keys"))["data"]}
    front_desk_id = next(k for k, v in keys.items() if v["scopes"] == ["pins"])
    admin_id = next(k for k, v in keys.items() if "admin" in v["scopes"])
    created_at = clock.now()

    clock.advance(hours=3)
    revealed_at = clock.now()
    pin = ok(front_desk.get(f"/v1/reservations/{guest['id']}"))["access"]["pin"]
    assert isinstance(pin, str)
    assert pin.isdigit()
    clock.advance(minutes=1)
    assert ok(reader.get(f"/v1/reservations/{guest['id']}"))["access"]["pin"] == "••••••"  # masked: no reveal

    reveals = ok(tenant.get("/v1/events?type=audit.pin.revealed"))["data"]
    subject = {"type": "reservation", "id": guest["id"]}
    assert [(e["actor_key_id"], e["subject"], e["occurred_at"]) for e in reveals] == [
        (admin_id, subject, created_at.isoformat().replace("+00:00", "Z")),  # the creation answer showed it
        (front_desk_id, subject, revealed_at.isoformat().replace("+00:00", "Z")),
    ]
    # Reading the trail shows no PIN, neither the revealed one nor any other.
    trail = tenant.get("/v1/events?type=audit&limit=500")
    assert trail.status_code == 200
    assert pin not in trail.text
