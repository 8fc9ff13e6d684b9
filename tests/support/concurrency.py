"""Worker processes for the concurrency tests: each builds its own engine and drives the services.

Functions here run in child processes started with the 'spawn' context, so they take only
picklable arguments (URLs, ids, plain tuples) and report back through a queue.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from doorpin.adapters.db.engine import Database
from doorpin.bootstrap import AppServices
from doorpin.domain.errors import DomainError
from doorpin.domain.scopes import Scope, effective_scopes
from doorpin.keyring import Keyring
from doorpin.services.pin_setting import set_stay_pin
from doorpin.services.principal import Principal
from doorpin.services.reservations import create_reservation
from tests.support.clock import FakeClock

CLOCK_START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Job:
    """What one worker does: create stays, then set PINs on the stays it created."""

    url: str
    secret: bytes
    account_id: str
    key_id: str
    property_id: str
    stays: tuple[tuple[str, str, str], ...]  # (unit_id, check_in, check_out), ISO dates
    pins: tuple[tuple[int, str], ...] = ()  # (index into this worker's stays, PIN or "******")


def run_job(job: Job, barrier: Any, results: Any) -> None:
    """Run `job` once every worker is ready; put `(created ids, outcomes, crashes)` on `results`."""
    created: list[str] = []
    outcomes: list[tuple[str, str, str]] = []  # (stay id, action, "ok" or error code)
    crashes: list[str] = []
    try:
        db = Database.from_url(job.url, pool_size=1, max_overflow=0)
        services = AppServices(db=db, keyring=Keyring(job.secret), clock=FakeClock(CLOCK_START))
        principal = Principal(job.account_id, job.key_id, effective_scopes([Scope.ADMIN]), None)
        barrier.wait(timeout=60)
        for unit_id, check_in, check_out in job.stays:
            body = {
                "property_id": job.property_id,
                "unit_id": unit_id,
                "check_in": date.fromisoformat(check_in),
                "check_out": date.fromisoformat(check_out),
            }
            with services.db.transaction() as session:
                stay = create_reservation(session, services.clock, services.vault, principal, body)
            created.append(stay.id)
            outcomes.append((stay.id, "create", stay.access_error_code or "ok"))
        for index, pin in job.pins:
            stay_id = created[index]
            try:
                with services.db.transaction() as session:
                    set_stay_pin(session, services.vault, services.clock, principal, stay_id, pin)
                outcomes.append((stay_id, pin, "ok"))
            except DomainError as error:
                outcomes.append((stay_id, pin, error.code))
        db.dispose()
    except Exception:
        crashes.append(traceback.format_exc())
    results.put((created, outcomes, crashes))
