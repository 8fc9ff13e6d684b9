"""Lock sync is idempotent: a converged system sends locks nothing, however often the worker runs,
and a command retried after its answer was lost lands in the same slot instead of a second one."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from tests.support.access import Building
from tests.support.lock_sync import SyncWorld
from tests.support.resources import ok


def test_passes_after_convergence_send_nothing(world: SyncWorld, house: Building) -> None:
    native = world.native_lock(house.id, "Gate")
    first = world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=20))
    world.stay(house, house.unit_b["id"], starts_in=timedelta(days=1))  # waits for its lead time
    world.converge()
    assert world.fake.commands["program"] == 4  # three doors now, the gate also for tomorrow
    held = {lock: world.on_lock(lock) for lock in (house.entrance["id"], house.door_a["id"], native["id"])}

    before = Counter(world.fake.commands)
    for _ in range(5):
        assert world.sync() == 0
        world.sync(owner="worker-b")
        world.advance(seconds=30)
    assert world.fake.commands == before, "not even a read-back within verify_every"
    assert {lock: world.on_lock(lock) for lock in held} == held
    assert set(world.lock_states(first["id"]).values()) == {"programmed"}


def test_reading_back_a_converged_lock_repairs_nothing_and_resends_nothing(world: SyncWorld, house: Building) -> None:
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=20))
    world.converge()
    held = world.on_lock(house.entrance["id"])
    before = Counter(world.fake.commands)

    # New work on the entrance: the worker sends it, then reads the whole lock back.
    world.advance(minutes=11)
    body = {"property_id": house.id, "kind": "staff", "name": "Staff", "lock_ids": [house.entrance["id"]]}
    staff = ok(world.tenant.post("/v1/access-codes", body), 201)
    assert world.converge() == 1
    sent = Counter(world.fake.commands)
    sent.subtract(before)
    assert (sent["program"], sent["remove"], sent["list_codes"]) == (1, 0, 1)
    assert {ref: code for ref, code in world.on_lock(house.entrance["id"]).items() if ref in held} == held
    assert {code.pin for code in world.on_lock(house.entrance["id"]).values()} == {res["access"]["pin"], staff["pin"]}
    assert world.events("audit.lock.drift") == []
    assert world.alerts() == []
    assert set(world.lock_states(res["id"]).values()) == {"programmed"}


def test_a_program_retried_after_a_lost_answer_lands_in_the_same_slot(world: SyncWorld, house: Building) -> None:
    door_a = house.door_a["id"]
    world.stay(house, house.unit_b["id"], starts_in=timedelta(minutes=5))  # the entrance's slot 1
    world.converge()
    world.fake.set_faults(house.entrance["id"], lost_reply_rate=1.0)
    world.fake.set_faults(door_a, lost_reply_rate=1.0)
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=30))
    claims = {row.lock_id: row.id for row in world.claims(reservation_id=res["id"])}

    world.converge()
    assert world.fake.commands["program_applied"] == 4, "applied on the lock; the answer never came"
    entrance_code = world.on_lock(house.entrance["id"])[claims[house.entrance["id"]]]
    assert world.lock_states(res["id"])[door_a] == "pending"
    assert world.lock_errors(res["id"])[door_a]["code"] == "provider_error"

    world.fake.set_faults(house.entrance["id"])
    world.fake.set_faults(door_a)
    for lock_id in (house.entrance["id"], door_a):
        world.clock.set(max(world.clock.now(), world.claim(claims[lock_id]).sync_due_at or world.clock.now()))
    world.converge()

    assert world.fake.commands["program_applied"] == 4, "the retry found the code already there"
    held = world.on_lock(house.entrance["id"])
    assert len(held) == 2
    assert held[claims[house.entrance["id"]]].slot == entrance_code.slot
    assert len({code.slot for code in held.values()}) == 2, "no code in two slots"
    [door_code] = world.on_lock(door_a).values()
    assert door_code.ref == claims[door_a]
    for lock_id, claim_id in claims.items():
        claim = world.claim(claim_id)
        assert (claim.state, claim.slot) == ("programmed", world.on_lock(lock_id)[claim_id].slot)
    assert set(world.lock_states(res["id"]).values()) == {"programmed"}
