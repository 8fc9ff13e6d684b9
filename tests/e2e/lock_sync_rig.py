"""Real processes for the lock-sync fault tests: a keypad hub (`doorpin simulate-locks`), any
number of `doorpin worker`s, and a test-side view of what doorpin wants on each lock against what
the hub really holds.

Data is seeded through doorpin's service layer in the test process (with an admin `Principal`),
against the same database the workers use. Nothing of doorpin is patched: the workers are the
installed `doorpin` command, the hub is the simulator's own process, and the hub is inspected
only through its HTTP API.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import and_, func, or_, select

from doorpin.adapters.db import migrate
from doorpin.adapters.db.access_models import AccessCode, Alert, LockCode
from doorpin.adapters.db.engine import Database, make_engine
from doorpin.adapters.db.models import Lock
from doorpin.adapters.locks.simulator import HubClient, HubClientError
from doorpin.bootstrap import AppServices
from doorpin.domain.sync_plan import ClaimView, SyncTiming, program_time
from doorpin.keyring import Keyring
from doorpin.services import accounts, doors, properties, reservations
from doorpin.services.clock import SystemClock
from doorpin.services.principal import Principal
from tests.e2e.server import SECRET_KEY, doorpin_command, doorpin_env, stop_process
from tests.support.databases import (
    create_postgres_database,
    drop_postgres_database,
    migrated_sqlite_template,
    postgres_admin_url,
)

STOP_TIMEOUT = 10.0
TIMING = SyncTiming()  # what `doorpin worker` runs with: lead 60 min, horizon 72 h


# -- the database ----------------------------------------------------------------------------------


@contextlib.contextmanager
def sync_database(backend: str, directory: Path) -> Iterator[str]:
    """A migrated, empty database of `backend` for one test (a PostgreSQL one is dropped after)."""
    if backend == "sqlite":
        template = migrated_sqlite_template(directory)
        path = directory / "doorpin.db"
        template.rename(path)
        yield f"sqlite:///{path}"
        return
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip("PostgreSQL not configured: set DOORPIN_TEST_POSTGRES_URL (CI does)")
    url = create_postgres_database(admin, "sync")
    try:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url
    finally:
        drop_postgres_database(admin, url)


# -- processes -------------------------------------------------------------------------------------


def _tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return f"(no {path.name})"
    text = path.read_text(errors="replace").splitlines()
    return "\n".join([f"--- {path.name} (last {min(lines, len(text))} of {len(text)} lines)", *text[-lines:]])


@dataclass
class HubProcess:
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path
    client: HubClient

    def retrying(self, call: Callable[[HubClient], Any], attempts: int = 40) -> Any:
        """An operator read or write, repeated while the hub answers 503 (error-rate faults)."""
        for attempt in range(attempts):
            try:
                return call(self.client)
            except HubClientError as exc:
                if exc.status != 503 or attempt == attempts - 1:
                    raise
                time.sleep(0.02)
        raise AssertionError("unreachable")

    def codes(self, device_id: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.retrying(lambda hub: hub.codes(device_id))
        return result

    def lock_counters(self) -> dict[str, dict[str, int]]:
        """The hub's command counters per lock (`program`, `program_applied`, `remove`, ...)."""
        locks = self.client.stats()["locks"]
        return {device_id: dict(entry["counters"]) for device_id, entry in locks.items()}


@contextlib.contextmanager
def running_hub(workdir: Path, seed: int | None = None) -> Iterator[HubProcess]:
    """`doorpin simulate-locks --port 0 --state ...`; its URL is the first line it prints."""
    log_path = workdir / "hub.log"
    args = [*doorpin_command(), "simulate-locks", "--port", "0", "--state", str(workdir / "hub-state.sqlite")]
    if seed is not None:
        args += ["--seed", str(seed)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORPIN_")}
    env["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(args, env=env, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert process.stdout is not None
        first = process.stdout.readline().decode(errors="replace")
        match = re.search(r"listening on (http://\S+)", first)
        if match is None:
            process.kill()
            rest = process.stdout.read().decode(errors="replace")
            pytest.fail(f"the hub did not print its URL:\n{first}{rest}", pytrace=False)
        stdout = process.stdout

        def drain() -> None:  # keep the pipe from filling up; keep the log for failure messages
            with log_path.open("ab") as log_file:
                for line in iter(stdout.readline, b""):
                    log_file.write(line)
                    log_file.flush()

        threading.Thread(target=drain, name="hub-log", daemon=True).start()
        url = match.group(1)
        with HubClient(url, timeout=30.0) as client:
            deadline = time.monotonic() + 20
            while True:
                try:
                    client.stats()
                    break
                except Exception:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise
                    time.sleep(0.05)
            yield HubProcess(process, url, log_path, client)
    finally:
        stop_process(process)


@dataclass
class Workers:
    """`doorpin worker` processes against one database and hub; each writes its own log file."""

    database_url: str
    hub_url: str
    workdir: Path
    lease_seconds: float = 3
    extra_env: Mapping[str, str] = field(default_factory=dict)
    running: list[subprocess.Popen[bytes]] = field(default_factory=list)
    log_paths: list[Path] = field(default_factory=list)  # of every worker started, in order
    _log_of: dict[int, Path] = field(default_factory=dict)  # by pid
    started: int = 0
    killed: int = 0

    def env(self) -> dict[str, str]:
        return doorpin_env(
            self.database_url,
            SECRET_KEY,
            DOORPIN_KEYPAD_HUB_URL=self.hub_url,
            DOORPIN_SYNC_LEASE_SECONDS=str(self.lease_seconds),
            **self.extra_env,
        )

    def start(self) -> subprocess.Popen[bytes]:
        self.started += 1
        log_path = self.workdir / f"worker-{self.started}.log"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [*doorpin_command(), "worker"],
                env=self.env(),
                cwd=self.workdir,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        self.running.append(process)
        self.log_paths.append(log_path)
        self._log_of[process.pid] = log_path
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL: no cleanup, no lease released, a command possibly half done."""
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)
        self.running.remove(process)
        self.killed += 1

    def wait_ready(self, deadline_seconds: float = 30) -> None:
        """Until every running worker has logged that it started (its first pass comes next)."""
        deadline = time.monotonic() + deadline_seconds
        for process in self.running:
            while " started with jobs" not in self._log_of[process.pid].read_text(errors="replace"):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"a worker did not start\n{self.logs()}")
                time.sleep(0.05)

    def check_alive(self) -> None:
        for process in self.running:
            if process.poll() is not None:
                raise AssertionError(f"a worker exited with {process.returncode}\n{self.logs()}")

    def stop_all(self) -> None:
        for process in self.running:
            stop_process(process)
        self.running.clear()

    def logs(self, lines: int = 30) -> str:
        return "\n".join(_tail(path, lines) for path in self.log_paths)


@contextlib.contextmanager
def worker_fleet(database_url: str, hub: HubProcess, workdir: Path, **options: Any) -> Iterator[Workers]:
    workers = Workers(database_url, hub.url, workdir, **options)
    try:
        yield workers
    finally:
        workers.stop_all()


# -- seeding through the service layer ---------------------------------------------------------------


@dataclass(frozen=True)
class Stay:
    id: str
    lock_ids: tuple[str, ...]
    status: str


class Scene:
    """One account's properties, locks, units and stays, written through doorpin's services with
    the real clock, in the test process, to the database the workers use."""

    def __init__(self, database_url: str) -> None:
        self.db = Database.from_url(database_url)
        self.services = AppServices(db=self.db, keyring=Keyring(SECRET_KEY.encode()), clock=SystemClock())
        with self.db.transaction() as session:
            account, issued = accounts.create_account(session, self.services.keyring, self.services.clock, "sync")
            self.principal: Principal = accounts.authenticate(session, self.services.keyring, issued.token)
        self.account_id = account.id
        self.native: set[str] = set()

    def close(self) -> None:
        self.db.dispose()

    def now(self) -> datetime:
        return self.services.clock.now()

    def property(self, name: str) -> str:
        with self.db.transaction() as session:
            data = {"name": name, "timezone": "UTC"}
            return properties.create_property(session, self.services.clock, self.principal, data).id

    def lock(self, property_id: str, name: str, *, native: bool = False) -> str:
        with self.db.transaction() as session:
            data = {"name": name, "capabilities": {"native_scheduling": native}}
            lock_id = doors.create_lock(session, self.services.clock, self.principal, property_id, data).id
        if native:
            self.native.add(lock_id)
        return lock_id

    def unit(self, property_id: str, name: str, lock_ids: list[str]) -> str:
        with self.db.transaction() as session:
            return doors.create_unit(session, self.services.clock, self.principal, property_id, name, lock_ids).id

    def stays(self, wanted: Iterable[tuple[str, str, datetime, datetime, str]], batch: int = 50) -> list[Stay]:
        """Create stays (property, unit, check-in, check-out, status), `batch` per transaction."""
        made: list[Stay] = []
        pending = list(wanted)
        for start in range(0, len(pending), batch):
            with self.db.transaction() as session:
                rows = []
                for property_id, unit_id, check_in, check_out, status in pending[start : start + batch]:
                    data = {
                        "property_id": property_id,
                        "unit_id": unit_id,
                        "check_in": check_in,
                        "check_out": check_out,
                        "status": status,
                    }
                    row = reservations.create_reservation(
                        session, self.services.clock, self.services.vault, self.principal, data
                    )
                    rows.append(row)
                session.flush()
                for row in rows:
                    assert row.access_error_code is None, (row.id, row.access_error_code, row.access_error_message)
                    lock_ids = session.scalars(
                        select(LockCode.lock_id).where(
                            LockCode.account_id == self.account_id, LockCode.reservation_id == row.id
                        )
                    ).all()
                    made.append(Stay(row.id, tuple(sorted(lock_ids)), row.status))
        return made

    def stay(self, property_id: str, unit_id: str, check_in: datetime, *, status: str = "CONFIRMED") -> Stay:
        [made] = self.stays([(property_id, unit_id, check_in, check_in + timedelta(days=2), status)])
        return made

    def set_status(self, reservation_ids: Iterable[str], status: str) -> None:
        with self.db.transaction() as session:
            for reservation_id in reservation_ids:
                changes = {"status": status}
                app = self.services
                reservations.update_reservation(session, app.clock, app.vault, self.principal, reservation_id, changes)

    # -- reading back ----------------------------------------------------------------------------

    def claims(self) -> list[LockCode]:
        with self.db.reader() as session:
            return list(session.scalars(select(LockCode).where(LockCode.account_id == self.account_id)))

    def claims_of(self, reservation_id: str) -> list[LockCode]:
        with self.db.reader() as session:
            query = select(LockCode).where(
                LockCode.account_id == self.account_id, LockCode.reservation_id == reservation_id
            )
            return list(session.scalars(query))

    def claims_by_stay(self) -> dict[str | None, list[LockCode]]:
        grouped: dict[str | None, list[LockCode]] = {}
        for row in self.claims():
            grouped.setdefault(row.reservation_id, []).append(row)
        return grouped

    def pins(self) -> dict[str, str]:
        """Every access code's PIN in clear, by code id (decrypted with the shared secret)."""
        with self.db.reader() as session:
            codes = session.scalars(select(AccessCode).where(AccessCode.account_id == self.account_id)).all()
            return {code.id: self.services.vault.open(code.pin_ciphertext, code.account_id, code.id) for code in codes}

    def lock_ids(self) -> list[str]:
        with self.db.reader() as session:
            return sorted(session.scalars(select(Lock.id).where(Lock.account_id == self.account_id)))

    def alerts(self, kind: str) -> list[Alert]:
        with self.db.reader() as session:
            query = select(Alert).where(Alert.account_id == self.account_id, Alert.kind == kind)
            return list(session.scalars(query))

    def unsettled(self) -> int:
        """Claims the reconciler still has to act on: due now, or not yet in a final state."""
        now = self.now()
        with self.db.reader() as session:
            query = select(func.count()).where(
                LockCode.account_id == self.account_id,
                or_(
                    LockCode.state.in_(("pending", "removing")),
                    and_(LockCode.sync_due_at.is_not(None), LockCode.sync_due_at <= now),
                ),
            )
            return int(session.scalar(query) or 0)


# -- what should be on the locks, and what is ------------------------------------------------------


@dataclass(frozen=True)
class OnLock:
    pin: str
    starts_at: datetime | None
    ends_at: datetime | None
    slot: int | None = None


def _instant(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def should_be_on_lock(row: LockCode, native: bool, now: datetime) -> bool:
    """A live claim whose programming time has come and whose window has not ended."""
    if row.desired != "present" or row.revoked_at is not None:
        return False
    view = ClaimView(row.desired, row.state, row.valid_from, row.valid_until, row.synced_from, row.synced_until)
    return program_time(view, native, TIMING) <= now and (row.valid_until is None or now < row.valid_until)


def expected_on_locks(scene: Scene) -> dict[str, dict[str, OnLock]]:
    """By lock, by ref (the claim id): what doorpin should have put there by now."""
    now = scene.now()
    pins = scene.pins()
    expected: dict[str, dict[str, OnLock]] = {lock_id: {} for lock_id in scene.lock_ids()}
    for row in scene.claims():
        native = row.lock_id in scene.native
        if should_be_on_lock(row, native, now):
            window = (_instant(row.valid_from), _instant(row.valid_until)) if native else (None, None)
            expected[row.lock_id][row.id] = OnLock(pins[row.access_code_id], *window)
    return expected


def actual_on_locks(hub: HubProcess, lock_ids: Iterable[str]) -> dict[str, dict[str, OnLock]]:
    """By lock, by ref: what the hub's locks hold (read through the hub's own API)."""
    actual: dict[str, dict[str, OnLock]] = {}
    for lock_id in lock_ids:
        actual[lock_id] = {
            str(code["ref"]): OnLock(
                str(code["pin"]), _instant(code["starts_at"]), _instant(code["ends_at"]), int(code["slot"])
            )
            for code in hub.codes(lock_id)
        }
    return actual


def differences(expected: Mapping[str, Mapping[str, OnLock]], actual: Mapping[str, Mapping[str, OnLock]]) -> list[str]:
    """Every way the locks differ from doorpin's wishes, one line each."""
    lines = []
    for lock_id in sorted(set(expected) | set(actual)):
        want, have = expected.get(lock_id, {}), actual.get(lock_id, {})
        for ref in sorted(set(want) - set(have)):
            lines.append(f"{lock_id}: missing {ref}")
        for ref in sorted(set(have) - set(want)):
            lines.append(f"{lock_id}: should not hold {ref} (slot {have[ref].slot})")
        for ref in sorted(set(want) & set(have)):
            w, h = want[ref], have[ref]
            if (w.pin, w.starts_at, w.ends_at) != (h.pin, h.starts_at, h.ends_at):
                lines.append(
                    f"{lock_id}: {ref} differs: pin match {w.pin == h.pin}, "
                    f"window {h.starts_at}..{h.ends_at} instead of {w.starts_at}..{w.ends_at}"
                )
        slots = [code.slot for code in have.values()]
        if len(set(slots)) != len(slots):
            lines.append(f"{lock_id}: a slot holds two refs: {sorted(slots, key=str)}")
        pins = [code.pin for code in have.values()]
        if len(set(pins)) != len(pins):
            lines.append(f"{lock_id}: one PIN is stored under two refs")
    return lines


@dataclass
class Converged:
    expected: dict[str, dict[str, OnLock]]
    actual: dict[str, dict[str, OnLock]]
    seconds: float


def wait_until_converged(
    scene: Scene,
    hub: HubProcess,
    *,
    deadline_seconds: float,
    workers: Workers | None = None,
    started: float | None = None,
) -> Converged:
    """Wait until no claim is left to act on and every lock holds exactly what it should; fail at
    the deadline with what still differs (and the workers' logs).

    The database is polled cheaply; the locks are read (and compared) once it looks settled, at
    most once a second, so the test does not starve the processes it waits for."""
    started = time.monotonic() if started is None else started
    deadline = started + deadline_seconds
    lock_ids = scene.lock_ids()
    compared_at = 0.0
    while True:
        if workers is not None:
            workers.check_alive()
        unsettled = scene.unsettled()
        late = time.monotonic() > deadline
        if (unsettled == 0 and time.monotonic() - compared_at >= 1.0) or late:
            compared_at = time.monotonic()
            expected = expected_on_locks(scene)
            actual = actual_on_locks(hub, lock_ids)
            diff = differences(expected, actual)
            if not diff and unsettled == 0:
                return Converged(expected, actual, time.monotonic() - started)
            if late:
                rows = [row for row in scene.claims() if row.state in ("pending", "removing")]
                states = sorted(f"{row.id} on {row.lock_id}: {row.state} ({row.error_code})" for row in rows)
                message = [
                    f"no convergence within {deadline_seconds:.0f} s: {len(diff)} differences, "
                    f"{unsettled} claims unsettled",
                    *diff[:25],
                    *states[:25],
                ]
                if workers is not None:
                    message.append(workers.logs())
                raise AssertionError("\n".join(message))
        time.sleep(0.25)


def wait_for(
    predicate: Callable[[], Any], *, deadline_seconds: float, what: str, workers: Workers | None = None
) -> Any:
    """Poll `predicate` until it returns something truthy; fail after the deadline naming `what`."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        if workers is not None:
            workers.check_alive()
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            logs = f"\n{workers.logs()}" if workers is not None else ""
            raise AssertionError(f"timed out after {deadline_seconds:.0f} s waiting for {what}{logs}")
        time.sleep(0.02)
