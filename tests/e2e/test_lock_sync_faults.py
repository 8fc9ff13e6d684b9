"""Lock sync under faults, with real processes: `doorpin simulate-locks` as the locks, one or two
`doorpin worker`s as the reconciler, and stays written through doorpin's service layer in the
test process. Each test waits for convergence with a deadline and, if it fails, says what differs.

"Converged" (see `lock_sync_rig.wait_until_converged`): every lock holds exactly the codes of the
live claims whose programming time has come (by ref = claim id, with the right PIN, and the window
on locks that keep one), nothing else, one slot per ref and per PIN, and no claim is left due.
The workers run with a 3 s lease (`DOORPIN_SYNC_LEASE_SECONDS`), so a killed worker's locks come
back quickly.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest

from tests.e2e.lock_sync_rig import (
    HubProcess,
    OnLock,
    Scene,
    Stay,
    differences,
    running_hub,
    sync_database,
    wait_for,
    wait_until_converged,
    worker_fleet,
)

pytestmark = pytest.mark.e2e

CONVERGE_SECONDS = 90.0


# `backend` (sqlite, postgresql) comes from tests/conftest.py.


@pytest.fixture
def sync_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A migrated database of its own for each test: the workers are separate processes."""
    with sync_database(backend, tmp_path) as url:
        yield url


@pytest.fixture
def scene(sync_url: str) -> Iterator[Scene]:
    scene = Scene(sync_url)
    yield scene
    scene.close()


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    with running_hub(tmp_path) as running:
        yield running


def rng_for(name: str) -> random.Random:
    """Random choices, reproducible from the seed printed in a failing test's output."""
    seed = int(os.environ.get("DOORPIN_FAULT_SEED", "0")) or random.SystemRandom().randrange(1, 2**31)
    print(f"{name}: DOORPIN_FAULT_SEED={seed}")
    return random.Random(seed)


@dataclass(frozen=True)
class Room:
    property_id: str
    unit_id: str
    lock_ids: tuple[str, ...]


def build_locks(
    scene: Scene, hub: HubProcess, *, properties: int, rooms: int, wings: int, slots: int, native_every: int = 0
) -> list[Room]:
    """`properties` properties, each with `rooms` units behind their own door and, if `wings`,
    `wings` wing doors each shared by every `wings`-th unit; every `native_every`-th lock keeps
    time windows itself. Each lock is configured on the hub (device id = lock id) with `slots`."""
    made: list[Room] = []
    count = 0
    for p in range(properties):
        property_id = scene.property(f"House {p}")

        def new_lock(name: str, property_id: str = property_id) -> str:
            nonlocal count
            count += 1
            native = bool(native_every) and count % native_every == 0
            lock_id = scene.lock(property_id, name, native=native)
            hub.client.configure_lock(lock_id, slots=slots, native_scheduling=native)
            return lock_id

        wing_locks = [new_lock(f"Wing {w}") for w in range(wings)]
        for r in range(rooms):
            lock_ids = (new_lock(f"Room {r}"), *([wing_locks[r % wings]] if wings else []))
            made.append(Room(property_id, scene.unit(property_id, f"Room {r}", list(lock_ids)), lock_ids))
    return made


def stays_for(scene: Scene, rooms: list[Room], count: int, rng: random.Random, in_house_share: float) -> list[Stay]:
    """`count` stays spread over `rooms`, all due for programming now: IN_HOUSE ones (window
    open) and CONFIRMED ones checking in within the 60 min lead time."""
    now = scene.now()
    wanted = []
    for i in range(count):
        room = rooms[i % len(rooms)]
        if rng.random() < in_house_share:
            check_in, status = now - timedelta(hours=rng.uniform(1, 20)), "IN_HOUSE"
        else:
            check_in, status = now + timedelta(minutes=rng.uniform(5, 45)), "CONFIRMED"
        wanted.append((room.property_id, room.unit_id, check_in, check_in + timedelta(days=rng.uniform(1, 4)), status))
    return scene.stays(wanted)


def assert_gone(scene: Scene, hub: HubProcess, ended: list[Stay]) -> None:
    """Ended stays: every claim removed in the database, no ref and no PIN of theirs on a lock."""
    pins = scene.pins()
    claims = scene.claims_by_stay()
    on_locks = {lock_id: hub.codes(lock_id) for lock_id in {lock_id for s in ended for lock_id in s.lock_ids}}
    for stay in ended:
        assert len(claims[stay.id]) == len(stay.lock_ids)
        for row in claims[stay.id]:
            assert (row.desired, row.state, row.slot) == ("absent", "removed", None), (stay, row.id, row.state)
            on_lock = on_locks[row.lock_id]
            assert row.id not in {code["ref"] for code in on_lock}, (stay, row.lock_id)
            assert pins[row.access_code_id] not in {code["pin"] for code in on_lock}, (stay, row.lock_id)


def assert_slots_recorded(scene: Scene, actual: Mapping[str, Mapping[str, OnLock]]) -> None:
    """doorpin's slot bookkeeping matches the lock: each programmed claim names the slot it holds."""
    for row in scene.claims():
        if row.state == "programmed":
            held = actual[row.lock_id].get(row.id)
            assert held is not None, row.id
            assert row.slot == held.slot, (row.id, row.slot, held.slot)


# -- 1. SIGKILL at random points ----------------------------------------------------------------------


KILLS = 4


def test_sigkilled_workers_leave_every_code_on_exactly_its_locks(
    backend: str, scene: Scene, hub: HubProcess, sync_url: str, tmp_path: Path
) -> None:
    """500 stays on 50 locks (40 room doors, 10 wing doors shared by 4 rooms; every 5th lock keeps
    windows natively): SIGKILL a worker at random points of the run, restart it at once, cancel
    and check out a batch of stays in the middle; after convergence every live code is on exactly
    its locks and nothing else is. On PostgreSQL two workers run and a random one is killed."""
    rng = rng_for("kill")
    rooms = build_locks(scene, hub, properties=5, rooms=8, wings=2, slots=120, native_every=5)
    assert len(scene.lock_ids()) == 50
    stays = stays_for(scene, rooms, 500, rng, in_house_share=0.2)
    programs = sum(len(stay.lock_ids) for stay in stays)
    assert programs == 1000

    def sent() -> int:
        return int(hub.client.stats()["counters"].get("program", 0))

    def reached(point: float) -> bool:
        return sent() >= point

    # Each kill comes after a random number of program commands since the previous one, so every
    # kill lands while a worker is sending (the last one before 60% of the run at the latest).
    steps = [rng.randint(20, 150) for _ in range(KILLS)]
    killed_at: list[int] = []
    ended: list[Stay] = []
    with worker_fleet(sync_url, hub, tmp_path) as workers:
        started = time.monotonic()
        for _ in range(2 if backend == "postgresql" else 1):
            workers.start()
        for n, step in enumerate(steps):
            point = (killed_at[-1] if killed_at else 0) + step
            wait_for(partial(reached, point), deadline_seconds=60, what=f"{point} programs sent", workers=workers)
            time.sleep(rng.uniform(0, 0.05))
            killed_at.append(sent())
            workers.kill(rng.choice(workers.running))
            workers.start()
            if n == 1:
                confirmed = [s for s in stays if s.status == "CONFIRMED"]
                in_house = [s for s in stays if s.status == "IN_HOUSE"]
                canceled, checked_out = rng.sample(confirmed, 50), rng.sample(in_house, 10)
                scene.set_status([s.id for s in canceled], "CANCELED")
                scene.set_status([s.id for s in checked_out], "CHECKED_OUT")
                ended = canceled + checked_out
        done = wait_until_converged(scene, hub, deadline_seconds=CONVERGE_SECONDS, workers=workers, started=started)
    counters = hub.client.stats()["counters"]
    repeated = counters.get("program", 0) - counters.get("program_applied", 0)
    print(f"kills after {killed_at} of {programs} programs; converged in {done.seconds:.1f} s; {repeated} repeats")

    assert workers.killed == KILLS
    assert killed_at[-1] < programs, f"the run ended before the kills: {killed_at}"
    live_refs = {ref for codes in done.expected.values() for ref in codes}
    ended_ids = {s.id for s in ended}
    claims = scene.claims_by_stay()
    for stay in stays:
        assert len(claims[stay.id]) == len(stay.lock_ids)
        if stay.id not in ended_ids:
            assert {row.id for row in claims[stay.id]} <= live_refs, stay
            assert {row.state for row in claims[stay.id]} == {"programmed"}, stay
    assert_gone(scene, hub, ended)
    assert_slots_recorded(scene, done.actual)
    assert not [row for row in scene.claims() if row.state == "failed"]


# -- 2. a lock offline for a while ----------------------------------------------------------------------


def test_an_offline_lock_gets_its_codes_when_it_returns_and_a_missed_arrival_is_alerted(
    scene: Scene, hub: HubProcess, sync_url: str, tmp_path: Path
) -> None:
    """One of four locks is offline from the start. The others are programmed meanwhile; a stay
    whose window starts while the lock is unreachable raises `arrival_without_code` (a stay that
    has not begun does not); once the lock is back, both codes arrive."""
    rng = rng_for("offline")
    dark_room, *rooms = build_locks(scene, hub, properties=1, rooms=4, wings=0, slots=20)
    [dark] = dark_room.lock_ids
    hub.client.set_faults(dark, offline=True)
    others = stays_for(scene, rooms, 9, rng, in_house_share=0.3)
    later = scene.stay(dark_room.property_id, dark_room.unit_id, scene.now() + timedelta(minutes=30))
    arriving = scene.stay(dark_room.property_id, dark_room.unit_id, scene.now() + timedelta(seconds=5))
    [later_claim] = scene.claims_of(later.id)
    [arriving_claim] = scene.claims_of(arriving.id)

    with worker_fleet(sync_url, hub, tmp_path) as workers:
        workers.start()

        def others_programmed() -> bool:
            claims = scene.claims_by_stay()
            return all(row.state == "programmed" for stay in others for row in claims[stay.id])

        wait_for(others_programmed, deadline_seconds=60, what="the online locks' codes", workers=workers)

        def arrival_alert() -> list[object]:
            return [a for a in scene.alerts("arrival_without_code") if a.subject_id == dark]

        [alert] = wait_for(arrival_alert, deadline_seconds=60, what="an arrival_without_code alert", workers=workers)
        assert alert.dedupe_key == f"arrival_without_code:{arriving_claim.id}"
        assert alert.closed_at is None
        assert hub.client.lock(dark)["codes"] == 0, "the lock was unreachable: nothing can be on it"
        assert scene.claims_of(arriving.id)[0].state == "pending"
        assert scene.claims_of(later.id)[0].error_code == "device_offline"

        hub.client.clear_faults(dark)
        back = time.monotonic()
        done = wait_until_converged(scene, hub, deadline_seconds=CONVERGE_SECONDS, workers=workers, started=back)
    print(f"codes on the returned lock {done.seconds:.1f} s after it came back")

    assert set(done.actual[dark]) == {later_claim.id, arriving_claim.id}
    assert not [a for a in scene.alerts("arrival_without_code") if a.dedupe_key.endswith(later_claim.id)]
    assert {row.state for row in scene.claims()} == {"programmed"}


# -- 3. error rate and latency ---------------------------------------------------------------------------


FAULT_CONVERGE_SECONDS = 180.0


def test_a_hub_failing_one_command_in_five_still_converges_with_each_code_stored_once(
    backend: str, scene: Scene, hub: HubProcess, sync_url: str, tmp_path: Path
) -> None:
    """Every lock fails 20% of its commands and answers after a random 0-150 ms: half of the
    locks before applying a command (`error_rate`), half after (`lost_reply_rate`: the code is
    stored, the answer lost, the reconciler must retry into the same slot). 60 stays on 12 locks
    converge; each code is stored once per lock (the hub's `program_applied` counts a ref only
    when the lock's memory changes, so a retry after a lost reply does not count) and removed once.

    Bounded by the reconciler's backoff (full jitter, uniform in [2 s, 2^(k+1) s] after the k-th
    failure in a row): convergence takes 15-30 s as a rule, a minute when one claim fails four or
    five times in a row. A simulation of that backoff puts a wait past 180 s at about 0.15% of
    runs per phase, past 120 s at about 0.4%: hence 180 s here."""
    rng = rng_for("errors")
    rooms = build_locks(scene, hub, properties=1, rooms=12, wings=0, slots=20)
    lock_ids = scene.lock_ids()
    lossy = set(lock_ids[1::2])
    for lock_id in lock_ids:
        kind = "lost_reply_rate" if lock_id in lossy else "error_rate"
        hub.client.set_faults(lock_id, **{kind: 0.2}, latency_ms=150)
    stays = stays_for(scene, rooms, 60, rng, in_house_share=0.2)

    with worker_fleet(sync_url, hub, tmp_path) as workers:
        workers.start()
        if backend == "postgresql":
            workers.start()
        done = wait_until_converged(scene, hub, deadline_seconds=FAULT_CONVERGE_SECONDS, workers=workers)
        counters = hub.lock_counters()
        per_lock = Counter(row.lock_id for row in scene.claims())
        for lock_id in lock_ids:
            assert counters[lock_id].get("program_applied", 0) == per_lock[lock_id], (lock_id, counters[lock_id])
        assert_slots_recorded(scene, done.actual)

        ended = [s for s in stays if s.status == "CONFIRMED"][:12]
        scene.set_status([s.id for s in ended], "CANCELED")
        wait_until_converged(scene, hub, deadline_seconds=FAULT_CONVERGE_SECONDS, workers=workers)
        counters = hub.lock_counters()
    removed = Counter(lock_id for stay in ended for lock_id in stay.lock_ids)
    for lock_id in lock_ids:
        assert counters[lock_id].get("remove_applied", 0) == removed[lock_id], (lock_id, counters[lock_id])
        assert counters[lock_id].get("program_applied", 0) == per_lock[lock_id], (lock_id, counters[lock_id])
    assert_gone(scene, hub, ended)
    lost = sum(counters[lock_id].get("fault_lost_reply", 0) for lock_id in lossy)
    refused = sum(counters[lock_id].get("fault_error", 0) for lock_id in lock_ids if lock_id not in lossy)
    print(f"lost replies {lost}, refused commands {refused}; {sum(c['program'] for c in counters.values())} PUTs")
    assert lost > 0, "replies were lost"
    assert refused > 0, "commands were refused"


# -- 4. two workers, one PostgreSQL --------------------------------------------------------------------

_SENT = re.compile(r"keypad (PUT|DELETE) /codes/(\S+) lock=(\S+): (\d+)")


def sent_by(log_text: str) -> Counter[str]:
    """Commands a worker sent and the hub answered 2xx, by method (from its DEBUG log)."""
    return Counter(m.group(1) for m in _SENT.finditer(log_text) if m.group(4).startswith("2"))


@pytest.mark.parametrize("backend", ["postgresql"])  # several workers share work through PostgreSQL row locks
def test_two_workers_make_every_command_effective_exactly_once(
    backend: str, scene: Scene, hub: HubProcess, sync_url: str, tmp_path: Path
) -> None:
    """Two `doorpin worker`s share 80 locks through PostgreSQL (`FOR UPDATE SKIP LOCKED` and a
    lease per lock); each leases at most 32 locks a pass, so both get work. No faults are
    injected, so no repeat is legitimate: per lock, the hub sees exactly one program command per
    claim and, after a batch of cancellations, exactly one remove per canceled claim. Both workers
    took part, and what they logged as sent is exactly what the hub counted."""
    rng = rng_for("two-workers")
    rooms = build_locks(scene, hub, properties=4, rooms=20, wings=0, slots=20)
    lock_ids = scene.lock_ids()
    stays = stays_for(scene, rooms, 400, rng, in_house_share=0.2)
    per_lock = Counter(lock_id for stay in stays for lock_id in stay.lock_ids)

    with worker_fleet(sync_url, hub, tmp_path, extra_env={"DOORPIN_LOG_LEVEL": "DEBUG"}) as workers:
        workers.start()
        workers.start()
        wait_until_converged(scene, hub, deadline_seconds=CONVERGE_SECONDS, workers=workers)
        counters = hub.lock_counters()
        for lock_id in lock_ids:
            got = counters[lock_id]
            assert (got.get("program"), got.get("program_applied"), got.get("remove", 0)) == (
                per_lock[lock_id],
                per_lock[lock_id],
                0,
            ), (lock_id, got)

        ended = rng.sample([s for s in stays if s.status == "CONFIRMED"], 120)
        scene.set_status([s.id for s in ended], "CANCELED")
        wait_until_converged(scene, hub, deadline_seconds=CONVERGE_SECONDS, workers=workers)
        counters = hub.lock_counters()
    removed = Counter(lock_id for stay in ended for lock_id in stay.lock_ids)
    for lock_id in lock_ids:
        got = counters[lock_id]
        assert (got.get("program"), got.get("remove", 0), got.get("remove_applied", 0)) == (
            per_lock[lock_id],
            removed[lock_id],
            removed[lock_id],
        ), (lock_id, got)
    assert_gone(scene, hub, ended)
    by_worker = [sent_by(path.read_text(errors="replace")) for path in workers.log_paths]
    print(f"commands sent per worker: {by_worker}")
    assert all(sent["PUT"] > 0 for sent in by_worker), "both workers programmed locks"
    assert sum(sent["PUT"] for sent in by_worker) == sum(per_lock.values())
    assert sum(sent["DELETE"] for sent in by_worker) == sum(removed.values())


# -- 5. a cancellation while the program command is in flight ------------------------------------------


def test_a_cancellation_while_the_code_is_being_programmed_ends_with_the_code_off_the_lock(
    backend: str, scene: Scene, hub: HubProcess, sync_url: str, tmp_path: Path
) -> None:
    """The lock answers every command after 2.5 s. The stay is canceled after the hub has taken the
    program command and before it answers; the code lands, then doorpin notices the claim
    changed under the command and takes the code off again. (The lease is longer than a command
    here: a lease shorter than one command would let it expire mid-command.)"""
    [room] = build_locks(scene, hub, properties=1, rooms=1, wings=0, slots=20)
    [lock_id] = room.lock_ids
    hub.client.set_faults(lock_id, latency_ms=2500, latency_min_ms=2500)

    def programs() -> int:
        return int(hub.lock_counters().get(lock_id, {}).get("program", 0))

    with worker_fleet(sync_url, hub, tmp_path, lease_seconds=10) as workers:
        workers.start()
        workers.wait_ready()  # idle and polling: it picks the stay up as soon as it is written
        stay = scene.stay(room.property_id, room.unit_id, scene.now() + timedelta(minutes=20))
        [claim] = scene.claims_of(stay.id)
        pin = scene.pins()[claim.access_code_id]
        wait_for(lambda: programs() >= 1, deadline_seconds=30, what="the program command", workers=workers)
        scene.set_status([stay.id], "CANCELED")
        assert hub.client.lock(lock_id)["codes"] == 0, "canceled while the command was still in flight"
        wait_for(
            lambda: hub.lock_counters()[lock_id].get("program_applied", 0) == 1,
            deadline_seconds=30,
            what="the in-flight command to land",
            workers=workers,
        )
        done = wait_until_converged(scene, hub, deadline_seconds=60, workers=workers)

    assert done.actual[lock_id] == {}
    [row] = scene.claims_of(stay.id)
    assert (row.desired, row.state, row.slot, row.sync_due_at) == ("absent", "removed", None, None)
    counters = hub.lock_counters()[lock_id]
    assert (counters.get("program_applied"), counters.get("remove_applied")) == (1, 1), counters
    assert hub.client.keypad(lock_id, pin) == "denied"
    assert differences(done.expected, done.actual) == []
