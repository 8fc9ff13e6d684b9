"""Two real `doorpin worker` processes share one webhook outbox on PostgreSQL: every event reaches
the receiver exactly once with a 2xx, none is lost, and the two really worked side by side.

The subscription and the events are written through doorpin's services in the test process (as a
use case would, with the real clock); the workers are the installed `doorpin` command.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from doorpin.adapters.db.engine import Database
from doorpin.bootstrap import AppServices
from doorpin.domain.scopes import Scope, effective_scopes
from doorpin.keyring import Keyring
from doorpin.services import accounts, webhooks
from doorpin.services.clock import SystemClock
from doorpin.services.outbound import emit
from doorpin.services.principal import Principal
from tests.e2e.lock_sync_rig import sync_database
from tests.e2e.server import SECRET_KEY, doorpin_command, doorpin_env, stop_process
from tests.support.webhook_docs import documented_verifier
from tests.support.webhook_receiver import ReceivedRequest, webhook_receiver

pytestmark = pytest.mark.e2e

EVENTS = 60
FAILING_FIRST = 8  # some deliveries are retried, by whichever worker leases them next
DEADLINE_SECONDS = 90


@contextlib.contextmanager
def workers(database_url: str, workdir: Path, count: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    env = doorpin_env(database_url, SECRET_KEY, DOORPIN_WEBHOOK_RETRY_BASE_SECONDS="0.2")
    processes: list[subprocess.Popen[bytes]] = []
    logs = [workdir / f"worker-{n}.log" for n in range(count)]
    try:
        for log_path in logs:
            with log_path.open("wb") as log_file:
                processes.append(
                    subprocess.Popen(
                        [*doorpin_command(), "worker"], env=env, cwd=workdir, stdout=log_file, stderr=subprocess.STDOUT
                    )
                )
        deadline = time.monotonic() + 30
        for process, log_path in zip(processes, logs, strict=True):
            while " started with jobs" not in log_path.read_text(errors="replace"):
                assert process.poll() is None, log_path.read_text(errors="replace")
                assert time.monotonic() < deadline, "a worker did not start"
                time.sleep(0.05)
        yield processes
    finally:
        for process in processes:
            stop_process(process)


@pytest.mark.parametrize("backend", ["postgresql"])  # SQLite has a single writer: one worker at a time
def test_two_workers_deliver_each_event_exactly_once(backend: str, tmp_path: Path) -> None:
    with sync_database(backend, tmp_path) as url, webhook_receiver(fail_first=FAILING_FIRST) as receiver:
        receiver.answer_slowly(0.05)
        db = Database.from_url(url)
        services = AppServices(db=db, keyring=Keyring(SECRET_KEY.encode()), clock=SystemClock())
        try:
            with db.transaction() as session:
                account, issued = accounts.create_account(session, services.keyring, services.clock, "webhooks")
                admin = Principal(account.id, issued.key.id, effective_scopes([Scope.ADMIN]), None)
                created = webhooks.create_subscription(
                    session,
                    services.vault,
                    services.clock,
                    admin,
                    url=receiver.url,
                    events=["*"],
                    secret=None,
                    description=None,
                )
            with workers(url, tmp_path, 2) as running:
                event_ids = []
                with db.transaction() as session:  # all due at once: both workers find work
                    for n in range(EVENTS):
                        event = emit(
                            session,
                            account_id=account.id,
                            type="access.granted",
                            at=services.clock.now(),
                            data={"n": n},
                        )
                        assert event is not None
                        event_ids.append(event.id)

                def all_accepted(requests: list[ReceivedRequest]) -> bool:
                    return len({r.headers["doorpin-event-id"] for r in requests if r.answered == 200}) >= EVENTS

                receiver.wait_for(all_accepted, timeout=DEADLINE_SECONDS)
                time.sleep(2)  # anything sent twice would arrive now
                assert all(process.poll() is None for process in running)
        finally:
            db.dispose()

    requests = receiver.requests
    accepted = Counter(r.headers["doorpin-event-id"] for r in requests if r.answered == 200)
    assert set(accepted) == set(event_ids)
    assert [event for event, times in accepted.items() if times != 1] == []
    assert len(requests) == EVENTS + FAILING_FIRST
    verify_signature = documented_verifier()
    for request in requests:
        body = json.loads(request.body)
        assert body["id"] == request.headers["doorpin-event-id"]
        assert verify_signature(
            created.secret, request.body, request.headers["doorpin-signature"], now=request.received_at
        )
    assert receiver.max_in_flight >= 2, "the two workers never sent at the same time"
