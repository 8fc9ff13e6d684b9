"""Lock sync, the happy path: a stay's code goes onto exactly its doors and comes off at the end,
or at once when the stay is canceled or checked out; the API follows pending → programmed → removed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.access import Building
from tests.support.lock_sync import SyncWorld
from tests.support.resources import ok


def test_a_stay_is_programmed_on_its_unit_door_and_the_entrance_only(world: SyncWorld, house: Building) -> None:
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=30))
    entrance, door_a, door_b = house.entrance["id"], house.door_a["id"], house.door_b["id"]
    assert world.lock_states(res["id"]) == {entrance: "pending", door_a: "pending"}

    assert world.converge() == 2  # one program per door, nothing else

    pin = res["access"]["pin"]
    claims = {row.lock_id: row for row in world.claims(reservation_id=res["id"])}
    assert set(claims) == {entrance, door_a}
    for lock_id, claim in claims.items():
        held = world.on_lock(lock_id)
        assert list(held) == [claim.id], "one code per door, named by its claim"
        assert held[claim.id].pin == pin
        assert held[claim.id].slot == claim.slot is not None
        assert claim.state == "programmed"
        assert claim.sync_due_at == claim.valid_until, "next look: when the window ends"
    assert world.on_lock(door_b) == {}
    assert world.lock_states(res["id"]) == {entrance: "programmed", door_a: "programmed"}
    assert world.lock_errors(res["id"]) == {entrance: None, door_a: None}
    for lock_id in (entrance, door_a):
        health = world.health(lock_id)
        assert (health["status"], health["pending_commands"], health["failures"]) == ("ok", 0, 0)
        assert health["last_contact_at"] is not None
    assert world.health(door_b)["status"] == "unknown"


def test_two_stays_share_the_entrance_in_two_slots(world: SyncWorld, house: Building) -> None:
    first = world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=10))
    second = world.stay(house, house.unit_b["id"], starts_in=timedelta(minutes=20))
    world.converge()
    held = world.on_lock(house.entrance["id"])
    pins = {code.pin for code in held.values()}
    assert pins == {first["access"]["pin"], second["access"]["pin"]}
    assert len({code.slot for code in held.values()}) == 2
    assert set(held) == {row.id for row in world.claims() if row.lock_id == house.entrance["id"]}, (
        "each code on the entrance is named by its own claim"
    )
    assert [code.pin for code in world.on_lock(house.door_b["id"]).values()] == [second["access"]["pin"]]


def test_the_code_comes_off_when_the_window_ends(world: SyncWorld, house: Building) -> None:
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=30), lasts=timedelta(days=1))
    world.converge()
    valid_until = min(row.valid_until for row in world.claims(reservation_id=res["id"]) if row.valid_until)

    world.clock.set(valid_until - timedelta(minutes=1))
    assert world.converge() == 0, "nothing to do until the window ends"
    assert all(world.on_lock(lock) for lock in (house.entrance["id"], house.door_a["id"]))

    world.clock.set(valid_until)
    assert world.converge() == 2
    assert world.on_lock(house.entrance["id"]) == {}
    assert world.on_lock(house.door_a["id"]) == {}
    assert set(world.lock_states(res["id"]).values()) == {"removed"}
    for row in world.claims(reservation_id=res["id"]):
        assert (row.state, row.slot, row.sync_due_at) == ("removed", None, None)
        assert row.removed_at == valid_until
    assert world.health(house.entrance["id"])["pending_commands"] == 0


@pytest.mark.parametrize("statuses", [("CANCELED",), ("IN_HOUSE", "CHECKED_OUT")])
def test_a_final_status_takes_the_code_off_at_once(
    world: SyncWorld, house: Building, statuses: tuple[str, ...]
) -> None:
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=30))
    world.converge()
    assert set(world.lock_states(res["id"]).values()) == {"programmed"}

    world.advance(minutes=5)
    world.set_status(res["id"], *statuses)
    states = world.lock_states(res["id"])
    assert set(states.values()) == {"removing"}, states
    assert world.health(house.entrance["id"])["pending_commands"] == 1
    assert world.on_lock(house.entrance["id"]), "still on the door until the worker runs"

    world.converge()
    assert world.on_lock(house.entrance["id"]) == {}
    assert world.on_lock(house.door_a["id"]) == {}
    assert set(world.lock_states(res["id"]).values()) == {"removed"}
    assert world.health(house.entrance["id"])["pending_commands"] == 0


def test_a_stay_canceled_before_its_code_was_sent_never_reaches_the_lock(world: SyncWorld, house: Building) -> None:
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(days=3))
    world.converge()
    assert world.commands() == {"program": 0, "remove": 0}, "too early for locks without native scheduling"
    world.set_status(res["id"], "CANCELED")
    world.converge()
    assert world.on_lock(house.entrance["id"]) == {}
    assert set(world.lock_states(res["id"]).values()) == {"removed"}
    assert world.fake.commands["program_applied"] == 0


def test_the_pin_opens_its_doors_while_on_them_and_not_after(world: SyncWorld, house: Building) -> None:
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=30))
    pin = res["access"]["pin"]
    world.converge()
    assert world.fake.keypad(house.door_a["id"], pin) == "granted"
    assert world.fake.keypad(house.door_b["id"], pin) == "denied", "not this stay's unit"
    world.set_status(res["id"], "CANCELED")
    world.converge()
    assert world.fake.keypad(house.door_a["id"], pin) == "denied"
    assert ok(world.tenant.get(f"/v1/reservations/{res['id']}"))["access"]["state"] == "revoked"
