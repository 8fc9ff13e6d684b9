"""Lock sync of access codes (/v1/access-codes): staff and other non-guest codes go onto their
doors and off them when disabled, deleted or over; enabling a code again puts it back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.support.access import Building
from tests.support.lock_sync import SyncWorld
from tests.support.resources import ok


def new_code(world: SyncWorld, house: Building, **fields: Any) -> Any:
    body = {"property_id": house.id, "kind": "cleaning", "name": "Cleaning", **fields}
    return ok(world.tenant.post("/v1/access-codes", body), 201)


def door_states(world: SyncWorld, code_id: str) -> dict[str, str]:
    code = ok(world.tenant.get(f"/v1/access-codes/{code_id}"))
    return {lock["lock_id"]: lock["state"] for lock in code["access"]["locks"]}


def pins_on(world: SyncWorld, lock_id: str) -> list[str]:
    return [code.pin for code in world.on_lock(lock_id).values()]


def test_an_access_code_is_programmed_disabled_and_enabled_again(world: SyncWorld, house: Building) -> None:
    code = new_code(world, house, unit_ids=[house.unit_a["id"]])
    doors = {house.entrance["id"], house.door_a["id"]}
    assert door_states(world, code["id"]) == dict.fromkeys(doors, "pending")

    assert world.converge() == 2
    for lock_id in doors:
        [held] = world.on_lock(lock_id).values()
        assert held.pin == code["pin"]
        assert held.ref in {row.id for row in world.claims(access_code_id=code["id"])}
    assert world.on_lock(house.door_b["id"]) == {}
    assert door_states(world, code["id"]) == dict.fromkeys(doors, "programmed")

    world.advance(minutes=1)
    ok(world.tenant.patch(f"/v1/access-codes/{code['id']}", {"enabled": False}))
    assert door_states(world, code["id"]) == dict.fromkeys(doors, "removing")
    assert world.converge() == 2
    assert all(world.on_lock(lock_id) == {} for lock_id in doors)
    assert door_states(world, code["id"]) == dict.fromkeys(doors, "removed")
    assert world.fake.keypad(house.entrance["id"], code["pin"]) == "denied"

    world.advance(minutes=1)
    ok(world.tenant.patch(f"/v1/access-codes/{code['id']}", {"enabled": True}))
    assert door_states(world, code["id"]) == dict.fromkeys(doors, "pending")
    assert world.converge() == 2
    assert all(pins_on(world, lock_id) == [code["pin"]] for lock_id in doors)
    assert door_states(world, code["id"]) == dict.fromkeys(doors, "programmed")
    assert world.fake.keypad(house.door_a["id"], code["pin"]) == "granted"
    assert world.converge() == 0


def test_a_deleted_access_code_comes_off_its_doors(world: SyncWorld, house: Building) -> None:
    code = new_code(world, house, lock_ids=[house.entrance["id"], house.door_b["id"]])
    world.converge()
    assert pins_on(world, house.door_b["id"]) == [code["pin"]]
    world.advance(minutes=1)
    ok(world.tenant.delete(f"/v1/access-codes/{code['id']}"))
    world.converge()
    assert world.on_lock(house.entrance["id"]) == {}
    assert world.on_lock(house.door_b["id"]) == {}
    assert set(door_states(world, code["id"]).values()) == {"removed"}


def test_an_access_code_goes_on_at_its_start_and_off_at_its_end(world: SyncWorld, house: Building) -> None:
    starts = world.clock.now() + timedelta(days=1)
    ends = starts + timedelta(hours=8)
    code = new_code(
        world, house, lock_ids=[house.entrance["id"]], starts_at=starts.isoformat(), ends_at=ends.isoformat()
    )
    assert world.converge() == 0
    world.clock.set(starts - timedelta(minutes=60))
    assert world.converge() == 1
    assert pins_on(world, house.entrance["id"]) == [code["pin"]]
    world.clock.set(ends)
    assert world.converge() == 1
    assert world.on_lock(house.entrance["id"]) == {}
    assert door_states(world, code["id"]) == {house.entrance["id"]: "removed"}


def test_moving_an_access_code_to_another_door_moves_it_on_the_locks(world: SyncWorld, house: Building) -> None:
    code = new_code(world, house, lock_ids=[house.door_a["id"]])
    world.converge()
    world.advance(minutes=1)
    ok(world.tenant.patch(f"/v1/access-codes/{code['id']}", {"lock_ids": [house.door_b["id"]]}))
    world.converge()
    assert world.on_lock(house.door_a["id"]) == {}
    assert pins_on(world, house.door_b["id"]) == [code["pin"]]
    assert door_states(world, code["id"]) == {house.door_a["id"]: "removed", house.door_b["id"]: "programmed"}
