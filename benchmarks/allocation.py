"""Benchmark "allocation": stays getting PINs on a busy door, against plain inserts on the same database.

Scenario: a property with 4-digit codes and the default policy (refuse above a 1/100 guess
probability, so a lock may hold 100 live codes). One unit door and the entrance already hold
90 long stays (90 % of the allowed codes). Then one-night stays follow each other night after
night, each created through the service layer in its own write transaction, as the API does:
every one must pick a random PIN that is not live (or in its cooldown) on either door, check the
code space, and store the stay, its code and two claims. The live count stays at 90-91, so every
measured allocation works against a 90 % full lock.

Baseline, measured in the same run on the same `Database` (same engine, same durability
settings: on SQLite WAL + synchronous=FULL + BEGIN IMMEDIATE): one single-row INSERT + COMMIT
per transaction into a scratch table. Rounds alternate between the two so drift hits both.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import event, text

import doorpin.services.reservations as reservations_module
from doorpin.adapters.db.engine import Database
from doorpin.bootstrap import AppServices
from doorpin.domain.clash import max_active_codes
from doorpin.domain.code_policy import CodePolicy
from doorpin.domain.scopes import Scope, effective_scopes
from doorpin.keyring import Keyring
from doorpin.services import accounts, doors, properties
from doorpin.services.principal import Principal
from doorpin.services.reservations import create_reservation

CODE_LENGTH = 4
FILL_FRACTION = 0.9
ROUNDS = 2
STAYS_PER_ROUND = 60
INSERTS_PER_ROUND = 60
WARMUP = 5
FIRST_NIGHT = date(2026, 7, 1)
TARGET = {"ratio_at_least": 0.5, "p99_allocation_ms_below": 2.0}


class FixedClock:
    def __init__(self) -> None:
        self.value = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.value


@dataclass
class Timings:
    allocation: list[float] = field(default_factory=list)  # seconds in refresh_stay_access
    stays: list[float] = field(default_factory=list)  # seconds per whole create transaction
    inserts: list[float] = field(default_factory=list)  # seconds per baseline transaction


@contextmanager
def timing_allocation(sink: list[float]) -> Iterator[None]:
    """Time `refresh_stay_access` as `create_reservation` calls it (a wrapper; behaviour unchanged)."""
    original = reservations_module.refresh_stay_access

    def timed(*args: Any, **kwargs: Any) -> None:
        start = time.perf_counter()
        try:
            original(*args, **kwargs)
        finally:
            sink.append(time.perf_counter() - start)

    reservations_module.refresh_stay_access = timed
    try:
        yield
    finally:
        reservations_module.refresh_stay_access = original


def _setup(services: AppServices) -> tuple[Principal, dict[str, Any]]:
    clock = services.clock
    with services.db.transaction() as session:
        account, issued = accounts.create_account(session, services.keyring, clock, "bench")
        admin = Principal(account.id, issued.key.id, effective_scopes([Scope.ADMIN]), None)
        prop = properties.create_property(
            session,
            clock,
            admin,
            {"name": "Bench", "timezone": "Europe/Berlin", "code_policy": {"length": CODE_LENGTH}},
        )
        doors.create_lock(session, clock, admin, prop.id, {"name": "Entrance"})
        door = doors.create_lock(session, clock, admin, prop.id, {"name": "Room door"})
        unit = doors.create_unit(session, clock, admin, prop.id, "Room", [door.id])
    return admin, {"property_id": prop.id, "unit_id": unit.id, "policy": CodePolicy.from_mapping(prop.code_policy)}


def _fill(services: AppServices, admin: Principal, place: dict[str, Any], count: int) -> None:
    body = {
        "property_id": place["property_id"],
        "unit_id": place["unit_id"],
        "check_in": FIRST_NIGHT - timedelta(days=1),
        "check_out": FIRST_NIGHT + timedelta(days=700),
    }
    with services.db.transaction() as session:
        for _ in range(count):
            stay = create_reservation(session, services.clock, services.vault, admin, body)
            assert stay.access_error_code is None, stay.access_error_code


def _timed(action: Callable[[], None], sink: list[float]) -> None:
    start = time.perf_counter()
    action()
    sink.append(time.perf_counter() - start)


def _count_statements(db: Database, action: Callable[[], None]) -> int:
    """How many SQL statements one run of `action` sends to the database."""
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(sent)


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def run(db: Database) -> dict[str, Any]:
    """Run the scenario on `db` (migrated, empty or not: everything lives in a new account)."""
    services = AppServices(db=db, keyring=Keyring(uuid.uuid4().bytes * 2), clock=FixedClock())
    admin, place = _setup(services)
    allowed = max_active_codes(CODE_LENGTH, place["policy"])
    filled = int(allowed * FILL_FRACTION)
    fill_start = time.perf_counter()
    _fill(services, admin, place, filled)
    fill_seconds = time.perf_counter() - fill_start
    scratch = f"bench_scratch_{uuid.uuid4().hex[:8]}"
    with db.engine.begin() as connection:
        connection.execute(text(f"CREATE TABLE {scratch} (id VARCHAR(40) PRIMARY KEY, payload TEXT)"))
    timings = Timings()
    night = iter(range(10_000))
    refused = 0

    def one_stay() -> None:
        nonlocal refused
        day = FIRST_NIGHT + timedelta(days=next(night))
        body = {
            "property_id": place["property_id"],
            "unit_id": place["unit_id"],
            "check_in": day,
            "check_out": day + timedelta(days=1),
        }
        with services.db.transaction() as session:
            stay = create_reservation(session, services.clock, services.vault, admin, body)
            refused += stay.access_error_code is not None

    def one_insert() -> None:
        with services.db.transaction() as session:
            session.execute(
                text(f"INSERT INTO {scratch} (id, payload) VALUES (:id, :payload)"),
                {"id": uuid.uuid4().hex, "payload": "x" * 64},
            )

    try:
        for _ in range(WARMUP):
            one_stay()
            one_insert()
        with timing_allocation(timings.allocation):
            for _ in range(ROUNDS):
                for _ in range(INSERTS_PER_ROUND):
                    _timed(one_insert, timings.inserts)
                for _ in range(STAYS_PER_ROUND):
                    _timed(one_stay, timings.stays)
        statements = _count_statements(db, one_stay), _count_statements(db, one_insert)
    finally:
        with db.engine.begin() as connection:
            connection.execute(text(f"DROP TABLE {scratch}"))
    stays_per_s = len(timings.stays) / sum(timings.stays)
    inserts_per_s = len(timings.inserts) / sum(timings.inserts)
    ratio = stays_per_s / inserts_per_s
    p99_allocation = _percentile(timings.allocation, 0.99)
    return {
        "lock": {
            "allowed_codes": allowed,
            "live_codes_before_each_stay": filled,
            "fill_seconds": round(fill_seconds, 3),
        },
        "stays": len(timings.stays),
        "stays_refused": refused,
        "stays_per_s": round(stays_per_s, 1),
        "baseline_inserts": len(timings.inserts),
        "baseline_inserts_per_s": round(inserts_per_s, 1),
        "ratio": round(ratio, 3),
        "allocation_ms": {
            "p50": _ms(statistics.median(timings.allocation)),
            "p99": _ms(p99_allocation),
            "max": _ms(max(timings.allocation)),
        },
        "create_transaction_ms": {
            "p50": _ms(statistics.median(timings.stays)),
            "p99": _ms(_percentile(timings.stays, 0.99)),
        },
        "baseline_insert_ms": {
            "p50": _ms(statistics.median(timings.inserts)),
            "p99": _ms(_percentile(timings.inserts, 0.99)),
        },
        "sql_statements": {"per_stay": statements[0], "per_baseline_insert": statements[1]},
        "meets_target": {
            "ratio": ratio >= TARGET["ratio_at_least"],
            "p99_allocation": p99_allocation * 1000 < TARGET["p99_allocation_ms_below"],
        },
    }
