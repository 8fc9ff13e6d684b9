"""The background worker: runs each job in turn until asked to stop.

Each job claims its own due rows from the database, so any number of workers may run against
PostgreSQL. Jobs: lock sync (the reconciler), rotation of shared access codes and guest messages
(the delivery outbox), access events from polled locks, outgoing webhooks (and, hourly, their
retention) and the integrity sweep.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from doorpin.adapters.locks.pool import ProviderPool
from doorpin.adapters.messaging.senders import build_senders, close_senders
from doorpin.bootstrap import AppServices
from doorpin.services.event_polling import poll_lock_events
from doorpin.services.integrity import sweep_code_clashes
from doorpin.services.lock_sync import SyncConfig, run_sync_pass, worker_identity
from doorpin.services.message_sending import run_delivery_pass
from doorpin.services.quiet_locks import verify_quiet_locks
from doorpin.services.waiting_stays import retry_waiting_stays
from doorpin.services.webhook_delivery import run_webhook_pass
from doorpin.services.webhook_retention import prune_webhook_outbox

log = logging.getLogger("doorpin.worker")


@dataclass(frozen=True)
class Job:
    name: str
    run_once: Callable[[], int]  # returns how many items it handled


def _every(seconds: float, run: Callable[[], int]) -> Callable[[], int]:
    """Run `run` at most once per `seconds` (for sweeps that need not run on every pass)."""
    last = [float("-inf")]

    def throttled() -> int:
        now = time.monotonic()
        if now - last[0] < seconds:
            return 0
        last[0] = now
        return run()

    return throttled


def _rotate_codes(services: AppServices) -> int:
    from doorpin.services.access_codes import rotate_due_codes

    with services.db.transaction() as session:
        return rotate_due_codes(session, services.vault, services.clock.now())


class Worker:
    def __init__(
        self,
        services: AppServices,
        jobs: Sequence[Job] | None = None,
        idle_seconds: float = 0.5,
        sync_config: SyncConfig | None = None,
        pool: ProviderPool | None = None,
    ) -> None:
        self.services = services
        self.identity = worker_identity()
        self.pool = pool or ProviderPool(services.provider_settings)
        # Malformed DOORPIN_SMTP_URL / DOORPIN_SMS_URL stop start-up here (ConfigError).
        self.senders = build_senders(services.smtp_url, services.sms_url)
        config = sync_config or SyncConfig(lease=timedelta(seconds=services.sync_lease_seconds))
        self.jobs = list(
            jobs
            if jobs is not None
            else (
                Job("lock_sync", lambda: run_sync_pass(services, self.pool, self.identity, config)),
                Job(
                    "verify_quiet_locks",
                    _every(15, lambda: verify_quiet_locks(services, self.pool, self.identity, config)),
                ),
                Job("rotate_shared_codes", lambda: _rotate_codes(services)),
                Job("guest_messages", lambda: run_delivery_pass(services, self.senders)),
                Job("retry_waiting_stays", _every(15, lambda: retry_waiting_stays(services))),
                Job("lock_events", lambda: poll_lock_events(services, self.pool, self.identity)),
                Job("webhooks", lambda: run_webhook_pass(services)),
                Job("webhook_retention", _every(3600, lambda: prune_webhook_outbox(services))),
                Job("integrity_sweep", _every(60, lambda: sweep_code_clashes(services))),
            )
        )
        self.idle_seconds = idle_seconds
        self.stopping = threading.Event()

    def run_once(self) -> int:
        handled = 0
        for job in self.jobs:
            if self.stopping.is_set():
                break
            try:
                handled += job.run_once()
            except Exception:  # one failing job must not stop the others
                log.exception("worker job %s failed; it will run again", job.name)
        return handled

    def run_forever(self) -> None:
        log.info("worker %s started with jobs: %s", self.identity, ", ".join(job.name for job in self.jobs) or "none")
        try:
            while not self.stopping.is_set():
                if self.run_once() == 0:
                    self.stopping.wait(self.idle_seconds)
        finally:
            self.pool.close()
            close_senders(self.senders)
            log.info("worker %s stopped", self.identity)

    def stop(self) -> None:
        """Finish the command in flight, then stop (SIGTERM)."""
        self.stopping.set()
