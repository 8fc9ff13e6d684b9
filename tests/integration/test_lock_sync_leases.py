"""Lock sync leases: a lock is worked on by one worker at a time. A lock leased to one worker is
not handed to another until the lease runs out (a crashed worker's locks are picked up then),
and two workers leasing at the same moment never get the same lock."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

from doorpin.services.lock_sync import SyncConfig, lease_locks, release_lock, sync_lock
from tests.support.access import Building
from tests.support.lock_sync import SyncWorld
from tests.support.resources import create_lock


def lease(world: SyncWorld, owner: str, config: SyncConfig | None = None) -> set[str]:
    return {lock_id for _, lock_id in lease_locks(world.services, owner, config or world.config)}


def test_a_leased_lock_goes_to_no_one_else_until_the_lease_ends(world: SyncWorld, house: Building) -> None:
    world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=30))
    due = {house.entrance["id"], house.door_a["id"]}
    assert lease(world, "worker-a") == due
    assert lease(world, "worker-b") == set()
    assert lease(world, "worker-a") == due, "the holder may renew its lease"

    world.advance(seconds=world.config.lease.total_seconds() - 1)
    assert lease(world, "worker-b") == set()
    world.advance(seconds=2)  # worker-a crashed: its lease ran out
    assert lease(world, "worker-b") == due
    assert lease(world, "worker-a") == set()

    # The worker that lost its lease sends nothing; the new holder does the work.
    for lock_id in sorted(due):
        assert sync_lock(world.services, world.pool, world.tenant.account_id, lock_id, "worker-a", world.config) == 0
    assert world.fake.commands["program"] == 0
    for lock_id in sorted(due):
        assert sync_lock(world.services, world.pool, world.tenant.account_id, lock_id, "worker-b", world.config) == 1
        release_lock(world.services, world.tenant.account_id, lock_id, "worker-b")
    assert world.fake.commands["program"] == 2
    assert lease(world, "worker-a") == set(), "nothing is due any more"


def test_a_released_lock_can_be_leased_at_once(world: SyncWorld, house: Building) -> None:
    world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=30))
    assert lease(world, "worker-a") == {house.entrance["id"], house.door_a["id"]}
    release_lock(world.services, world.tenant.account_id, house.door_a["id"], "worker-b")  # not its lease: no-op
    assert lease(world, "worker-b") == set()
    release_lock(world.services, world.tenant.account_id, house.door_a["id"], "worker-a")
    assert lease(world, "worker-b") == {house.door_a["id"]}


def test_workers_leasing_at_the_same_moment_never_share_a_lock(world: SyncWorld, house: Building) -> None:
    for n in range(6):
        create_lock(world.tenant, house.id, f"Side door {n}")  # common doors: every stay's code
    world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=30))
    due = {row.lock_id for row in world.claims()}
    assert len(due) == 8
    config = replace(world.config, locks_per_pass=3)  # three workers must share the eight locks

    for round_ in range(4):
        owners = [f"worker-{round_}-{n}" for n in range(3)]
        leased = lease_at_once(world, owners, config)
        taken = [lock for owner in owners for lock in leased[owner]]
        assert len(taken) == len(set(taken)), f"a lock leased twice: {leased}"
        assert all(len(locks) <= 3 for locks in leased.values())
        assert set(taken) == due, "every due lock went to someone"
        world.advance(seconds=world.config.lease.total_seconds() + 1)


def lease_at_once(world: SyncWorld, owners: list[str], config: SyncConfig) -> dict[str, set[str]]:
    """Each owner leases from its own thread, all released at the same moment."""
    barrier = threading.Barrier(len(owners))
    leased: dict[str, set[str]] = {}
    errors: list[BaseException] = []

    def take(owner: str) -> None:
        try:
            barrier.wait(timeout=10)
            leased[owner] = lease(world, owner, config)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=take, args=(owner,)) for owner in owners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(leased) == sorted(owners)
    return leased
