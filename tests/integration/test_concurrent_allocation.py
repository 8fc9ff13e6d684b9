"""Allocation under real concurrency on PostgreSQL (issue "Code engine", item 2).

Separate operating-system processes (multiprocessing, 'spawn'), each with its own engine, create
overlapping stays and fight over the same custom PINs in a small code space. Afterwards the rows
must show zero clashes, every stay stored, and no lock holding more codes than the policy allows.
The exclusion constraint is also tested on its own, with rows forced in by SQL.

PostgreSQL only (SQLite has a single writer): skipped when DOORPIN_TEST_POSTGRES_URL is unset.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, select, text
from sqlalchemy.exc import IntegrityError

from doorpin.adapters.db import migrate
from doorpin.adapters.db.access_models import LockCode
from doorpin.adapters.db.engine import Database, make_engine
from doorpin.adapters.db.models import Reservation
from doorpin.bootstrap import AppServices
from doorpin.domain.clash import max_active_codes
from doorpin.domain.code_policy import CodePolicy
from doorpin.domain.scopes import Scope, effective_scopes
from doorpin.keyring import Keyring
from doorpin.services import accounts, doors, properties
from doorpin.services.principal import Principal
from doorpin.services.reservations import create_reservation
from tests.support.code_invariants import clashing_pairs, peak_live_codes, snapshot, sql_clash_count
from tests.support.concurrency import CLOCK_START, Job, run_job
from tests.support.databases import create_postgres_database, drop_postgres_database, postgres_admin_url

SECRET = b"concurrency-test-secret-0123456789abcdef"
WORKERS = 4
WAIT_SECONDS = 120


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database of its own (the workers connect to it by URL)."""
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip("PostgreSQL not configured: set DOORPIN_TEST_POSTGRES_URL (CI does)")
    url = create_postgres_database(admin, "race")
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    drop_postgres_database(admin, url)


def setup_property(url: str, code_policy: dict[str, Any], units: int) -> dict[str, Any]:
    """An account and a property with one entrance (common door) and `units` units with a door each."""
    db = Database.from_url(url)
    services = AppServices(db=db, keyring=Keyring(SECRET), clock=_Clock())
    try:
        with db.transaction() as session:
            account, issued = accounts.create_account(session, services.keyring, services.clock, "race")
            admin = Principal(account.id, issued.key.id, effective_scopes([Scope.ADMIN]), None)
            data = {"name": "Hostel", "timezone": "Europe/Berlin", "code_policy": code_policy}
            prop = properties.create_property(session, services.clock, admin, data)
            entrance = doors.create_lock(session, services.clock, admin, prop.id, {"name": "Entrance"})
            unit_ids, unit_locks = [], []
            for index in range(units):
                lock = doors.create_lock(session, services.clock, admin, prop.id, {"name": f"Room {index} door"})
                unit = doors.create_unit(session, services.clock, admin, prop.id, f"Room {index}", [lock.id])
                unit_ids.append(unit.id)
                unit_locks.append(lock.id)
        return {
            "account_id": account.id,
            "key_id": issued.key.id,
            "property_id": prop.id,
            "entrance": entrance.id,
            "units": unit_ids,
            "unit_locks": unit_locks,
            "policy": CodePolicy.from_mapping(prop.code_policy),
        }
    finally:
        db.dispose()


class _Clock:
    def now(self) -> datetime:
        return CLOCK_START


def run_workers(jobs: list[Job]) -> list[tuple[list[str], list[tuple[str, str, str]], list[str]]]:
    """Start one process per job, released together by a barrier; every wait is bounded."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(jobs))
    results = ctx.Queue()
    processes = [ctx.Process(target=run_job, args=(job, barrier, results), daemon=True) for job in jobs]
    deadline = time.monotonic() + WAIT_SECONDS
    for process in processes:
        process.start()
    collected = []
    try:
        for _ in processes:
            collected.append(results.get(timeout=max(1.0, deadline - time.monotonic())))
    except queue.Empty:
        pytest.fail(f"the workers did not finish within {WAIT_SECONDS} s")
    finally:
        for process in processes:
            process.join(timeout=max(1.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join(timeout=10)
    assert [p.exitcode for p in processes] == [0] * len(processes)
    for _created, _outcomes, crashes in collected:
        assert not crashes, crashes[0]
    return collected


def test_four_processes_racing_for_codes_end_with_zero_clashes(pg_url: str) -> None:
    # 4-digit generated codes, 5-digit custom PINs from a set of three: every custom PIN is
    # wanted by all four processes on stays that overlap on the entrance, so exactly one wins.
    world = setup_property(pg_url, {"length": 4, "reuse_cooldown_hours": 72}, units=4)
    custom = ("48213", "73951", "50629")
    jobs = []
    for worker in range(WORKERS):
        stays = tuple(
            (
                world["units"][(worker + i) % len(world["units"])],
                f"2026-06-{10 + i % 3:02d}",
                f"2026-06-{13 + i % 3:02d}",
            )
            for i in range(12)
        )
        pins = ((0, custom[0]), (1, custom[1]), (2, custom[2]), (3, "******"), (4, "******"))
        jobs.append(Job(pg_url, SECRET, world["account_id"], world["key_id"], world["property_id"], stays, pins))

    results = run_workers(jobs)

    created = [stay_id for ids, _, _ in results for stay_id in ids]
    outcomes = [outcome for _, found, _ in results for outcome in found]
    assert len(created) == WORKERS * 12
    db = Database.from_url(pg_url)
    try:
        snap = snapshot(db, world["account_id"])
        with db.reader() as session:
            clashes_in_sql = sql_clash_count(session, world["account_id"])
        vault = AppServices(db=db, keyring=Keyring(SECRET), clock=_Clock()).vault
    finally:
        db.dispose()
    # Every stay is stored, and every one got a code on its own door and the entrance.
    assert set(snap.stays) == set(created)
    unit_lock = dict(zip(world["units"], world["unit_locks"], strict=True))
    for stay in snap.stays.values():
        assert stay.access_error_code is None, stay.access_error_code
        live = snap.live_rows_of(stay.id)
        assert sorted(row.lock_id for row in live) == sorted([world["entrance"], unit_lock[stay.unit_id]])
        assert {row.access_code_id for row in live} == {stay.access_code_id}
    # Zero clashes, judged in SQL and in Python, among live claims and revoked ones in cooldown.
    assert clashes_in_sql == 0
    assert not clashing_pairs(snap.rows)
    # Each contested PIN went to exactly one stay; every other process was told pin_conflict.
    by_pin = {pin: Counter(result for _, action, result in outcomes if action == pin) for pin in custom}
    for pin, results_for_pin in by_pin.items():
        assert results_for_pin == Counter({"ok": 1, "pin_conflict": WORKERS - 1}), (pin, results_for_pin)
        winner = next(stay_id for stay_id, action, result in outcomes if action == pin and result == "ok")
        code = snap.codes[snap.stays[winner].access_code_id or ""]
        assert vault.open(code.pin_ciphertext, code.account_id, code.id) == pin
    assert all(result == "ok" for _, action, result in outcomes if action in ("create", "******"))
    assert len(snap.live_rows) == len(created) * 2


def test_the_guess_probability_limit_holds_under_concurrency(pg_url: str) -> None:
    # refuse above 8 / 10**4: the entrance may hold 8 live 4-digit codes at once.
    policy = {"length": 4, "refuse_guess_probability": 0.0008, "warn_guess_probability": 0.0008}
    world = setup_property(pg_url, policy, units=4)
    limit = max_active_codes(4, world["policy"])
    assert limit == 8
    per_worker = 6
    jobs = [
        Job(
            pg_url,
            SECRET,
            world["account_id"],
            world["key_id"],
            world["property_id"],
            tuple((world["units"][(w + i) % 4], "2026-06-10", "2026-06-13") for i in range(per_worker)),
        )
        for w in range(WORKERS)
    ]

    results = run_workers(jobs)

    created = [stay_id for ids, _, _ in results for stay_id in ids]
    db = Database.from_url(pg_url)
    try:
        snap = snapshot(db, world["account_id"])
    finally:
        db.dispose()
    assert len(created) == WORKERS * per_worker
    assert set(snap.stays) == set(created)
    with_code = [s for s in snap.stays.values() if snap.live_rows_of(s.id)]
    waiting = [s for s in snap.stays.values() if not snap.live_rows_of(s.id)]
    assert len(with_code) == limit
    assert all(s.access_error_code is None for s in with_code)
    assert [s.access_error_code for s in waiting] == ["code_space_exhausted"] * (len(created) - limit)
    assert peak_live_codes(snap.rows)[world["entrance"]] == limit
    assert not clashing_pairs(snap.rows)


def _stays_with_codes(url: str, world: dict[str, Any], count: int) -> list[Reservation]:
    db = Database.from_url(url)
    services = AppServices(db=db, keyring=Keyring(SECRET), clock=_Clock())
    admin = Principal(world["account_id"], world["key_id"], effective_scopes([Scope.ADMIN]), None)
    try:
        stays = []
        for index in range(count):
            body = {
                "property_id": world["property_id"],
                "unit_id": world["units"][index % len(world["units"])],
                "check_in": date(2026, 6, 10),
                "check_out": date(2026, 6, 12),
            }
            with db.transaction() as session:
                stays.append(create_reservation(session, services.clock, services.vault, admin, body))
        return stays
    finally:
        db.dispose()


T0 = datetime(2026, 7, 1, 15, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _insert_claim(
    connection: Connection,
    world: dict[str, Any],
    stay: Reservation,
    start: datetime,
    hold: datetime | None,
    fingerprint: str = "f" * 64,
    lock_id: str | None = None,
) -> None:
    connection.execute(
        text(
            "INSERT INTO lock_codes (account_id, id, access_code_id, lock_id, reservation_id, code_fingerprint,"
            " valid_from, valid_until, hold_until, desired, state, created_at, updated_at)"
            " VALUES (:account, :id, :code, :lock, :stay, :fp, :start, :until, :hold, 'present', 'pending',"
            " :start, :start)"
        ),
        {
            "account": world["account_id"],
            "id": f"lc_forced{time.perf_counter_ns()}",
            "code": stay.access_code_id,
            "lock": lock_id or world["entrance"],
            "stay": stay.id,
            "fp": fingerprint,
            "start": start,
            "until": hold,
            "hold": hold,
        },
    )


def test_the_exclusion_constraint_rejects_a_forced_duplicate(pg_url: str) -> None:
    world = setup_property(pg_url, {"length": 4}, units=2)
    first, second = _stays_with_codes(pg_url, world, 2)
    assert first.access_code_id != second.access_code_id
    engine = make_engine(pg_url)
    try:
        with engine.begin() as connection:
            _insert_claim(connection, world, first, T0, T0 + 3 * DAY)
        # Another code, same lock and fingerprint, overlapping range: the database refuses.
        for start, hold in [(T0 + DAY, T0 + 5 * DAY), (T0 - DAY, T0 + DAY), (T0 + 2 * DAY, None)]:
            with pytest.raises(IntegrityError) as refused, engine.begin() as connection:
                _insert_claim(connection, world, second, start, hold)
            assert refused.value.orig is not None
            assert getattr(refused.value.orig, "sqlstate", None) == "23P01"  # exclusion_violation
            assert "ex_lock_codes_no_clash" in str(refused.value.orig)
        # Accepted: the same code again, ranges that only touch, another fingerprint, another lock.
        with engine.begin() as connection:
            _insert_claim(connection, world, first, T0 + DAY, T0 + 2 * DAY)
            _insert_claim(connection, world, second, T0 + 3 * DAY, T0 + 4 * DAY)
            _insert_claim(connection, world, second, T0 - 2 * DAY, T0)
            _insert_claim(connection, world, second, T0, T0 + 3 * DAY, fingerprint="e" * 64)
            _insert_claim(connection, world, second, T0, T0 + 3 * DAY, lock_id=world["unit_locks"][0])
            _insert_claim(connection, world, second, T0 + DAY, T0 + DAY)  # empty: holds nothing
        with engine.connect() as connection:
            forced = connection.execute(select(LockCode.access_code_id).where(LockCode.id.like("lc_forced%"))).scalars()
            assert sorted(Counter(forced).values()) == [2, 5]
    finally:
        engine.dispose()


def test_two_transactions_racing_for_one_slot_end_with_one_winner(pg_url: str) -> None:
    """Neither transaction sees the other's row: the constraint makes the second wait, then fail."""
    world = setup_property(pg_url, {"length": 4}, units=2)
    first, second = _stays_with_codes(pg_url, world, 2)
    engine = make_engine(pg_url)
    outcome: dict[str, Any] = {}
    try:
        with engine.connect() as holder:
            holder.begin()
            _insert_claim(holder, world, first, T0, T0 + 3 * DAY, fingerprint="d" * 64)

            def rival() -> None:
                try:
                    with engine.begin() as connection:
                        _insert_claim(connection, world, second, T0 + DAY, T0 + 4 * DAY, fingerprint="d" * 64)
                    outcome["result"] = "inserted"
                except IntegrityError as error:
                    outcome["result"] = getattr(error.orig, "sqlstate", None)

            thread = threading.Thread(target=rival, daemon=True)
            thread.start()
            thread.join(timeout=2)
            assert thread.is_alive(), "the rival insert should wait for the first transaction"
            holder.commit()
            thread.join(timeout=30)
            assert not thread.is_alive()
        assert outcome == {"result": "23P01"}
    finally:
        engine.dispose()
