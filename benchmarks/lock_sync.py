"""Benchmark "lock_sync": the reconciler programming simulated keypad locks, against the hub's own
throughput for direct calls, and how late codes reach locks without native scheduling.

The hub is `doorpin simulate-locks` in its own process (in memory, no fault knobs). The
reconciler runs in this process on the given database: `run_sync_pass` with the default
`SyncConfig` (8 locks at once, one command at a time per lock, a read-back after each lock's
batch), with the `keypad` provider over HTTP, exactly as `doorpin worker` runs it.

(a) Throughput. `codes` claims spread over `locks` locks, all due now. The reconciler passes
until nothing is due; codes/s = codes / elapsed. Baseline, in the same run against the same hub:
the `keypad` provider's `program` called directly for the same number of codes on as many other
locks, with the same concurrency (`SyncConfig.parallel_locks` locks at once, each lock's codes one
after another). The baseline runs before and after the reconciler; their mean is the reference.

(b) Activation lateness. Another `codes` claims on `locks` fresh locks, whose programming times
(`valid_from` - lead) fall uniformly within the next `window_seconds`. `Worker` runs (its loop, its
0.5 s idle wait) until every claim is programmed; lateness = `programmed_at` - programming time,
from the `lock_codes` rows.

Setup writes the access codes and claims in bulk with doorpin's own row builders (`new_code`,
`new_claim_row`): creating 20,000 stays through the service layer would take minutes, and that
path is measured by the "allocation" benchmark. Nothing in the measured path is replaced.
"""

from __future__ import annotations

import random
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from doorpin.adapters.db.access_models import LockCode
from doorpin.adapters.db.engine import Database
from doorpin.adapters.db.models import Lock
from doorpin.adapters.locks.base import CodeSpec, Done, LockRef
from doorpin.adapters.locks.keypad import KeypadProvider
from doorpin.adapters.locks.pool import ProviderPool
from doorpin.adapters.locks.simulator import HubClient
from doorpin.bootstrap import AppServices
from doorpin.domain.code_policy import CodePolicy
from doorpin.domain.scopes import Scope, effective_scopes
from doorpin.keyring import Keyring
from doorpin.services import accounts, doors, properties
from doorpin.services.clock import Clock, SystemClock
from doorpin.services.code_allocation import Claim, new_claim_row, new_code
from doorpin.services.lock_sync import SyncConfig, run_sync_pass
from doorpin.services.principal import Principal
from doorpin.worker.runner import Worker

TARGET = {"throughput_ratio_at_least": 0.8, "lateness_p99_seconds_below": 1.0}
DESCRIPTION = (
    "the reconciler (run_sync_pass, default SyncConfig) programming simulated keypad locks over HTTP; "
    "(a) codes/s against the keypad provider's direct program calls at the same concurrency, same hub, "
    "same run; (b) activation lateness (programmed_at - due time) when all programming times fall within "
    "a short window"
)


@dataclass(frozen=True)
class Scale:
    locks: int
    codes: int
    window_seconds: float  # the lateness run's programming times fall within this long

    def as_dict(self) -> dict[str, Any]:
        return {
            "locks": self.locks,
            "codes": self.codes,
            "window_seconds": self.window_seconds,
            "issue_scale": self == FULL,
        }


# The numbers: 10,000 codes on 1,000 locks, window starts within 3 minutes (`--full`).
FULL = Scale(locks=1_000, codes=10_000, window_seconds=180.0)
# The default: a tenth of it at the same arrival rate (55 programming times a second), because the
# full run takes far longer than the few minutes `make bench` should (see README.md).
DEFAULT = Scale(locks=100, codes=1_000, window_seconds=18.0)


def scale_from_args(argv: Sequence[str]) -> Scale:
    return FULL if "--full" in argv else DEFAULT


# -- the hub ---------------------------------------------------------------------------------------------


@contextmanager
def hub_process() -> Iterator[str]:
    """`doorpin simulate-locks --port 0` (in memory) in its own process; yields its URL."""
    command = [sys.executable, "-m", "doorpin.entrypoints.cli.main", "simulate-locks", "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        first = process.stdout.readline().decode(errors="replace")
        match = re.search(r"listening on (http://\S+)", first)
        if match is None:
            raise RuntimeError(f"the hub did not start: {first!r}")
        threading.Thread(target=process.stdout.read, daemon=True).start()  # keep the pipe drained
        url = match.group(1)
        with HubClient(url) as client:
            deadline = time.monotonic() + 20
            while True:
                try:
                    client.stats()
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _configure(hub: HubClient, device_ids: Sequence[str], slots: int) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda device_id: hub.configure_lock(device_id, slots=slots), device_ids))


# -- setup -------------------------------------------------------------------------------------------------


@dataclass
class Place:
    services: AppServices
    principal: Principal
    property_id: str


def _place(db: Database, clock: Clock) -> Place:
    services = AppServices(db=db, keyring=Keyring(uuid.uuid4().bytes * 2), clock=clock)
    with db.transaction() as session:
        account, issued = accounts.create_account(session, services.keyring, services.clock, "bench")
        principal = Principal(account.id, issued.key.id, effective_scopes([Scope.ADMIN]), None)
        prop = properties.create_property(
            session, services.clock, principal, {"name": "Bench", "timezone": "UTC", "code_policy": {"length": 6}}
        )
    return Place(services, principal, prop.id)


def _locks(place: Place, count: int, label: str) -> list[Lock]:
    with place.services.db.transaction() as session:
        return [
            doors.create_lock(
                session, place.services.clock, place.principal, place.property_id, {"name": f"{label} {i}"}
            )
            for i in range(count)
        ]


def _claims(place: Place, locks: Sequence[Lock], starts: Sequence[datetime], rng: random.Random) -> None:
    """One staff code per programming time in `starts` (valid_from = that + the lead), each on one
    lock (round robin), with distinct PINs per lock."""
    services = place.services
    lead = SyncConfig().timing.lead
    policy = CodePolicy.from_mapping({"length": 6})
    now = services.clock.now()
    per_lock: dict[str, set[str]] = {}
    rows: list[Any] = []
    for i, start in enumerate(starts):
        lock = locks[i % len(locks)]
        taken = per_lock.setdefault(lock.id, set())
        pin = f"{rng.randrange(10**6):06d}"
        while pin in taken:
            pin = f"{rng.randrange(10**6):06d}"
        taken.add(pin)
        code = new_code(
            services.vault,
            account_id=lock.account_id,
            property_id=place.property_id,
            pin=pin,
            pin_source="generated",
            kind="staff",
            holder="code",
            now=now,
        )
        code.lock_ids = [lock.id]
        valid_from = start + lead
        claim = Claim(lock, valid_from, valid_from + timedelta(days=2))
        rows += [code, new_claim_row(services.vault, code, pin, claim, policy.reuse_cooldown, now, None)]
    with services.db.transaction() as session:
        session.add_all(rows)


# -- measurements ------------------------------------------------------------------------------------------


def _direct(hub_url: str, device_ids: Sequence[str], per_lock: int, parallel: int) -> tuple[float, int]:
    """Program `per_lock` codes on each device through the provider, `parallel` devices at once,
    each device's codes one after another (the reconciler's shape). Returns (seconds, codes)."""
    provider = KeypadProvider({"hub_url": hub_url})

    def one_lock(device_id: str) -> int:
        ref = LockRef(lock_id=device_id, device_id=device_id)
        done = 0
        for n in range(per_lock):
            outcome = provider.program(ref, CodeSpec(f"{device_id}-{n}", f"{n:06d}", None, None))
            done += isinstance(outcome, Done)
        return done

    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            done = sum(pool.map(one_lock, device_ids))
        return time.perf_counter() - started, done
    finally:
        provider.close()


def _programmed(db: Database, lock_ids: Sequence[str]) -> int:
    with db.reader() as session:
        query = select(func.count()).where(LockCode.lock_id.in_(list(lock_ids)), LockCode.state == "programmed")
        return int(session.scalar(query) or 0)


def _throughput(place: Place, hub_url: str, scale: Scale, rng: random.Random) -> dict[str, Any]:
    config = SyncConfig()
    per_lock = scale.codes // scale.locks
    run_id = uuid.uuid4().hex[:6]
    with HubClient(hub_url) as hub:
        locks = _locks(place, scale.locks, "Sync")
        baseline_devices = [[f"direct-{run_id}-{k}-{i}" for i in range(scale.locks)] for k in range(2)]
        _configure(hub, [lock.id for lock in locks] + baseline_devices[0] + baseline_devices[1], per_lock + 10)
        _claims(place, locks, [place.services.clock.now()] * scale.codes, rng)
        direct_first = _direct(hub_url, baseline_devices[0], per_lock, config.parallel_locks)
        before = hub.stats()["counters"]
        pool = ProviderPool({"keypad": {"hub_url": hub_url}})
        owner = f"bench-{run_id}"
        try:
            started = time.perf_counter()
            passes = 0
            while run_sync_pass(place.services, pool, owner, config):
                passes += 1
            reconciler_seconds = time.perf_counter() - started
        finally:
            pool.close()
        after = hub.stats()["counters"]
        direct_second = _direct(hub_url, baseline_devices[1], per_lock, config.parallel_locks)
    programmed = _programmed(place.services.db, [lock.id for lock in locks])
    reconciler_rate = programmed / reconciler_seconds
    direct_rates = [done / seconds for seconds, done in (direct_first, direct_second)]
    direct_rate = statistics.mean(direct_rates)
    commands = {key: after.get(key, 0) - before.get(key, 0) for key in ("program", "list_codes")}
    return {
        "parallel_locks": config.parallel_locks,
        "codes_programmed": programmed,
        "reconciler_seconds": round(reconciler_seconds, 2),
        "reconciler_passes": passes,
        "reconciler_codes_per_s": round(reconciler_rate, 1),
        "direct_codes_per_s": [round(rate, 1) for rate in direct_rates],
        "reconciler_hub_commands": commands,
        "ratio": round(reconciler_rate / direct_rate, 3),
    }


def _percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


class ShiftedClock:
    """Real time plus an offset the benchmark moves forward once (never back)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def _run_until(worker: Worker, done: Callable[[], bool], limit_seconds: float) -> float:
    """Run `worker` in a thread until `done()` (polled twice a second) or the limit; the seconds."""
    thread = threading.Thread(target=worker.run_forever, name="bench-worker", daemon=True)
    started = time.perf_counter()
    thread.start()
    try:
        while not done() and time.perf_counter() - started < limit_seconds:
            time.sleep(0.5)
    finally:
        worker.stop()
        thread.join(timeout=30)
    return time.perf_counter() - started


def _lateness(db: Database, hub_url: str, scale: Scale, rng: random.Random) -> dict[str, Any]:
    """Claims written in advance, their programming times all within the next `window_seconds`.

    As in production, the claims were seen by the reconciler before their time: a first run of
    the worker (the "sweep") reschedules every claim to its programming time and reads each lock
    back once. Then the clock of this measurement is moved forward so that the window opens 2 s
    after the sweep (the sweep's length depends on the machine, the window must not), and the
    worker runs again until every code is programmed."""
    clock = ShiftedClock()
    place = _place(db, clock)
    config = SyncConfig()
    with HubClient(hub_url) as hub:
        locks = _locks(place, scale.locks, "Late")
        _configure(hub, [lock.id for lock in locks], scale.codes // scale.locks + 10)
    lock_ids = [lock.id for lock in locks]
    opens = clock.now() + timedelta(minutes=10)  # the window's start, later than any sweep
    starts = [opens + timedelta(seconds=rng.uniform(0, scale.window_seconds)) for _ in range(scale.codes)]
    _claims(place, locks, starts, rng)
    pool = ProviderPool({"keypad": {"hub_url": hub_url}})
    try:
        sweep = _run_until(
            Worker(place.services, pool=pool, sync_config=config), lambda: _due(db, lock_ids, clock.now()) == 0, 600
        )
        clock.offset = opens - timedelta(seconds=2) - datetime.now(UTC)
        worker = Worker(place.services, pool=pool, sync_config=config)  # what `doorpin worker` runs
        limit = 2 + scale.window_seconds + 300
        seconds = _run_until(worker, lambda: _programmed(db, lock_ids) >= scale.codes, limit)
    finally:
        pool.close()
    lead = config.timing.lead
    with db.reader() as session:
        rows = session.execute(
            select(LockCode.valid_from, LockCode.programmed_at).where(LockCode.lock_id.in_(lock_ids))
        ).all()
    late = [(programmed - (valid_from - lead)).total_seconds() for valid_from, programmed in rows if programmed]
    return {
        "sweep_seconds": round(sweep, 1),
        "seconds": round(seconds, 1),
        "codes_programmed": len(late),
        "codes_not_programmed": scale.codes - len(late),
        "lateness_s": {
            "p50": round(statistics.median(late), 3),
            "p99": round(_percentile(late, 0.99), 3),
            "max": round(max(late), 3),
            "early": sum(1 for value in late if value < 0),
        },
    }


def _due(db: Database, lock_ids: Sequence[str], now: datetime) -> int:
    with db.reader() as session:
        query = select(func.count()).where(LockCode.lock_id.in_(list(lock_ids)), LockCode.sync_due_at <= now)
        return int(session.scalar(query) or 0)


def run(db: Database, scale: Scale = DEFAULT) -> dict[str, Any]:
    """Both measurements on `db` (migrated; everything lives in a new account), one hub process."""
    rng = random.Random(20_261_125)  # benchmark data, not security
    with hub_process() as hub_url:
        throughput = _throughput(_place(db, SystemClock()), hub_url, scale, rng)
        lateness = _lateness(db, hub_url, scale, rng)
    meets = {
        "throughput_ratio": throughput["ratio"] >= TARGET["throughput_ratio_at_least"],
        "lateness_p99": lateness["lateness_s"]["p99"] < TARGET["lateness_p99_seconds_below"]
        and lateness["codes_not_programmed"] == 0,
    }
    return {"throughput": throughput, "activation_lateness": lateness, "meets_target": meets}
