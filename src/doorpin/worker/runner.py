"""The background worker: runs each registered job in turn until asked to stop.

Jobs (lock sync, deliveries, webhooks, expiries) register here as they are built; each job
claims its own due rows from the database, so any number of workers may run on PostgreSQL.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from doorpin.bootstrap import AppServices

log = logging.getLogger("doorpin.worker")


@dataclass(frozen=True)
class Job:
    name: str
    run_once: Callable[[AppServices], int]  # returns how many items it handled


def _rotate_codes(services: AppServices) -> int:
    from doorpin.services.access_codes import rotate_due_codes

    with services.db.transaction() as session:
        return rotate_due_codes(session, services.vault, services.clock.now())


def registered_jobs() -> Sequence[Job]:
    # Lock sync, deliveries and webhooks join these as they are built.
    return (Job("rotate_shared_codes", _rotate_codes),)


class Worker:
    def __init__(self, services: AppServices, jobs: Sequence[Job] | None = None, idle_seconds: float = 1.0) -> None:
        self.services = services
        self.jobs = list(registered_jobs() if jobs is None else jobs)
        self.idle_seconds = idle_seconds
        self.stopping = threading.Event()

    def run_once(self) -> int:
        handled = 0
        for job in self.jobs:
            try:
                handled += job.run_once(self.services)
            except Exception:  # one failing job must not stop the others
                log.exception("worker job %s failed; it will run again", job.name)
        return handled

    def run_forever(self) -> None:
        if self.jobs:
            log.info("worker started with jobs: %s", ", ".join(job.name for job in self.jobs))
        else:
            log.info("worker started: nothing to do yet (no background jobs are registered)")
        while not self.stopping.is_set():
            if self.run_once() == 0:
                self.stopping.wait(self.idle_seconds)
        log.info("worker stopped")

    def stop(self) -> None:
        self.stopping.set()
