"""Read-back of quiet locks: a lock with no work is still checked every `verify_every`, so a
code wiped at the device (a reset, a battery swap, someone at the keypad menu) or one added
there is found even when doorpin has nothing to send it.

The job leases a handful of locks whose last read-back attempt is older than `verify_every`,
with the same lease the reconciler takes (so the two never talk to one lock at once), and runs
the read-back that lock sync runs after its commands (`lock_verify.verify_lock`): missing codes
go back to `pending` and are reprogrammed by the next sync pass, strangers' codes are alerted.
A lock that cannot be read is tried again only after another `verify_every`, not on every pass.
"""

from __future__ import annotations

import logging

from sqlalchemy import or_, select
from sqlalchemy.orm import lazyload

from doorpin.adapters.db.models import Lock
from doorpin.adapters.locks.pool import ProviderPool
from doorpin.bootstrap import AppServices
from doorpin.services.lock_sync import SyncConfig, release_lock
from doorpin.services.lock_verify import verify_lock

log = logging.getLogger("doorpin.lock_sync")


def lease_quiet_locks(app: AppServices, pool: ProviderPool, owner: str, config: SyncConfig) -> list[tuple[str, str]]:
    """Lease locks due a read-back; a lock whose provider cannot read back is only marked checked."""
    now = app.clock.now()
    with app.db.transaction() as session:
        query = (
            select(Lock)
            .options(lazyload(Lock.unit_links))
            .where(
                or_(Lock.verified_at.is_(None), Lock.verified_at <= now - config.verify_every),
                or_(Lock.sync_lease_until.is_(None), Lock.sync_lease_until < now),
            )
            .order_by(Lock.verified_at.is_not(None), Lock.verified_at, Lock.account_id, Lock.id)
            .limit(config.locks_per_pass)
        )
        if not app.db.is_sqlite:
            query = query.with_for_update(of=Lock, skip_locked=True)
        leased = []
        for lock in session.scalars(query):
            # Marked now, whatever the answer will be: an unreachable lock waits a whole
            # `verify_every` before its next try instead of being asked again on every pass.
            lock.verified_at = now
            if not getattr(pool.provider_for(lock), "reads_back", True):
                continue
            lock.sync_lease_owner, lock.sync_lease_until = owner, now + config.lease
            leased.append((lock.account_id, lock.id))
        return leased


def verify_quiet_locks(app: AppServices, pool: ProviderPool, owner: str, config: SyncConfig) -> int:
    """One round of read-backs; returns how many drifted codes were found."""
    drift = 0
    for account_id, lock_id in lease_quiet_locks(app, pool, owner, config):
        try:
            drift += verify_lock(app, pool, account_id, lock_id, force=True, every=config.verify_every)
        except Exception:  # one lock's trouble must not stop the others
            log.exception("read-back of quiet lock %s failed", lock_id)
        finally:
            release_lock(app, account_id, lock_id, owner)
    return drift
