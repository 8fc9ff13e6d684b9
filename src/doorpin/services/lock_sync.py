"""The reconciler: brings every lock in line with the claims doorpin holds for it.

Work is claimed per lock, with a lease: a worker leases locks that have due claims (`FOR UPDATE
SKIP LOCKED` on PostgreSQL, so any number of workers share the work; SQLite's single writer
serializes the lease), then sends that lock's commands one at a time, outside any database
transaction, recording each outcome in its own short transaction. A worker killed mid-command
leaves the claim as it was; when the lease runs out another worker sends the command again,
and providers program by the claim's id, so the retry lands in the same slot.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, lazyload

from doorpin.adapters.db.access_models import AccessCode, LockCode
from doorpin.adapters.db.models import Lock
from doorpin.adapters.locks.base import (
    CodeSpec,
    Done,
    ErrorCode,
    LockProvider,
    LockRef,
    Outcome,
    PermanentFailure,
    RetryLater,
)
from doorpin.adapters.locks.pool import ProviderPool
from doorpin.bootstrap import AppServices
from doorpin.domain.sync_plan import Action, ClaimView, SyncTiming, backoff, plan, program_time
from doorpin.metrics import ACTIVATION_LATENESS, SYNC_COMMANDS, SYNC_QUEUE_DEPTH
from doorpin.services import announcements
from doorpin.services.alerts import alert_on_lock, close_alerts
from doorpin.services.lock_verify import verify_lock

log = logging.getLogger("doorpin.lock_sync")

_MAX_PASSES = 10  # per lease: a lock with endless new work yields to the others
# The reconciler never reads a lock's units: without this, every `session.get(Lock)` (one per
# recorded outcome) would also run the `selectin` query for `Lock.unit_links`.
_LOCK_ONLY = (lazyload(Lock.unit_links),)


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True)
class SyncConfig:
    timing: SyncTiming = field(default_factory=SyncTiming)
    lease: timedelta = timedelta(seconds=30)  # renewed with every recorded outcome
    locks_per_pass: int = 32
    parallel_locks: int = 8  # locks served at once; still one command at a time per lock
    claims_per_lock: int = 100
    verify_every: timedelta = timedelta(minutes=10)


@dataclass(frozen=True)
class _Command:
    claim_id: str
    action: Action
    version: tuple[datetime, str, datetime, datetime | None]  # the claim when planned (see `_version`)
    spec: CodeSpec | None


def lease_locks(app: AppServices, owner: str, config: SyncConfig) -> list[tuple[str, str]]:
    """Lease locks that have due claims to `owner`; returns (account_id, lock_id) pairs."""
    now = app.clock.now()
    with app.db.transaction() as session:
        first_due = func.min(LockCode.sync_due_at)
        due = (
            select(LockCode.account_id, LockCode.lock_id, first_due.label("first_due"))
            .where(LockCode.sync_due_at <= now)
            .group_by(LockCode.account_id, LockCode.lock_id)
            .order_by(first_due)
            .limit(config.locks_per_pass * 4)
            .subquery()
        )
        query = (
            select(Lock)
            .options(*_LOCK_ONLY)
            .join(due, and_(Lock.account_id == due.c.account_id, Lock.id == due.c.lock_id))
            .where(or_(Lock.sync_lease_until.is_(None), Lock.sync_lease_until < now, Lock.sync_lease_owner == owner))
            # The longest-waiting locks first. (Filtering with `IN (due)` lost this order: the database
            # took whichever candidates it met first, and under a backlog the same locks kept losing.)
            .order_by(due.c.first_due, Lock.account_id, Lock.id)
            .limit(config.locks_per_pass)
        )
        if not app.db.is_sqlite:
            query = query.with_for_update(of=Lock, skip_locked=True)
        locks = list(session.scalars(query))
        for lock in locks:
            lock.sync_lease_owner = owner
            lock.sync_lease_until = now + config.lease
        SYNC_QUEUE_DEPTH.set(session.scalar(select(func.count()).where(LockCode.sync_due_at <= now)) or 0)
        return [(lock.account_id, lock.id) for lock in locks]


def release_lock(app: AppServices, account_id: str, lock_id: str, owner: str) -> None:
    with app.db.transaction() as session:
        lock = session.get(Lock, (account_id, lock_id), options=_LOCK_ONLY)
        if lock is not None and lock.sync_lease_owner == owner:
            lock.sync_lease_owner = None
            lock.sync_lease_until = None


def _version(row: LockCode) -> tuple[datetime, str, datetime, datetime | None]:
    """The claim as a command was planned for it; any difference later means it changed while the
    command was in flight (`updated_at` alone ties when both writes fall in one clock tick)."""
    return (row.updated_at, row.desired, row.valid_from, row.valid_until)


def _view(row: LockCode) -> ClaimView:
    return ClaimView(row.desired, row.state, row.valid_from, row.valid_until, row.synced_from, row.synced_until)


def _plan_commands(app: AppServices, session: Session, lock: Lock, ref: LockRef, config: SyncConfig) -> list[_Command]:
    now = app.clock.now()
    rows = session.scalars(
        select(LockCode)
        .where(LockCode.account_id == lock.account_id, LockCode.lock_id == lock.id, LockCode.sync_due_at <= now)
        .order_by(LockCode.sync_due_at, LockCode.id)
        .limit(config.claims_per_lock)
        .with_for_update()  # rescheduled below: an API write meanwhile must not be overwritten
    ).all()
    steps = [(row, plan(_view(row), ref.native_scheduling, now, config.timing)) for row in rows]
    code_ids = sorted({row.access_code_id for row, step in steps if step.action == Action.PROGRAM})
    codes = (
        {  # one query for the batch's PINs, not one per command
            code.id: code
            for code in session.scalars(
                select(AccessCode).where(AccessCode.account_id == lock.account_id, AccessCode.id.in_(code_ids))
            )
        }
        if code_ids
        else {}
    )
    commands = []
    for row, step in steps:
        if step.action in (Action.WAIT, Action.IDLE):
            row.sync_due_at = step.at
        elif step.action == Action.EXPIRE:
            _expire(session, lock, row, now)
        elif step.action == Action.REMOVE:
            commands.append(_Command(row.id, Action.REMOVE, _version(row), None))
        else:
            code = codes.get(row.access_code_id)
            assert code is not None
            pin = app.vault.open(code.pin_ciphertext, code.account_id, code.id)
            native = ref.native_scheduling
            spec = CodeSpec(row.id, pin, row.valid_from if native else None, row.valid_until if native else None)
            commands.append(_Command(row.id, Action.PROGRAM, _version(row), spec))
    return commands


def _expire(session: Session, lock: Lock, row: LockCode, now: datetime) -> None:
    before = row.state
    row.state, row.sync_due_at = "failed", None
    row.error_code = "window_ended"
    row.error_message = "the code's window ended before the lock could be programmed"
    alert_on_lock(
        session,
        lock,
        at=now,
        kind="code_never_programmed",
        severity="critical",
        message=f"a code for {lock.name} never reached the lock before its window ended",
        dedupe_key=f"code_never_programmed:{row.id}",
    )
    announcements.claim_state_changed(session, row, lock.property_id, before, now)


def _send(provider: LockProvider, ref: LockRef, command: _Command) -> Outcome:
    try:
        if command.action == Action.PROGRAM:
            assert command.spec is not None
            return provider.program(ref, command.spec)
        return provider.remove(ref, command.claim_id)
    except Exception as exc:  # a provider bug must not kill the worker; treat as transient
        log.exception("lock provider %s failed on %s", provider.name, command.action.value)
        return RetryLater(ErrorCode.PROVIDER_ERROR, f"provider raised {type(exc).__name__}")


def _record(
    app: AppServices, account_id: str, lock_id: str, command: _Command, outcome: Outcome, config: SyncConfig
) -> None:
    now = app.clock.now()
    with app.db.transaction() as session:
        # Row locks (PostgreSQL; SQLite's writer already excludes others), lock before claim as API
        # writes take them: a change committing meanwhile is waited for and seen, not overwritten.
        lock = session.get(Lock, (account_id, lock_id), with_for_update=True, options=_LOCK_ONLY)
        row = session.get(LockCode, (account_id, command.claim_id), with_for_update=True)
        if lock is None or row is None:
            return
        lock.sync_lease_until = now + config.lease
        before = row.state
        _record_health(session, lock, outcome, now, config)
        changed = _version(row) != command.version
        if isinstance(outcome, Done):
            _record_done(lock, row, command, outcome, now, changed, config)
            if row.state == "programmed":  # the code is there after all: the arrival alerts are over
                close_alerts(session, account_id=account_id, at=now, dedupe_key=f"arrival_without_code:{row.id}")
                close_alerts(session, account_id=account_id, at=now, dedupe_key=f"arrival_at_risk:{row.id}")
        elif isinstance(outcome, RetryLater):
            _record_retry(session, lock, row, command, outcome, now, config)
        else:
            _record_permanent(session, lock, row, outcome, now)
        announcements.claim_state_changed(session, row, lock.property_id, before, now)


def _record_done(
    lock: Lock, row: LockCode, command: _Command, outcome: Done, now: datetime, changed: bool, config: SyncConfig
) -> None:
    row.attempts, row.first_failure_at, row.error_code, row.error_message = 0, None, None, None
    if command.action == Action.PROGRAM:
        row.slot = outcome.slot
        row.programmed_at = row.programmed_at or now
        if changed:  # the claim moved or was revoked while the command was in flight
            row.state = "pending" if row.desired == "present" else "removing"
            row.synced_from, row.synced_until = command.version[2], command.version[3]  # what the lock holds
            row.sync_due_at = now
            return
        row.state = "programmed"
        row.synced_from, row.synced_until = row.valid_from, row.valid_until
        log.info("%s: code %s programmed (slot %s)", lock.name, row.id, outcome.slot)
        row.sync_due_at = row.valid_until
        native = bool(lock.capabilities.get("native_scheduling"))
        if not native:
            due = program_time(_view(row), native, config.timing)
            ACTIVATION_LATENESS.observe(max(0.0, (now - due).total_seconds()))
        return
    row.slot, row.synced_from, row.synced_until = None, None, None  # the lock holds nothing now
    over = row.valid_until is not None and now >= row.valid_until
    if row.desired == "present" and (changed or not over):  # wanted again, or taken off until its time
        row.state, row.sync_due_at = "pending", now
        return
    row.state, row.removed_at, row.sync_due_at = "removed", now, None
    log.info("%s: code %s removed", lock.name, row.id)


def _record_retry(
    session: Session,
    lock: Lock,
    row: LockCode,
    command: _Command,
    outcome: RetryLater,
    now: datetime,
    config: SyncConfig,
) -> None:
    row.attempts += 1
    row.first_failure_at = row.first_failure_at or now
    row.error_code, row.error_message = outcome.code.value, outcome.message
    delay = backoff(row.attempts, config.timing)
    if outcome.retry_after is not None:
        delay = max(delay, timedelta(seconds=outcome.retry_after))
    row.sync_due_at = now + delay
    if row.attempts >= config.timing.alert_after_attempts:
        alert_on_lock(
            session,
            lock,
            at=now,
            kind="lock_unreachable",
            severity="warning",
            message=f"{lock.name} has not accepted commands for {row.attempts} attempts ({outcome.code.value}); "
            "doorpin keeps trying",
            dedupe_key=f"lock_unreachable:{lock.id}",
        )
    if command.action != Action.PROGRAM:
        return
    if now >= row.valid_from:
        alert_on_lock(
            session,
            lock,
            at=now,
            kind="arrival_without_code",
            severity="critical",
            message=f"a code that should already open {lock.name} is not on the lock ({outcome.code.value})",
            dedupe_key=f"arrival_without_code:{row.id}",
        )
        close_alerts(session, account_id=lock.account_id, at=now, dedupe_key=f"arrival_at_risk:{row.id}")
    elif row.attempts >= config.timing.alert_after_attempts:
        holder = f"the stay {row.reservation_id}" if row.reservation_id else f"the access code {row.access_code_id}"
        alert_on_lock(
            session,
            lock,
            at=now,
            kind="arrival_at_risk",
            severity="critical",
            message=f"{lock.name} is not taking the code {holder} needs from {row.valid_from.isoformat()} "
            f"({row.attempts} attempts, {outcome.code.value}): check the lock before then",
            dedupe_key=f"arrival_at_risk:{row.id}",
        )


def _record_permanent(session: Session, lock: Lock, row: LockCode, outcome: PermanentFailure, now: datetime) -> None:
    row.state, row.sync_due_at = "failed", None
    row.error_code, row.error_message = outcome.code.value, outcome.message
    alert_on_lock(
        session,
        lock,
        at=now,
        kind=outcome.code.value,
        severity="critical",
        message=f"{lock.name} refused a code: {outcome.message}",
        dedupe_key=f"{outcome.code.value}:{row.id}",
    )


def _record_health(session: Session, lock: Lock, outcome: Outcome, now: datetime, config: SyncConfig) -> None:
    if isinstance(outcome, RetryLater):
        lock.consecutive_failures += 1
        lock.last_error_code = outcome.code.value
        return
    lock.last_contact_at = now
    if lock.consecutive_failures:
        close_alerts(session, account_id=lock.account_id, at=now, dedupe_key=f"lock_unreachable:{lock.id}")
    lock.consecutive_failures = 0
    lock.last_error_code = None if isinstance(outcome, Done) else outcome.code.value


def sync_lock(
    app: AppServices, pool: ProviderPool, account_id: str, lock_id: str, owner: str, config: SyncConfig
) -> int:
    """Send a leased lock its due commands, one at a time; returns how many were sent."""
    sent = 0
    for _ in range(_MAX_PASSES):
        with app.db.transaction() as session:
            lock = session.get(Lock, (account_id, lock_id), with_for_update=True, options=_LOCK_ONLY)
            if lock is None or lock.sync_lease_owner != owner:
                return sent
            provider = pool.provider_for(lock)
            ref = pool.ref_for(lock)
            commands = _plan_commands(app, session, lock, ref, config)
            lock.sync_lease_until = app.clock.now() + config.lease
        if not commands:
            break
        pool.prepare(lock)  # outside the transaction: it may talk to the device
        struggling = False
        for command in commands:
            outcome = _send(provider, ref, command)
            SYNC_COMMANDS.labels(provider.name, command.action.value, type(outcome).__name__).inc()
            _record(app, account_id, lock_id, command, outcome, config)
            sent += 1
            if isinstance(outcome, RetryLater):
                struggling = True  # back off instead of hammering a struggling lock
                break
        if struggling:
            break
    verify_lock(app, pool, account_id, lock_id, force=sent > 0, every=config.verify_every)
    return sent


def run_sync_pass(app: AppServices, pool: ProviderPool, owner: str, config: SyncConfig) -> int:
    """Lease due locks and sync them, several locks at a time; returns the number of commands sent."""
    leased = lease_locks(app, owner, config)
    if not leased:
        return 0

    def serve(key: tuple[str, str]) -> int:
        account_id, lock_id = key
        try:
            return sync_lock(app, pool, account_id, lock_id, owner, config)
        except Exception:  # one lock's trouble must not stop the others; its lease runs out
            log.exception("lock sync failed for %s", lock_id)
            return 0
        finally:
            release_lock(app, account_id, lock_id, owner)

    if config.parallel_locks <= 1 or len(leased) == 1:
        return sum(serve(key) for key in leased)
    with ThreadPoolExecutor(max_workers=min(config.parallel_locks, len(leased)), thread_name_prefix="sync") as pool_:
        return sum(pool_.map(serve, leased))


def pending_commands(session: Session, account_id: str, lock_ids: Sequence[str]) -> dict[str, int]:
    """Per lock, the claims not yet where they should be (for the lock's `health`)."""
    rows = session.execute(
        select(LockCode.lock_id, func.count())
        .where(
            LockCode.account_id == account_id,
            LockCode.lock_id.in_(list(lock_ids)),
            or_(LockCode.state == "removing", and_(LockCode.state == "pending", LockCode.sync_due_at.is_not(None))),
        )
        .group_by(LockCode.lock_id)
    ).all()
    return {lock_id: int(count) for lock_id, count in rows}
