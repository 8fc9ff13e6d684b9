"""Lock sync while a command is in flight: the reconciler sends commands outside any transaction,
so a stay can change between planning and the lock's answer. A cancellation that lands while the
code is being programmed must still end with the code off the lock; moved dates must still reach
a lock that keeps windows."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import pytest

from doorpin.adapters.locks.base import CodeSpec, LockRef, Outcome
from doorpin.bootstrap import AppServices
from doorpin.domain.scopes import Scope, effective_scopes
from doorpin.services import reservations
from doorpin.services.lock_sync import SyncConfig
from doorpin.services.principal import Principal
from tests.support.access import Building
from tests.support.api import Tenant
from tests.support.clock import FakeClock
from tests.support.fake_lock_provider import FakeLockProvider
from tests.support.lock_sync import TIMING, SyncWorld


class InterruptedLock(FakeLockProvider):
    """The fake, but the first `program` on a chosen device runs a callback before it acts: the
    world changing while the command travels to the lock."""

    def __init__(self, clock: Callable[[], datetime], settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(settings, clock=clock)
        self.interrupt: tuple[str, Callable[[], None]] | None = None
        self.interrupted = 0

    def program(self, lock: LockRef, code: CodeSpec) -> Outcome:
        if self.interrupt is not None and self.interrupt[0] == lock.device_id:
            _, callback = self.interrupt
            self.interrupt = None
            callback()
            self.interrupted += 1
        return super().program(lock, code)


@pytest.fixture
def fake(clock: FakeClock) -> InterruptedLock:
    return InterruptedLock(clock.now)


@pytest.fixture
def world(services: AppServices, tenant: Tenant, clock: FakeClock, fake: InterruptedLock) -> SyncWorld:
    # One lock at a time: the interrupted command is the only one in flight. (The API's revocation
    # reads claims without row locks, so a command answered on another lock at that very moment
    # races it; that is a separate matter, reported with these tests.)
    return SyncWorld(services, tenant, clock, fake, SyncConfig(timing=TIMING, parallel_locks=1))


def change_stay(world: SyncWorld, reservation_id: str, changes: dict[str, Any], elapsed: timedelta) -> None:
    """Change the stay through the service layer, in its own transaction, `elapsed` after the
    command was planned."""
    admin = Principal(world.tenant.account_id, "key_test", effective_scopes([Scope.ADMIN]), None)
    app = world.services
    world.clock.advance(seconds=elapsed.total_seconds())
    with app.db.transaction() as session:
        reservations.update_reservation(session, app.clock, app.vault, admin, reservation_id, changes)


@pytest.mark.parametrize(
    "elapsed",
    [timedelta(milliseconds=1500), timedelta(0)],
    ids=["clock-moved", "same-instant"],
)
def test_a_cancellation_during_programming_ends_with_the_code_off_the_lock(
    world: SyncWorld, house: Building, fake: InterruptedLock, elapsed: timedelta
) -> None:
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=30))
    door_a = house.door_a["id"]
    [claim_id] = [row.id for row in world.claims(reservation_id=res["id"]) if row.lock_id == door_a]
    world.advance(seconds=elapsed.total_seconds())  # same-instant: stay written, synced and canceled in one tick
    fake.interrupt = (door_a, lambda: change_stay(world, res["id"], {"status": "CANCELED"}, elapsed))

    world.sync()
    assert fake.interrupted == 1
    assert fake.commands["program_applied"] >= 1, "the program command did reach the lock"
    world.sync()

    assert world.on_lock(door_a) == {}
    assert world.on_lock(house.entrance["id"]) == {}
    claim = world.claim(claim_id)
    assert (claim.desired, claim.state, claim.slot, claim.sync_due_at) == ("absent", "removed", None, None)
    assert set(world.lock_states(res["id"]).values()) == {"removed"}
    assert fake.keypad(door_a, res["access"]["pin"]) == "denied"
    assert world.converge() == 0, "settled"


def test_a_cancellation_still_committing_when_the_answer_is_recorded_is_not_lost(
    world: SyncWorld, house: Building, fake: InterruptedLock
) -> None:
    """The cancel's transaction has written the claims but not committed when the lock answers:
    recording the answer must wait for it and see it, not overwrite it with a stale read."""
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=30))
    door_a = house.door_a["id"]
    world.advance(seconds=1)
    admin = Principal(world.tenant.account_id, "key_test", effective_scopes([Scope.ADMIN]), None)
    app = world.services
    written = threading.Event()
    errors: list[BaseException] = []

    def cancel_slowly() -> None:
        try:
            with app.db.transaction() as session:
                reservations.update_reservation(session, app.clock, app.vault, admin, res["id"], {"status": "CANCELED"})
                session.flush()
                written.set()
                time.sleep(0.5)  # the worker records the lock's answer meanwhile
        except BaseException as exc:  # reported below
            errors.append(exc)
            written.set()

    canceler = threading.Thread(target=cancel_slowly)

    def start_cancel() -> None:
        world.advance(seconds=1)
        canceler.start()
        assert written.wait(timeout=10)

    fake.interrupt = (door_a, start_cancel)
    world.sync()
    canceler.join(timeout=30)
    assert errors == []
    world.advance(seconds=1)
    world.sync()

    assert world.on_lock(door_a) == {}, "the canceled code is off the door"
    assert set(world.lock_states(res["id"]).values()) == {"removed"}
    assert world.converge() == 0


def test_dates_moved_during_programming_still_reach_a_native_lock(
    world: SyncWorld, house: Building, fake: InterruptedLock
) -> None:
    gate = world.native_lock(house.id, "Gate")
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(days=2))
    world.advance(seconds=1)
    check_in = world.clock.now() + timedelta(days=2, hours=4)
    check_out = check_in + timedelta(days=3)
    moved = {"check_in": check_in, "check_out": check_out}
    fake.interrupt = (gate["id"], lambda: change_stay(world, res["id"], moved, timedelta(seconds=1)))

    world.sync()
    world.sync()
    assert fake.interrupted == 1
    [code] = world.on_lock(gate["id"]).values()
    assert (code.starts_at, code.ends_at) == (check_in, check_out), "the window sent last is the new one"
    assert world.lock_states(res["id"])[gate["id"]] == "programmed"
    assert fake.commands["program"] == 2
