"""Read-back: compare what a lock holds with what doorpin believes, and repair the difference.

- A claim doorpin believes programmed but the lock lacks (a lock that "stored" nothing, a reset)
  is drift: it goes back to pending and is programmed again.
- A claim doorpin believes removed that the lock still holds is drift: it is removed again.
- A code on the lock that doorpin did not put there is reported (`unmanaged_code`), never deleted:
  it may be the owner's master code.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from doorpin.adapters.db.access_models import LockCode
from doorpin.adapters.db.models import Lock
from doorpin.adapters.locks.base import DeviceCode, RetryLater
from doorpin.adapters.locks.pool import ProviderPool
from doorpin.bootstrap import AppServices
from doorpin.metrics import SYNC_DRIFT
from doorpin.services import audit
from doorpin.services.alerts import alert_on_lock

log = logging.getLogger("doorpin.lock_sync")
_LOCK_ONLY = (lazyload(Lock.unit_links),)  # read-back never needs the lock's units (no selectin query)


def verify_lock(
    app: AppServices, pool: ProviderPool, account_id: str, lock_id: str, *, force: bool, every: timedelta
) -> int:
    """Read the lock back (when forced or due) and repair drift; returns the drift found."""
    now = app.clock.now()
    with app.db.reader() as session:
        lock = session.get(Lock, (account_id, lock_id), options=_LOCK_ONLY)
        if lock is None:
            return 0
        if not force and lock.verified_at is not None and now - lock.verified_at < every:
            return 0
        provider = pool.provider_for(lock)
        ref = pool.ref_for(lock)
    if not getattr(provider, "reads_back", True):
        return 0
    found = provider.list_codes(ref)
    if isinstance(found, RetryLater):
        return 0
    with app.db.transaction() as session:
        lock = session.get(Lock, (account_id, lock_id), options=_LOCK_ONLY)
        if lock is None:
            return 0
        drift = _reconcile(app, session, lock, list(found), now)
        lock.verified_at = now
        return drift


def _reconcile(app: AppServices, session: Session, lock: Lock, found: list[DeviceCode], now: datetime) -> int:
    on_device = {code.ref: code for code in found if code.ref is not None}
    believed_present = session.scalars(
        select(LockCode).where(
            LockCode.account_id == lock.account_id, LockCode.lock_id == lock.id, LockCode.state == "programmed"
        )
    ).all()
    drift = 0
    for row in believed_present:
        if row.id not in on_device and row.updated_at < now:
            _drift(session, lock, row, now, "missing", "pending" if row.desired == "present" else "removed")
            drift += 1
    known = {
        row.id: row
        for row in session.scalars(
            select(LockCode).where(
                LockCode.account_id == lock.account_id,
                LockCode.lock_id == lock.id,
                LockCode.id.in_(list(on_device)),
            )
        )
    }
    for device_ref in on_device:
        lingering = known.get(device_ref)
        if lingering is not None and lingering.state == "removed":
            _drift(session, lock, lingering, now, "lingering", "removing")
            drift += 1
    unmanaged = [code for code in found if code.ref is None or code.ref not in known]
    for code in unmanaged:
        label = code.ref or f"slot {code.slot}"
        alert_on_lock(
            session,
            lock,
            at=now,
            kind="unmanaged_code",
            severity="warning",
            message=f"{lock.name} holds a code doorpin did not put there ({label}); it was left in place",
            dedupe_key=f"unmanaged_code:{lock.id}:{label}",
        )
    return drift


def _drift(session: Session, lock: Lock, row: LockCode, now: datetime, kind: str, new_state: str) -> None:
    SYNC_DRIFT.labels(kind).inc()
    log.warning("drift on lock %s: claim %s %s on the device; repairing", lock.id, row.id, kind)
    row.state = new_state
    row.sync_due_at = now if new_state != "removed" else None
    audit.record(
        session,
        account_id=lock.account_id,
        at=now,
        actor_key_id=None,
        action=f"lock.drift_{kind}",
        subject_type="lock",
        subject_id=lock.id,
        property_id=lock.property_id,
        details={"claim_id": row.id},
    )
