"""Lock sync under failures: an offline lock is retried with growing backoff and alerts a person
after a bound (and when an arrival passes without the code), then catches up when it returns; a
permanent refusal (a full memory) stops at once, alerts, and is not retried."""

from __future__ import annotations

from datetime import timedelta

from tests.support.access import Building
from tests.support.lock_sync import TIMING, SyncWorld
from tests.support.resources import create_lock


def test_an_offline_lock_is_retried_with_backoff_alerted_and_caught_up(world: SyncWorld, house: Building) -> None:
    entrance, door_a = house.entrance["id"], house.door_a["id"]
    world.fake.set_faults(entrance, offline=True)
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=40))
    [claim_id] = [row.id for row in world.claims(reservation_id=res["id"]) if row.lock_id == entrance]
    valid_from = world.claim(claim_id).valid_from

    world.converge()
    assert world.on_lock(door_a), "the other door is not held up"
    assert world.lock_states(res["id"]) == {entrance: "pending", door_a: "programmed"}
    assert world.lock_errors(res["id"])[entrance]["code"] == "device_offline"
    health = world.health(entrance)
    assert (health["status"], health["failures"], health["pending_commands"]) == ("degraded", 1, 1)

    # Each retry waits a jittered, growing delay; only after the bound is a person alerted.
    for attempt in range(1, TIMING.alert_after_attempts + 3):
        claim = world.claim(claim_id)
        now = world.clock.now()
        assert claim.attempts == attempt
        assert claim.sync_due_at is not None
        delay = claim.sync_due_at - now
        ceiling = min(TIMING.max_backoff, TIMING.base_backoff * 2**attempt)
        assert TIMING.base_backoff <= delay <= ceiling, (attempt, delay)
        assert world.converge() == 0, "not retried before its time"
        assert world.health(entrance)["status"] == ("degraded" if attempt < 3 else "unreachable")  # 3: API.md
        alerts = world.alerts("lock_unreachable")
        at_risk = world.alerts("arrival_at_risk")
        if attempt < TIMING.alert_after_attempts:
            assert alerts == []
            assert at_risk == []
        else:
            [alert] = alerts
            assert (alert.subject_id, alert.severity, alert.closed_at) == (entrance, "warning", None)
            assert alert.occurrences == attempt - TIMING.alert_after_attempts + 1, "one alert, counted again"
            [risk] = at_risk  # ahead of the arrival: the stay whose code is missing is named
            assert (risk.subject_id, risk.severity, risk.closed_at) == (entrance, "critical", None)
            assert res["id"] in risk.message
            assert valid_from.isoformat() in risk.message
        world.clock.set(claim.sync_due_at)
        assert world.converge() == 1
    assert world.health(entrance)["status"] == "unreachable"
    assert world.alerts("arrival_without_code") == [], "the guest is not due yet"

    # The arrival passes while the lock is still unreachable.
    world.clock.set(valid_from + timedelta(minutes=1))
    world.converge()
    [arrival] = world.alerts("arrival_without_code")
    assert (arrival.subject_id, arrival.severity, arrival.closed_at) == (entrance, "critical", None)
    assert world.on_lock(entrance) == {}
    assert world.alerts("arrival_at_risk", open_only=True) == [], "replaced by the arrival alert"

    # The lock comes back: the code arrives at the next attempt and the unreachable alert closes.
    world.fake.set_faults(entrance)
    world.clock.set(world.claim(claim_id).sync_due_at or world.clock.now())
    assert world.converge() == 1
    assert [code.pin for code in world.on_lock(entrance).values()] == [res["access"]["pin"]]
    claim = world.claim(claim_id)
    assert (claim.state, claim.attempts, claim.error_code) == ("programmed", 0, None)
    assert world.lock_states(res["id"])[entrance] == "programmed"
    assert world.lock_errors(res["id"])[entrance] is None
    [alert] = world.alerts("lock_unreachable")
    assert alert.closed_at == world.clock.now()
    assert world.alerts("lock_unreachable", open_only=True) == []
    [arrival] = world.alerts("arrival_without_code")
    assert arrival.closed_at == world.clock.now(), "the code is on the lock now: the arrival alert is over"
    health = world.health(entrance)
    assert (health["status"], health["failures"], health["pending_commands"]) == ("ok", 0, 0)


def test_a_lock_back_before_the_arrival_closes_the_arrival_at_risk_alert(world: SyncWorld, house: Building) -> None:
    entrance = house.entrance["id"]
    world.fake.set_faults(entrance, offline=True)
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=55))
    [claim_id] = [row.id for row in world.claims(reservation_id=res["id"]) if row.lock_id == entrance]
    world.converge()
    for _ in range(TIMING.alert_after_attempts - 1):
        world.clock.set(world.claim(claim_id).sync_due_at or world.clock.now())
        world.converge()
    assert len(world.alerts("arrival_at_risk", open_only=True)) == 1
    assert world.clock.now() < world.claim(claim_id).valid_from

    world.fake.set_faults(entrance)
    world.clock.set(world.claim(claim_id).sync_due_at or world.clock.now())
    assert world.converge() == 1
    assert world.lock_states(res["id"])[entrance] == "programmed"
    assert world.alerts("arrival_at_risk", open_only=True) == []
    assert world.alerts("arrival_without_code") == []


def test_backoff_is_bounded(world: SyncWorld, house: Building) -> None:
    world.fake.set_faults(house.entrance["id"], offline=True)
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=10))
    [claim_id] = [row.id for row in world.claims(reservation_id=res["id"]) if row.lock_id == house.entrance["id"]]
    for _ in range(10):  # the ceiling reaches max_backoff by the 9th
        world.converge()
        due = world.claim(claim_id).sync_due_at
        assert due is not None
        assert due - world.clock.now() <= TIMING.max_backoff
        world.clock.set(due)
    assert world.claim(claim_id).attempts == 10
    assert len(world.alerts("lock_unreachable")) == 1


def test_a_full_lock_fails_the_claim_alerts_and_is_not_retried(world: SyncWorld, house: Building) -> None:
    door_a = house.door_a["id"]
    world.fake.set_faults(door_a, memory_full=True)
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=30))
    world.converge()

    [claim] = [row for row in world.claims(reservation_id=res["id"]) if row.lock_id == door_a]
    assert (claim.state, claim.error_code, claim.sync_due_at) == ("failed", "no_space_on_device", None)
    assert world.lock_states(res["id"]) == {house.entrance["id"]: "programmed", door_a: "failed"}
    assert world.lock_errors(res["id"])[door_a]["code"] == "no_space_on_device"
    [alert] = world.alerts("no_space_on_device")
    assert (alert.severity, alert.subject_id, alert.closed_at) == ("critical", door_a, None)
    assert world.on_lock(door_a) == {}

    sent = world.fake.commands["program"]
    for hours in (1, 6, 24):
        world.advance(hours=hours)
        world.converge()
    assert world.fake.commands["program"] == sent, "a permanent failure waits for a person"
    assert world.claim(claim.id).state == "failed"
    assert len(world.alerts("no_space_on_device")) == 1
    assert world.health(door_a)["pending_commands"] == 0


def test_a_window_that_ends_before_the_lock_returns_is_reported(world: SyncWorld, house: Building) -> None:
    world.fake.set_faults(house.door_a["id"], offline=True)
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=10), lasts=timedelta(hours=3))
    [claim_id] = [row.id for row in world.claims(reservation_id=res["id"]) if row.lock_id == house.door_a["id"]]
    world.converge()
    world.clock.set(world.claim(claim_id).valid_until or world.clock.now())
    world.fake.set_faults(house.door_a["id"])
    world.converge()
    claim = world.claim(claim_id)
    assert (claim.state, claim.error_code, claim.sync_due_at) == ("failed", "window_ended", None)
    assert world.on_lock(house.door_a["id"]) == {}, "a code whose window is over is not sent any more"
    [alert] = world.alerts("code_never_programmed")
    assert alert.severity == "critical"


def test_a_lock_the_worker_cannot_drive_does_not_hold_up_the_others(world: SyncWorld, house: Building) -> None:
    # A door of a provider this installation has no adapter for (here: ttlock): its commands cannot
    # be sent, but every other lock must still get its codes.
    odd = create_lock(world.tenant, house.id, "Cloud lock", provider="ttlock")
    res = world.stay(house, house.unit_a["id"], starts_in=timedelta(minutes=30))
    for owner in ("worker-a", "worker-b"):
        world.sync(owner)
    assert world.on_lock(house.entrance["id"]), "the keypad doors are not held up"
    assert world.on_lock(house.door_a["id"])
    assert world.lock_states(res["id"]) == {
        house.entrance["id"]: "programmed",
        house.door_a["id"]: "programmed",
        odd["id"]: "pending",
    }
