"""Quiet locks are read back too: a code lost from a lock with no work to do is found by the
periodic read-back and reprogrammed; a lock that cannot be read is not asked on every pass."""

from __future__ import annotations

from datetime import timedelta

from doorpin.adapters.locks.base import DeviceCode, Done, LockRef
from doorpin.services.quiet_locks import verify_quiet_locks
from tests.support.access import Building
from tests.support.lock_sync import SyncWorld


def read_back(world: SyncWorld) -> int:
    return verify_quiet_locks(world.services, world.pool, "verifier", world.config)


def test_a_code_wiped_from_a_quiet_lock_is_found_and_put_back(world: SyncWorld, house: Building) -> None:
    door_a = house.door_a["id"]
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=30))
    world.converge()
    [claim_id] = list(world.on_lock(door_a))
    assert world.fake.remove(LockRef(door_a, door_a), claim_id) == Done()  # reset behind doorpin's back

    assert read_back(world) == 0, "read back moments ago, after programming: not due yet"
    world.advance(seconds=world.config.verify_every.total_seconds())
    assert world.converge() == 0, "no work for the lock: lock sync alone would never look"
    assert read_back(world) == 1
    assert world.claim(claim_id).state == "pending"
    world.advance(seconds=1)
    world.converge()
    assert world.on_lock(door_a)[claim_id].pin == res["access"]["pin"]
    assert world.claim(claim_id).state == "programmed"


def test_a_stranger_code_on_a_quiet_lock_is_alerted(world: SyncWorld, house: Building) -> None:
    entrance = house.entrance["id"]
    world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=30))
    world.converge()
    with world.fake._guard:
        world.fake._lock(entrance).codes[None] = DeviceCode(ref=None, pin="918273", slot=9)
    world.advance(seconds=world.config.verify_every.total_seconds())
    read_back(world)
    [alert] = world.alerts("unmanaged_code")
    assert alert.subject_id == entrance
    assert "918273" not in alert.message


def test_an_unreadable_lock_waits_a_whole_period_before_the_next_try(world: SyncWorld, house: Building) -> None:
    entrance = house.entrance["id"]
    world.fake.set_faults(entrance, offline=True)
    listed = world.fake.commands["list_codes"]
    read_back(world)
    tried = world.fake.commands["list_codes"] - listed
    assert tried == 3, "every lock of the building is read once (the offline one fails)"
    for _ in range(5):
        world.advance(seconds=30)
        read_back(world)
    assert world.fake.commands["list_codes"] - listed == 3, "nobody asked again within verify_every"
    world.advance(seconds=world.config.verify_every.total_seconds())
    read_back(world)
    assert world.fake.commands["list_codes"] - listed == 6
