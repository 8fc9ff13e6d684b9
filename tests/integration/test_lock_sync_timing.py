"""Lock sync timing: locks without native scheduling get a code a lead time (60 min) before its
window; locks that keep windows themselves get it up to a horizon (72 h) ahead, with the window,
and learn the new window when a stay's dates move."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from doorpin.domain.sync_plan import SyncTiming
from tests.support.access import Building
from tests.support.lock_sync import SyncWorld
from tests.support.resources import ok

LEAD = SyncTiming().lead
HORIZON = SyncTiming().horizon


@pytest.fixture
def gate(world: SyncWorld, house: Building) -> dict[str, Any]:
    """A second common door that keeps time windows itself."""
    return world.native_lock(house.id, "Gate")


def window_of(world: SyncWorld, reservation_id: str, lock_id: str) -> tuple[Any, Any]:
    [row] = [r for r in world.claims(reservation_id=reservation_id) if r.lock_id == lock_id and r.revoked_at is None]
    return row.valid_from, row.valid_until


def test_a_lock_without_native_scheduling_gets_the_code_only_a_lead_time_ahead(
    world: SyncWorld, house: Building
) -> None:
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(hours=5))
    valid_from, _ = window_of(world, res["id"], house.door_a["id"])
    assert world.converge() == 0
    assert world.on_lock(house.door_a["id"]) == {}
    assert set(world.lock_states(res["id"]).values()) == {"pending"}

    world.clock.set(valid_from - LEAD - timedelta(seconds=1))
    assert world.converge() == 0
    assert world.on_lock(house.door_a["id"]) == {}, "one second too early"

    world.clock.set(valid_from - LEAD)
    assert world.converge() == 2
    for lock_id in (house.entrance["id"], house.door_a["id"]):
        [code] = world.on_lock(lock_id).values()
        assert code.pin == res["access"]["pin"]
        assert (code.starts_at, code.ends_at) == (None, None), "such a lock is given no window"
    assert set(world.lock_states(res["id"]).values()) == {"programmed"}


def test_a_native_lock_gets_the_code_up_to_the_horizon_ahead_with_its_window(
    world: SyncWorld, house: Building, gate: dict[str, Any]
) -> None:
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(days=5))
    valid_from, valid_until = window_of(world, res["id"], gate["id"])
    assert world.converge() == 0

    world.clock.set(valid_from - HORIZON - timedelta(seconds=1))
    assert world.converge() == 0
    assert world.on_lock(gate["id"]) == {}

    world.clock.set(valid_from - HORIZON)
    assert world.converge() == 1, "only the native lock, days ahead"
    [code] = world.on_lock(gate["id"]).values()
    assert code.pin == res["access"]["pin"]
    assert (code.starts_at, code.ends_at) == (valid_from, valid_until)
    assert world.on_lock(house.door_a["id"]) == {}
    assert world.on_lock(house.entrance["id"]) == {}
    states = world.lock_states(res["id"])
    assert states == {gate["id"]: "programmed", house.entrance["id"]: "pending", house.door_a["id"]: "pending"}

    # The lock enforces the window itself: the PIN is there, but does not open yet.
    assert world.fake.keypad(gate["id"], res["access"]["pin"]) == "denied"
    world.clock.set(valid_from - LEAD)
    assert world.converge() == 2
    world.clock.set(valid_from)
    assert world.fake.keypad(gate["id"], res["access"]["pin"]) == "granted"
    assert set(world.lock_states(res["id"]).values()) == {"programmed"}


def test_moving_a_stay_sends_the_new_window_to_a_native_lock(
    world: SyncWorld, house: Building, gate: dict[str, Any]
) -> None:
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(days=2))
    world.converge()
    [before] = world.on_lock(gate["id"]).values()

    world.advance(minutes=5)
    check_in = world.clock.now() + timedelta(days=2, hours=6)
    body = {"check_in": check_in.isoformat(), "check_out": (check_in + timedelta(days=1)).isoformat()}
    ok(world.tenant.patch(f"/v1/reservations/{res['id']}", body))
    assert world.lock_states(res["id"])[gate["id"]] == "pending"
    assert world.converge() == 1
    [after] = world.on_lock(gate["id"]).values()
    assert (after.starts_at, after.ends_at) == window_of(world, res["id"], gate["id"])
    assert (after.starts_at, after.ends_at) == (check_in, check_in + timedelta(days=1))
    assert (after.ref, after.slot, after.pin) == (before.ref, before.slot, before.pin), "same code, same slot"
    assert world.lock_states(res["id"])[gate["id"]] == "programmed"


def test_moving_a_stay_beyond_the_horizon_does_not_leave_the_old_window_on_a_native_lock(
    world: SyncWorld, house: Building, gate: dict[str, Any]
) -> None:
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(days=2))
    world.converge()
    assert world.on_lock(gate["id"])

    world.advance(minutes=5)
    check_in = world.clock.now() + timedelta(days=20)
    body = {"check_in": check_in.isoformat(), "check_out": (check_in + timedelta(days=1)).isoformat()}
    ok(world.tenant.patch(f"/v1/reservations/{res['id']}", body))
    world.converge()
    # The lock must not keep opening on the old dates: it holds the new window or nothing.
    held = list(world.on_lock(gate["id"]).values())
    assert len(held) <= 1
    for code in held:
        assert (code.starts_at, code.ends_at) == (check_in, check_in + timedelta(days=1))
    old_start = world.clock.now() + timedelta(days=2, minutes=1)
    world.clock.set(old_start)
    world.converge()
    assert world.fake.keypad(gate["id"], res["access"]["pin"]) == "denied"
    # ... and opens on the new ones.
    world.clock.set(check_in - HORIZON)
    world.converge()
    world.clock.set(check_in)
    assert world.fake.keypad(gate["id"], res["access"]["pin"]) == "granted"


def test_moving_a_stay_later_takes_the_code_off_a_lock_without_native_scheduling_until_its_new_lead_time(
    world: SyncWorld, house: Building
) -> None:
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=30))
    pin = res["access"]["pin"]
    world.converge()
    assert world.fake.keypad(house.door_a["id"], pin) == "granted"

    world.advance(minutes=5)
    check_in = world.clock.now() + timedelta(days=7)
    body = {"check_in": check_in.isoformat(), "check_out": (check_in + timedelta(days=2)).isoformat()}
    ok(world.tenant.patch(f"/v1/reservations/{res['id']}", body))
    world.converge()
    # Such a lock opens for every code it holds: a week early is a week too early.
    assert world.on_lock(house.door_a["id"]) == {}
    assert world.fake.keypad(house.door_a["id"], pin) == "denied"
    assert set(world.lock_states(res["id"]).values()) == {"pending"}

    world.clock.set(check_in - LEAD)
    world.converge()
    assert [code.pin for code in world.on_lock(house.door_a["id"]).values()] == [pin]
    assert set(world.lock_states(res["id"]).values()) == {"programmed"}


def test_shortening_a_stay_to_an_end_already_past_takes_the_code_off(world: SyncWorld, house: Building) -> None:
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=30))
    world.converge()
    world.advance(hours=3)
    world.set_status(res["id"], "IN_HOUSE")
    check_out = world.clock.now() - timedelta(hours=1)
    ok(world.tenant.patch(f"/v1/reservations/{res['id']}", {"check_out": check_out.isoformat()}))
    world.converge()
    assert world.on_lock(house.door_a["id"]) == {}
    assert world.on_lock(house.entrance["id"]) == {}
    assert set(world.lock_states(res["id"]).values()) == {"removed"}
    assert world.alerts("code_never_programmed") == [], "the code was on the lock; it was not 'never programmed'"
