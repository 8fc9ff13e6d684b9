"""Lock sync read-back: what a lock really holds is checked against what doorpin believes. A code
the lock said it stored but lacks is reprogrammed; one it said it removed but kept is removed
again; both are recorded. A code doorpin did not put there is reported and left in place."""

from __future__ import annotations

from datetime import timedelta

from doorpin.adapters.locks.base import CodeSpec, Done, LockRef
from tests.support.access import Building
from tests.support.lock_sync import SyncWorld
from tests.support.resources import ok


def drift_events(world: SyncWorld, kind: str) -> list[str]:
    return [event["data"]["claim_id"] for event in world.events(f"audit.lock.drift_{kind}")]


def test_a_lock_that_lies_about_storing_is_found_out_and_repaired(world: SyncWorld, house: Building) -> None:
    door_a = house.door_a["id"]
    world.fake.set_faults(door_a, lie_on_store=True)
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=30))
    [claim_id] = [row.id for row in world.claims(reservation_id=res["id"]) if row.lock_id == door_a]
    world.advance(seconds=2)  # the worker runs a moment after the stay was written

    world.sync()
    assert world.fake.commands["program"] == 2, "each door was sent the code once"
    assert world.on_lock(door_a) == {}, "the lock answered Done and stored nothing"
    assert drift_events(world, "missing") == [claim_id]
    [event] = world.events("audit.lock.drift_missing")
    assert (event["subject"], event["property_id"]) == ({"type": "lock", "id": door_a}, house.id)
    assert world.claim(claim_id).state == "pending", "doorpin no longer believes the code is there"
    assert world.lock_states(res["id"])[door_a] == "pending"

    world.fake.set_faults(door_a)  # the lock behaves again
    world.advance(seconds=2)
    world.converge()
    [code] = world.on_lock(door_a).values()
    assert (code.ref, code.pin) == (claim_id, res["access"]["pin"])
    assert world.claim(claim_id).state == "programmed"
    assert world.lock_states(res["id"])[door_a] == "programmed"
    assert len(drift_events(world, "missing")) == 1, "once repaired, no more drift"


def test_a_code_lost_from_a_lock_is_put_back_at_its_next_verification(world: SyncWorld, house: Building) -> None:
    door_a = house.door_a["id"]
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=30))
    world.converge()
    [claim_id] = list(world.on_lock(door_a))
    # The lock is reset behind doorpin's back.
    assert world.fake.remove(LockRef(door_a, door_a), claim_id) == Done()

    world.advance(minutes=1)
    world.converge()
    assert world.on_lock(door_a) == {}, "not read back again within verify_every"
    assert drift_events(world, "missing") == []

    # The lock's next verification (here: when it is next sent work) finds the code missing.
    world.advance(seconds=world.config.verify_every.total_seconds())
    body = {"property_id": house.id, "kind": "cleaning", "name": "Cleaning", "lock_ids": [door_a]}
    cleaning = ok(world.tenant.post("/v1/access-codes", body), 201)
    world.converge()
    assert drift_events(world, "missing") == [claim_id]
    assert {code.pin for code in world.on_lock(door_a).values()} == {res["access"]["pin"], cleaning["pin"]}
    assert world.on_lock(door_a)[claim_id].pin == res["access"]["pin"]
    assert world.lock_states(res["id"])[door_a] == "programmed"


def test_a_lock_that_lies_about_removing_is_cleared_again(world: SyncWorld, house: Building) -> None:
    door_a = house.door_a["id"]
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=30))
    world.converge()
    [claim_id] = list(world.on_lock(door_a))
    world.fake.set_faults(door_a, lie_on_remove=True)
    world.advance(minutes=1)
    world.set_status(res["id"], "CANCELED")

    world.sync()
    assert list(world.on_lock(door_a)) == [claim_id], "the lock answered Done and kept the code"
    assert drift_events(world, "lingering") == [claim_id]
    assert world.lock_states(res["id"])[door_a] == "removing"

    world.fake.set_faults(door_a)
    world.converge()
    assert world.on_lock(door_a) == {}
    assert world.lock_states(res["id"])[door_a] == "removed"
    assert world.fake.keypad(door_a, res["access"]["pin"] or "") == "denied"


def test_a_code_doorpin_did_not_put_there_is_reported_and_left(world: SyncWorld, house: Building) -> None:
    entrance = house.entrance["id"]
    foreign = CodeSpec("owner-master", "8642913")
    assert isinstance(world.fake.program(LockRef(entrance, entrance), foreign), Done)
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=30))
    world.converge()

    [alert] = world.alerts("unmanaged_code")
    assert (alert.subject_id, alert.severity, alert.closed_at) == (entrance, "warning", None)
    assert "owner-master" in alert.message
    held = world.on_lock(entrance)
    assert held["owner-master"].pin == foreign.pin, "never deleted"
    assert {code.pin for code in held.values()} == {foreign.pin, res["access"]["pin"]}
    assert world.fake.commands["remove"] == 0
    assert [open_alert.id for open_alert in world.alerts("unmanaged_code", open_only=True)] == [alert.id]

    # Looking again later reports the same alert, not a new one, and still leaves the code.
    world.set_status(res["id"], "CANCELED")
    world.converge()
    assert list(world.on_lock(entrance)) == ["owner-master"]
    [again] = world.alerts("unmanaged_code")
    assert again.id == alert.id
    assert again.occurrences >= 2
