"""The integrity sweep: a second, independent look for two codes that would open one lock with
the same digits at the same time.

Allocation already makes this impossible (PostgreSQL refuses it with an exclusion constraint;
SQLite serializes allocation). The sweep checks the stored claims anyway, so a bug, a manual edit
or a restored backup cannot leave a door that lets one guest into another's room unnoticed. A
clash is the most serious alert doorpin raises.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import Counter
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from doorpin.adapters.db.access_models import LockCode
from doorpin.adapters.db.models import Lock
from doorpin.bootstrap import AppServices
from doorpin.services.alerts import alert_on_lock

log = logging.getLogger("doorpin.integrity")

CLASHES_FOUND = Counter("doorpin_code_clashes_found_total", "Code clashes found by the integrity sweep")


@dataclass(frozen=True)
class Clash:
    account_id: str
    lock_id: str
    first_claim_id: str
    second_claim_id: str


def find_clashes(session: Session, now: datetime) -> list[Clash]:
    """Pairs of claims of different codes with one fingerprint on one lock whose held ranges
    `[valid_from, hold_until)` overlap, among claims still holding their code at `now`."""
    a, b = aliased(LockCode), aliased(LockCode)
    current_a = or_(a.hold_until.is_(None), a.hold_until > now)
    current_b = or_(b.hold_until.is_(None), b.hold_until > now)
    overlap = and_(
        or_(b.hold_until.is_(None), a.valid_from < b.hold_until),
        or_(a.hold_until.is_(None), b.valid_from < a.hold_until),
    )
    query = (
        select(a.account_id, a.lock_id, a.id, b.id)
        .join(
            b,
            and_(
                b.account_id == a.account_id,
                b.lock_id == a.lock_id,
                b.code_fingerprint == a.code_fingerprint,
                b.access_code_id != a.access_code_id,
                b.id > a.id,
            ),
        )
        .where(current_a, current_b, overlap)
        .order_by(a.account_id, a.lock_id, a.id, b.id)
    )
    return [Clash(*row) for row in session.execute(query)]


def sweep_code_clashes(app: AppServices) -> int:
    """The worker's job: one sweep in its own transaction. Returns how many clashes were found."""
    with app.db.transaction() as session:
        return sweep(session, app.clock.now())


def sweep(session: Session, now: datetime) -> int:
    """Look for clashes; raise a critical alert per clash found (one open alert per pair)."""
    clashes = find_clashes(session, now)
    for clash in clashes:
        lock = session.get(Lock, (clash.account_id, clash.lock_id))
        assert lock is not None  # a claim's lock is a foreign key
        log.error(
            "integrity sweep: codes %s and %s share digits on lock %s at the same time",
            clash.first_claim_id,
            clash.second_claim_id,
            clash.lock_id,
        )
        alert_on_lock(
            session,
            lock,
            at=now,
            kind="code_clash",
            severity="critical",
            message=f"two different codes with the same digits are live on {lock.name} at the same time "
            f"(claims {clash.first_claim_id} and {clash.second_claim_id}): one holder can open the other's "
            "door. Change one of the PINs now.",
            dedupe_key=f"code_clash:{clash.first_claim_id}:{clash.second_claim_id}",
        )
    CLASHES_FOUND.inc(len(clashes))
    return len(clashes)
