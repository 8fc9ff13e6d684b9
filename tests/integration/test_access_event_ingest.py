"""Access events in: attributed to the code and stay keyed in, stored once however often they
arrive (also by two workers at once), placed by the lock's time, and `first_used_at` kept as the
earliest grant. Never a PIN in what is stored or shown."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta

from sqlalchemy import select

from doorpin.adapters.db.access_models import AccessCode
from doorpin.adapters.db.event_models import AccessEvent, LockEventFeed
from doorpin.adapters.locks.base import DeviceEvent
from tests.support.access import Building, building
from tests.support.access_events import EventWorld, device_event
from tests.support.api import Tenant
from tests.support.lock_sync import SyncWorld
from tests.support.resources import ok


def when(value: str | None) -> datetime:
    assert value is not None
    return datetime.fromisoformat(value)


def test_a_key_in_is_attributed_to_the_stay_and_sets_first_used_at(
    world: SyncWorld, events: EventWorld, house: Building
) -> None:
    stay = world.stay(house, house.unit_a["id"], starts_in=timedelta(hours=-1))
    world.converge()
    pin, door = stay["access"]["pin"], house.door_a["id"]
    assert events.access(stay["id"])["first_used_at"] is None
    keyed_at = world.clock.now()
    assert events.key_in(door, pin) == "granted"

    assert events.poll() == 1
    [event] = events.history(stay["id"])
    claim = next(row for row in world.claims(reservation_id=stay["id"]) if row.lock_id == door)
    assert event["lock_id"] == door
    assert (event["result"], event["reason"], event["attribution"], event["source"]) == (
        "granted",
        None,
        "in_window",
        "poll",
    )
    assert event["credential"] == {"type": "access_code", "id": claim.access_code_id}
    assert (event["reservation_id"], event["access_code_id"]) == (stay["id"], claim.access_code_id)
    assert event["property_id"] == house.id
    assert event["id"].startswith("ae_")
    assert when(event["occurred_at"]) == keyed_at
    assert when(event["received_at"]) >= keyed_at
    assert events.access(stay["id"])["first_used_at"] == event["occurred_at"]
    assert pin not in json.dumps(event)
    [row] = events.stored(door)
    assert row.lock_code_id == claim.id
    assert row.code_fingerprint is not None
    assert pin not in row.code_fingerprint


def test_a_code_nobody_holds_is_unknown_and_belongs_to_no_stay(
    world: SyncWorld, events: EventWorld, house: Building
) -> None:
    stay = world.stay(house, house.unit_a["id"], starts_in=timedelta(hours=-1))
    world.converge()
    wrong = "271828" if stay["access"]["pin"] != "271828" else "314159"
    assert events.key_in(house.door_a["id"], wrong) == "denied"
    events.poll()
    [row] = events.stored(house.door_a["id"])
    assert (row.result, row.reason, row.attribution) == ("denied", "unknown_code", "unknown")
    assert (row.access_code_id, row.reservation_id, row.lock_code_id) == (None, None, None)
    assert events.history(stay["id"]) == []
    assert events.access(stay["id"])["first_used_at"] is None


def test_the_same_event_is_stored_once_whichever_way_and_however_often_it_comes(
    world: SyncWorld, events: EventWorld, house: Building
) -> None:
    stay = world.stay(house, house.unit_a["id"], starts_in=timedelta(hours=-1))
    world.converge()
    door = house.door_a["id"]
    events.key_in(door, stay["access"]["pin"])
    events.key_in(door, "909090")
    assert events.poll() == 2
    assert events.poll() == 0

    # A worker that died after reading but before storing leaves the cursor behind: read again.
    with world.services.db.transaction() as session:
        feed = session.get(LockEventFeed, (world.tenant.account_id, door))
        assert feed is not None
        feed.cursor, feed.next_poll_at = None, world.clock.now()
    assert events.poll() == 0
    # The provider pushes the same events too, twice in one request.
    pushed = list(world.fake._lock(door).events)
    assert events.ingest(door, pushed * 2) == []
    assert len(events.stored(door)) == 2
    assert len(events.history(stay["id"])) == 1


def ingest_at_once(events: EventWorld, lock_id: str, batch: list[DeviceEvent]) -> dict[str, list[AccessEvent]]:
    """A poll and a push of the same events, started together from two threads."""
    barrier = threading.Barrier(2)
    results: dict[str, list[AccessEvent]] = {}
    failures: list[BaseException] = []

    def run(source: str) -> None:
        try:
            barrier.wait(timeout=10)
            results[source] = events.ingest(lock_id, batch, source)
        except BaseException as exc:  # reported by the test's own assertion
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(source,)) for source in ("poll", "provider_webhook")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    return results


def test_two_workers_ingesting_the_same_events_at_once_store_each_once(
    world: SyncWorld, events: EventWorld, house: Building
) -> None:
    door, start, rounds = house.door_a["id"], world.clock.now(), 3
    for round_ in range(rounds):
        batch = [
            device_event(f"r{round_}-{n}", start + timedelta(hours=round_, seconds=n), "denied", pin=f"{n:04d}")
            for n in range(12)
        ]
        results = ingest_at_once(events, door, batch)
        stored_now = [row for row in events.stored(door) if row.provider_event_id.startswith(f"r{round_}-")]
        assert len(stored_now) == 12
        assert sorted(row.id for rows in results.values() for row in rows) == sorted(row.id for row in stored_now)
    # one open alert for the lock's guessing, counted once per try that completed a burst
    [alert] = events.alerts("repeated_wrong_codes")
    assert alert.occurrences == rounds * (12 - 4), "the first four of each burst were not one yet"


def test_late_events_take_their_place_and_move_first_used_at_earlier(
    world: SyncWorld, events: EventWorld, house: Building
) -> None:
    stay = world.stay(house, house.unit_a["id"], starts_in=timedelta(hours=-1))
    door = house.door_a["id"]
    claim = next(row for row in world.claims(reservation_id=stay["id"]) if row.lock_id == door)
    now = world.clock.now()
    events.ingest(door, [device_event("b", now + timedelta(hours=2), code_ref=claim.id)])
    assert when(events.access(stay["id"])["first_used_at"]) == now + timedelta(hours=2)
    events.ingest(door, [device_event("a", now + timedelta(hours=1), code_ref=claim.id)])
    events.ingest(door, [device_event("c", now + timedelta(hours=3), code_ref=claim.id)])
    events.ingest(door, [device_event("d", now + timedelta(minutes=30), "denied", code_ref=claim.id)])
    assert when(events.access(stay["id"])["first_used_at"]) == now + timedelta(hours=1), "a denial is not a use"
    assert [event["provider_event_id"] for event in events.history(stay["id"], limit=1)] == ["d", "a", "b", "c"]
    with world.services.db.reader() as session:
        code = session.get(AccessCode, (world.tenant.account_id, claim.access_code_id))
        assert code is not None
        assert code.first_used_at == now + timedelta(hours=1)


def test_a_unit_code_shared_by_two_stays_is_attributed_to_the_stay_of_the_moment(
    world: SyncWorld, events: EventWorld, tenant: Tenant
) -> None:
    house = building(tenant, timezone="UTC", code_policy={"pin_scope": "unit"})
    now = world.clock.now()
    first = world.stay(house, house.unit_a["id"], starts_in=timedelta(days=1))
    second = world.stay(house, house.unit_a["id"], starts_in=timedelta(days=3))
    pin = first["access"]["pin"]
    assert second["access"]["pin"] == pin, "one PIN for the unit"
    door = house.door_a["id"]
    claims = {row.reservation_id: row for row in world.claims() if row.lock_id == door}
    # The door system reports only the digits (no ref), as offline door systems do.
    events.ingest(
        door,
        [
            device_event("in-first", now + timedelta(days=2), pin=pin),
            device_event("in-second", now + timedelta(days=4), pin=pin),
            # named by the first stay's ref, but inside the second stay's window
            device_event("named-first", now + timedelta(days=4, hours=1), code_ref=claims[first["id"]].id),
            device_event("early-first", now + timedelta(hours=20), pin=pin),
        ],
    )
    assert [e["provider_event_id"] for e in events.history(first["id"])] == ["early-first", "in-first"]
    assert [e["provider_event_id"] for e in events.history(second["id"])] == ["in-second", "named-first"]
    attributions = {row.provider_event_id: row.attribution for row in events.stored(door)}
    assert attributions == {
        "early-first": "outside_window",
        "in-first": "in_window",
        "in-second": "in_window",
        "named-first": "in_window",
    }
    assert when(events.access(first["id"])["first_used_at"]) == now + timedelta(hours=20)
    assert when(events.access(second["id"])["first_used_at"]) == now + timedelta(days=4)


def test_a_staff_code_is_attributed_to_the_code_and_no_stay(
    world: SyncWorld, events: EventWorld, house: Building, tenant: Tenant
) -> None:
    entrance = house.entrance["id"]
    body = {"property_id": house.id, "kind": "staff", "name": "Housekeeping", "lock_ids": [entrance]}
    code = ok(tenant.post("/v1/access-codes", body), 201)
    assert code["access"]["first_used_at"] is None
    world.converge()
    assert events.key_in(entrance, code["pin"]) == "granted"
    events.poll()
    [row] = events.stored(entrance)
    assert (row.access_code_id, row.reservation_id, row.attribution) == (code["id"], None, "in_window")
    shown = ok(tenant.get(f"/v1/access-codes/{code['id']}"))
    assert when(shown["access"]["first_used_at"]) == row.occurred_at


def test_new_events_are_told_to_integrators_without_the_digits(
    world: SyncWorld, events: EventWorld, house: Building, tenant: Tenant
) -> None:
    ok(tenant.post("/v1/webhooks", {"url": "http://127.0.0.1:9/hook", "events": ["access.*"]}), 201)
    stay = world.stay(house, house.unit_a["id"], starts_in=timedelta(hours=-1))
    world.converge()
    door, pin = house.door_a["id"], stay["access"]["pin"]
    events.key_in(door, pin)
    events.key_in(door, "864209")
    events.poll()
    events.ingest(door, world.fake._lock(door).events)  # again: nothing new, nothing told
    told = events.told("access.")
    assert [event.type for event in told] == ["access.granted", "access.denied"]
    granted = told[0].data
    assert granted["reservation_id"] == stay["id"]
    assert granted["result"] == "granted"
    assert granted["attribution"] == "in_window"
    assert {row.id for row in events.stored(door)} == {event.data["id"] for event in told}
    assert pin not in json.dumps([event.data for event in told])
    assert "864209" not in json.dumps(told[1].data)


def test_nothing_of_a_key_in_keeps_the_digits(world: SyncWorld, events: EventWorld, house: Building) -> None:
    world.stay(house, house.unit_a["id"], starts_in=timedelta(hours=-1))
    world.converge()
    typed = "5094817"
    events.key_in(house.door_a["id"], typed)
    events.poll()
    with world.services.db.engine.connect() as connection:
        rows = connection.execute(select(AccessEvent.__table__)).all()
    assert rows
    assert all(typed not in repr(tuple(row)) for row in rows)
