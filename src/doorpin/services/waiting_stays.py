"""Stays stored without a PIN (no room in the code space) get one as soon as the policy allows.

A cancellation or an expiring stay frees room on a lock; rather than wiring every such event
to every waiting stay, the worker retries waiting stays regularly, oldest first.
"""

from __future__ import annotations

from sqlalchemy import select

from doorpin.adapters.db.models import Property, Reservation
from doorpin.bootstrap import AppServices
from doorpin.domain.stays import LIVE_STATUSES
from doorpin.services.guest_messages import plan_guest_messages, snapshot
from doorpin.services.stay_access import AccessContext, refresh_stay_access, with_race_retry

RETRIED_ERRORS = ("code_space_exhausted", "code_constraints_violated")


def retry_waiting_stays(app: AppServices, limit: int = 50) -> int:
    """Try again to issue PINs to waiting stays; returns how many got one."""
    with app.db.reader() as session:
        waiting = list(
            session.execute(
                select(Reservation.account_id, Reservation.id)
                .where(
                    Reservation.access_error_code.in_(RETRIED_ERRORS),
                    Reservation.status.in_([s.value for s in LIVE_STATUSES]),
                )
                .order_by(Reservation.created_at)
                .limit(limit)
            ).all()
        )
    return sum(_retry_one(app, account_id, reservation_id) for account_id, reservation_id in waiting)


def _retry_one(app: AppServices, account_id: str, reservation_id: str) -> bool:
    with app.db.transaction() as session:
        stay = session.get(Reservation, (account_id, reservation_id))
        if stay is None or stay.access_error_code not in RETRIED_ERRORS:
            return False
        prop = session.get(Property, (account_id, stay.property_id))
        assert prop is not None
        before = snapshot(stay)
        now = app.clock.now()
        ctx = AccessContext(session, app.vault, now, None)
        with_race_retry(session, lambda: refresh_stay_access(ctx, stay, prop, "space_freed"))
        if stay.access_code_id is None or stay.access_error_code is not None:
            return False
        plan_guest_messages(session, app.vault, now, stay, prop, before)
        return True
