"""Which changes are told to integrators, once each, with what data, and never with a PIN.

The outbox is read straight from the database: delivering it is the webhook job's business
(tested on its own); here the question is what each use case queues in its own transaction.
"""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from doorpin.adapters.db.event_models import WebhookDelivery, WebhookEvent
from doorpin.bootstrap import AppServices
from doorpin.services.message_sending import run_delivery_pass
from tests.support.access import building, pin_of, put_pin, stay
from tests.support.api import Tenant
from tests.support.clock import FakeClock
from tests.support.lock_sync import SyncWorld
from tests.support.resources import ok


def subscribe(tenant: Tenant, *events: str) -> str:
    body = {"url": "https://hooks.example.com/doorpin", "events": list(events)}
    subscription_id: str = ok(tenant.post("/v1/webhooks", body), 201)["id"]
    return subscription_id


def told(services: AppServices, type_prefix: str = "") -> list[WebhookEvent]:
    with services.db.reader() as session:
        query = select(WebhookEvent).where(WebhookEvent.type.startswith(type_prefix)).order_by(WebhookEvent.id)
        return list(session.scalars(query))


def test_a_stays_pin_is_told_on_first_assignment_and_on_every_change(services: AppServices, tenant: Tenant) -> None:
    subscribe(tenant, "reservation.pin_changed")
    house = building(tenant)
    guest = stay(tenant, house.id, house.unit_a["id"])
    first = told(services)
    assert [(e.type, e.data["reservation_id"], e.data["first_assignment"]) for e in first] == [
        ("reservation.pin_changed", guest["id"], True)
    ]
    assert first[0].data["pin_source"] == "generated"

    ok(tenant.patch(f"/v1/reservations/{guest['id']}", {"check_out": "2026-07-13"}))  # same PIN, longer
    assert len(told(services)) == 1
    ok(put_pin(tenant, guest["id"], "40917"))
    changed = told(services)[1:]
    assert [(e.data["first_assignment"], e.data["pin_source"]) for e in changed] == [(False, "custom")]
    assert all("40917" not in json.dumps(e.data) for e in told(services))


def test_a_unit_pin_change_is_told_for_every_stay_of_the_unit(services: AppServices, tenant: Tenant) -> None:
    subscribe(tenant, "reservation.*")
    house = building(tenant, code_policy={"pin_scope": "unit"})
    stays = [stay(tenant, house.id, house.unit_a["id"], f"2026-07-{d}", f"2026-07-{d + 2}") for d in (10, 11)]
    assert sorted(e.data["reservation_id"] for e in told(services)) == sorted(s["id"] for s in stays)

    ok(put_pin(tenant, stays[0]["id"], "583920"))
    changed = told(services)[2:]
    assert sorted(e.data["reservation_id"] for e in changed) == sorted(s["id"] for s in stays)
    assert {e.data["pin_scope"] for e in changed} == {"unit"}


def test_codes_reaching_and_leaving_locks_are_told(world: SyncWorld) -> None:
    subscribe(world.tenant, "access_code.*")
    house = world.building()
    guest = world.stay(house, house.unit_a["id"], starts_in=timedelta(hours=1))
    world.converge()
    programmed = told(world.services, "access_code.programmed")
    assert sorted(e.data["lock_id"] for e in programmed) == sorted([house.entrance["id"], house.door_a["id"]])
    assert {e.data["reservation_id"] for e in programmed} == {guest["id"]}

    world.converge()  # nothing new on the locks: nothing new told
    assert len(told(world.services, "access_code.")) == 2
    world.set_status(guest["id"], "CANCELED")
    world.converge()
    removed = told(world.services, "access_code.removed")
    assert sorted(e.data["lock_id"] for e in removed) == sorted([house.entrance["id"], house.door_a["id"]])


def test_a_lock_refusing_a_code_is_told_as_failed_and_as_an_alert(world: SyncWorld) -> None:
    subscribe(world.tenant, "access_code.failed", "alert.raised")
    house = world.building()
    world.fake.configure_lock(house.door_a["id"], code_lengths=[4])  # the generated 6 digits will not fit
    world.stay(house, house.unit_a["id"], starts_in=timedelta(hours=1))
    world.converge()
    failed = told(world.services, "access_code.failed")
    assert [(e.data["lock_id"], e.data["error"]["code"]) for e in failed] == [
        (house.door_a["id"], "code_constraints_violated")
    ]
    alerts = told(world.services, "alert.raised")
    assert [e.data["kind"] for e in alerts] == ["code_constraints_violated"]
    assert alerts[0].data["severity"] == "critical"


def test_a_repeated_alert_is_told_once_and_a_failed_message_is_told(
    services: AppServices, tenant: Tenant, clock: FakeClock
) -> None:
    subscribe(tenant, "*")
    house = building(tenant, delivery={"channels": ["email"]})
    guests = [
        stay(tenant, house.id, house.unit_a["id"], "2026-06-02", "2026-06-04", guest={"email": f"g{n}@example.com"})
        for n in range(2)
    ]
    clock.advance(days=1)
    run_delivery_pass(services, {})  # no sender configured: both messages fail for good
    failed = told(services, "delivery.failed")
    assert sorted(e.data["reservation_id"] for e in failed) == sorted(g["id"] for g in guests)
    assert {e.data["error"]["code"] for e in failed} == {"channel_not_configured"}
    # One open alert per unconfigured channel: raised once, told once.
    assert [e.data["kind"] for e in told(services, "alert.raised")] == ["delivery_failed"]
    pins = [pin_of(tenant, g["id"]) for g in guests]
    everything = json.dumps([e.data for e in told(services)])
    assert all(pin and pin not in everything for pin in pins)


def test_nothing_is_queued_without_a_subscription_and_deleted_ones_get_nothing(
    services: AppServices, tenant: Tenant
) -> None:
    house = building(tenant)
    stay(tenant, house.id, house.unit_a["id"])
    assert told(services) == []
    subscription_id = subscribe(tenant, "reservation.pin_changed")
    assert tenant.delete(f"/v1/webhooks/{subscription_id}").status_code == 204
    stay(tenant, house.id, house.unit_b["id"])
    assert told(services) == []


def test_one_event_goes_to_every_subscription_that_wants_it(services: AppServices, tenant: Tenant) -> None:
    wanting = {subscribe(tenant, "reservation.pin_changed"), subscribe(tenant, "*")}
    subscribe(tenant, "access.*")
    house = building(tenant)
    stay(tenant, house.id, house.unit_a["id"])
    (event,) = told(services)
    with services.db.reader() as session:
        deliveries = list(session.scalars(select(WebhookDelivery)))
    assert {d.subscription_id for d in deliveries} == wanting
    assert {d.event_id for d in deliveries} == {event.id}  # one id: receivers can dedupe across URLs
