"""Alerts from access events, end to end: a fake keypad door, the polling job, the alert rows.

Someone guessing codes (five wrong within a minute, or a lockout) gives one alert per door that
counts further tries; a canceled stay's code tried, a checked-out one, a door opening outside a
code's window and a live code refused each say which door, when and whose code, never the PIN.
"""

from __future__ import annotations

from datetime import timedelta

from tests.support.access import Building
from tests.support.access_events import EventWorld, device_event
from tests.support.api import Tenant
from tests.support.lock_sync import SyncWorld
from tests.support.resources import ok

WRONG = ["111333", "222444", "333555", "444666", "555777", "666888"]


def test_five_wrong_codes_within_a_minute_raise_one_alert_that_counts_more(
    world: SyncWorld, events: EventWorld, house: Building
) -> None:
    door = house.door_a["id"]
    answers = [events.key_in(door, code, after=timedelta(seconds=10)) for code in WRONG[:5]]
    assert answers == ["denied"] * 4 + ["lockout"]
    events.poll()
    [alert] = events.alerts("repeated_wrong_codes")
    assert (alert.severity, alert.occurrences, alert.subject_type, alert.subject_id) == ("warning", 1, "lock", door)
    assert alert.property_id == house.id
    assert "Door A" in alert.message
    assert "5 wrong codes within 60 s" in alert.message
    assert "locked itself out" in alert.message
    assert not any(code in alert.message for code in WRONG)

    assert events.key_in(door, WRONG[5]) == "lockout"
    events.poll()
    [alert] = events.alerts("repeated_wrong_codes")
    assert alert.occurrences == 2, "one open alert; further tries only count"
    assert [a.id for a in events.alerts()] == [alert.id], "nothing else was raised"


def test_four_wrong_codes_raise_nothing(world: SyncWorld, events: EventWorld, house: Building) -> None:
    door = house.door_a["id"]
    assert [events.key_in(door, code, after=timedelta(seconds=10)) for code in WRONG[:4]] == ["denied"] * 4
    events.poll()
    assert len(events.stored(door)) == 4
    assert events.alerts() == []


def test_wrong_codes_count_by_the_lock_s_time_whatever_order_they_arrive_in(
    world: SyncWorld, events: EventWorld, house: Building
) -> None:
    door, now = house.door_a["id"], world.clock.now()
    # Spread over two minutes: no minute holds five.
    slow = [device_event(f"slow-{n}", now + timedelta(seconds=30 * n), "denied", pin=WRONG[n]) for n in range(5)]
    events.ingest(door, slow)
    assert events.alerts() == []
    # Five within a minute, an hour later, arriving one by one, newest first (a provider catching up).
    later = now + timedelta(hours=1)
    burst = [device_event(f"fast-{n}", later + timedelta(seconds=12 * n), "denied", pin=WRONG[n]) for n in range(5)]
    for event in reversed(burst):
        events.ingest(door, [event])
    [alert] = events.alerts("repeated_wrong_codes")
    assert alert.occurrences == 1, "the last to arrive (the first keyed in) completed it"


def test_a_canceled_stay_s_code_tried_raises_revoked_code_tried(
    world: SyncWorld, events: EventWorld, house: Building
) -> None:
    stay = world.stay(house, house.unit_a["id"], starts_in=timedelta(hours=-1), lasts=timedelta(days=3))
    world.converge()
    world.advance(hours=1)
    world.set_status(stay["id"], "CANCELED")
    world.converge()
    pin, door = stay["access"]["pin"], house.door_a["id"]
    assert events.key_in(door, pin) == "denied", "the code is off the door"
    events.poll()

    [row] = events.stored(door)
    assert (row.attribution, row.reservation_id, row.reason) == ("revoked", stay["id"], "unknown_code")
    [alert] = events.alerts("revoked_code_tried")
    assert (alert.severity, alert.subject_type, alert.subject_id) == ("warning", "reservation", stay["id"])
    assert stay["id"] in alert.message
    assert "Door A" in alert.message
    assert "canceled" in alert.message
    assert pin not in alert.message
    assert events.alerts("repeated_wrong_codes") == [], "a known code is not a guess"

    # The same claim tried again, and this time a lock that still held it opens: critical now.
    claim = next(c for c in world.claims(reservation_id=stay["id"]) if c.lock_id == door)
    now = world.clock.now()
    events.ingest(door, [device_event("opened", now, "granted", code_ref=claim.id)])
    [alert] = events.alerts("revoked_code_tried")
    assert (alert.severity, alert.occurrences) == ("critical", 2)
    assert "the door opened" in alert.message
    assert events.alerts("code_used_outside_window") == [], "moments after the revocation: not told yet"
    events.ingest(door, [device_event("opened-later", now + timedelta(hours=1), "granted", code_ref=claim.id)])
    [outside] = events.alerts("code_used_outside_window")
    assert (outside.severity, outside.subject_id) == ("critical", door)


def test_a_checked_out_stay_s_code_tried_is_expired_and_for_information(
    world: SyncWorld, events: EventWorld, house: Building
) -> None:
    stay = world.stay(house, house.unit_a["id"], starts_in=timedelta(hours=-1))
    world.converge()
    world.set_status(stay["id"], "IN_HOUSE", "CHECKED_OUT")
    world.converge()
    world.advance(hours=2)
    assert events.key_in(house.door_a["id"], stay["access"]["pin"]) == "denied"
    events.poll()
    [row] = events.stored(house.door_a["id"])
    assert row.attribution == "expired"
    [alert] = events.alerts("expired_code_tried")
    assert (alert.severity, alert.subject_id) == ("info", stay["id"])
    assert "checked out" in alert.message
    assert events.alerts("revoked_code_tried") == []


def test_a_door_opening_outside_the_code_s_window_raises_a_critical_alert(
    world: SyncWorld, events: EventWorld, house: Building, tenant: Tenant
) -> None:
    stay = world.stay(house, house.unit_a["id"], starts_in=timedelta(hours=-1))
    world.converge()
    # The booking moves three days later; before the reconciler takes the code off, the door opens.
    start = world.clock.now() + timedelta(days=3)
    moved = {"check_in": start.isoformat(), "check_out": (start + timedelta(days=2)).isoformat()}
    ok(tenant.patch(f"/v1/reservations/{stay['id']}", moved))
    door = house.door_a["id"]
    assert events.key_in(door, stay["access"]["pin"]) == "granted"
    events.poll()
    [row] = events.stored(door)
    assert (row.attribution, row.reservation_id) == ("outside_window", stay["id"])
    [alert] = events.alerts("code_used_outside_window")
    assert (alert.severity, alert.subject_type, alert.subject_id) == ("critical", "lock", door)
    assert "Door A opened" in alert.message
    assert stay["id"] in alert.message
    assert "clock" in alert.message
    assert stay["access"]["pin"] not in alert.message


def test_an_early_arrival_let_in_by_a_code_programmed_ahead_is_no_alarm(
    world: SyncWorld, events: EventWorld, house: Building
) -> None:
    stay = world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=30))
    world.converge()  # plain locks get the code an hour before the window: by design
    assert events.key_in(house.door_a["id"], stay["access"]["pin"]) == "granted"
    events.poll()
    [row] = events.stored(house.door_a["id"])
    assert row.attribution == "outside_window"
    assert events.alerts() == []


def test_a_live_code_refused_inside_its_window_warns_that_someone_may_be_locked_out(
    world: SyncWorld, events: EventWorld, house: Building
) -> None:
    stay = world.stay(house, house.unit_a["id"], starts_in=timedelta(hours=-1))
    world.converge()
    door = house.door_a["id"]
    with world.fake._guard:
        world.fake._lock(door).codes.clear()  # the lock lost its memory (a reset)
    assert events.key_in(door, stay["access"]["pin"]) == "denied"
    events.poll()
    [alert] = events.alerts("code_refused_in_window")
    assert (alert.severity, alert.subject_id) == ("warning", stay["id"])
    assert "locked out" in alert.message
    assert events.alerts("repeated_wrong_codes") == []
