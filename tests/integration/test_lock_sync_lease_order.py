"""Lock sync fairness: when more locks have due work than a pass takes, the locks that have waited
longest are leased first, whatever their ids. (The lease once filtered locks with `IN (the most
overdue)`, which dropped that order: the database handed out the lowest ids first, and under a
backlog the same locks kept waiting; see benchmarks/README.md, `lock_sync`.)"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from doorpin.services.lock_sync import lease_locks
from tests.support.lock_sync import SyncWorld
from tests.support.resources import create_lock, create_property, create_unit, ok


def test_the_locks_waiting_longest_are_leased_first(world: SyncWorld) -> None:
    prop = create_property(world.tenant, "Row", timezone="UTC")
    doors = [create_lock(world.tenant, prop["id"], f"Door {n}")["id"] for n in range(6)]  # ids ascend
    units = [create_unit(world.tenant, prop["id"], f"Room {n}", lock_ids=[door])["id"] for n, door in enumerate(doors)]
    for unit_id in reversed(units):  # the last door's code has waited longest, the first door's least
        check_in = world.clock.now() + timedelta(minutes=30)
        window = {"check_in": check_in.isoformat(), "check_out": (check_in + timedelta(days=2)).isoformat()}
        ok(world.tenant.post("/v1/reservations", {"property_id": prop["id"], "unit_id": unit_id, **window}), 201)
        world.advance(seconds=1)
    config = replace(world.config, locks_per_pass=2)

    leased = [lock_id for _, lock_id in lease_locks(world.services, "worker-a", config)]
    assert set(leased) == set(doors[-2:])
    leased = [lock_id for _, lock_id in lease_locks(world.services, "worker-b", config)]
    assert set(leased) == set(doors[-4:-2])
