"""Driving the reconciler in integration tests: real services, the fake lock provider under the
`keypad` name, and the FakeClock shared by both (the fake reads the test clock, so lock windows
and doorpin's plans see the same time).

`SyncWorld` holds the pieces and answers the questions tests ask: what is on a lock, what the
API says about a stay's locks and a lock's health, which alerts are open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from doorpin.adapters.db.access_models import Alert, LockCode
from doorpin.adapters.locks.base import DeviceCode
from doorpin.adapters.locks.pool import ProviderPool
from doorpin.bootstrap import AppServices
from doorpin.domain.sync_plan import SyncTiming
from doorpin.services.lock_sync import SyncConfig, run_sync_pass
from tests.support.access import Building, building
from tests.support.api import Tenant
from tests.support.clock import FakeClock
from tests.support.fake_lock_provider import FakeLockProvider
from tests.support.resources import create_lock, ok

TIMING = SyncTiming(alert_after_attempts=3)


@dataclass
class SyncWorld:
    services: AppServices
    tenant: Tenant
    clock: FakeClock
    fake: FakeLockProvider
    config: SyncConfig = field(default_factory=lambda: SyncConfig(timing=TIMING))
    pool: ProviderPool = field(init=False)

    def __post_init__(self) -> None:
        fake = self.fake
        self.pool = ProviderPool(factories={"keypad": lambda settings: fake})

    # -- the worker ----------------------------------------------------------------------------

    def sync(self, owner: str = "worker-a") -> int:
        """One reconciler pass; the number of commands it sent."""
        return run_sync_pass(self.services, self.pool, owner, self.config)

    def converge(self, max_passes: int = 10) -> int:
        """Passes until one sends nothing (at the current time); the commands sent in all."""
        total = 0
        for _ in range(max_passes):
            sent = self.sync()
            if sent == 0:
                return total
            total += sent
        raise AssertionError(f"no convergence after {max_passes} passes ({total} commands)")

    def advance(self, **delta: float) -> datetime:
        return self.clock.advance(**delta)

    # -- building blocks -----------------------------------------------------------------------

    def building(self) -> Building:
        """A property on UTC (instants read as they are) with an entrance and units A and B."""
        return building(self.tenant, timezone="UTC")

    def native_lock(self, property_id: str, name: str, unit_ids: list[str] | None = None) -> dict[str, Any]:
        """A lock that keeps time windows itself, in doorpin and on the (fake) device."""
        lock: dict[str, Any] = create_lock(
            self.tenant, property_id, name, unit_ids=unit_ids or [], capabilities={"native_scheduling": True}
        )
        self.fake.configure_lock(lock["id"], native_scheduling=True)
        return lock

    def stay(self, house: Building, unit_id: str, starts_in: timedelta, lasts: timedelta = timedelta(days=2)) -> Any:
        """A stay whose check-in is `starts_in` from now (the policy adds no margins)."""
        check_in = self.clock.now() + starts_in
        body = {
            "property_id": house.id,
            "unit_id": unit_id,
            "check_in": check_in.isoformat(),
            "check_out": (check_in + lasts).isoformat(),
        }
        return ok(self.tenant.post("/v1/reservations", body), 201)

    def set_status(self, reservation_id: str, *statuses: str) -> Any:
        answer = None
        for status in statuses:
            answer = ok(self.tenant.patch(f"/v1/reservations/{reservation_id}", {"status": status}))
        return answer

    # -- the lock ------------------------------------------------------------------------------

    def on_lock(self, lock_id: str) -> dict[str, DeviceCode]:
        """What the (fake) device really holds, by ref: its memory, read past any fault knob and
        without counting a command (doorpin's read-back goes through `list_codes`)."""
        with self.fake._guard:
            return {ref: code for ref, code in self.fake._lock(lock_id).codes.items() if ref is not None}

    def commands(self) -> dict[str, int]:
        """Commands that change a lock (program/remove), as counted by the fake."""
        return {name: self.fake.commands[name] for name in ("program", "remove")}

    # -- the database and the API --------------------------------------------------------------

    def claims(self, *, reservation_id: str | None = None, access_code_id: str | None = None) -> list[LockCode]:
        with self.services.db.reader() as session:
            query = select(LockCode).where(LockCode.account_id == self.tenant.account_id)
            if reservation_id is not None:
                query = query.where(LockCode.reservation_id == reservation_id)
            if access_code_id is not None:
                query = query.where(LockCode.access_code_id == access_code_id)
            return list(session.scalars(query.order_by(LockCode.created_at, LockCode.id)))

    def claim(self, claim_id: str) -> LockCode:
        with self.services.db.reader() as session:
            row = session.get(LockCode, (self.tenant.account_id, claim_id))
            assert row is not None, claim_id
            return row

    def alerts(self, kind: str | None = None, *, open_only: bool = False) -> list[Alert]:
        with self.services.db.reader() as session:
            query = select(Alert).where(Alert.account_id == self.tenant.account_id)
            if kind is not None:
                query = query.where(Alert.kind == kind)
            if open_only:
                query = query.where(Alert.closed_at.is_(None))
            return list(session.scalars(query.order_by(Alert.created_at, Alert.id)))

    def lock_states(self, reservation_id: str) -> dict[str, str]:
        """`access.locks[*].state` of a stay, by lock id, as the API shows it."""
        access = ok(self.tenant.get(f"/v1/reservations/{reservation_id}"))["access"]
        return {lock["lock_id"]: lock["state"] for lock in access["locks"]}

    def lock_errors(self, reservation_id: str) -> dict[str, Any]:
        access = ok(self.tenant.get(f"/v1/reservations/{reservation_id}"))["access"]
        return {lock["lock_id"]: lock["error"] for lock in access["locks"]}

    def health(self, lock_id: str) -> dict[str, Any]:
        health: dict[str, Any] = ok(self.tenant.get(f"/v1/locks/{lock_id}"))["health"]
        return health

    def events(self, type_prefix: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = ok(self.tenant.get(f"/v1/events?type={type_prefix}&limit=100"))["data"]
        return events
