"""A delivery that failed for good: recorded on the row, as a `delivery.failed` event and an alert."""

from __future__ import annotations

import logging
from datetime import datetime

from prometheus_client import Counter
from sqlalchemy.orm import Session

from doorpin.adapters.db.delivery_models import Delivery
from doorpin.domain.deliveries import Status
from doorpin.services import announcements, audit
from doorpin.services.alerts import raise_alert

log = logging.getLogger("doorpin.deliveries")

GUEST_MESSAGES = Counter("doorpin_guest_messages_total", "Guest message outcomes", ["channel", "outcome"])
NOT_CONFIGURED = "channel_not_configured"


def fail_delivery(session: Session, row: Delivery, now: datetime, code: str, message: str) -> None:
    """`message` must not hold a PIN (callers scrub provider texts)."""
    row.status, row.error_code, row.error_message = Status.FAILED.value, code, message
    row.next_attempt_at = row.lease_until = None
    row.updated_at = now
    raise_alert(
        session,
        account_id=row.account_id,
        at=now,
        kind="delivery_failed",
        severity="warning",
        message=f"a {row.channel} message to the guest of {row.reservation_id} failed: {message}",
        # One open alert per unconfigured channel, not one per guest.
        dedupe_key=f"delivery_failed:channel:{row.channel}" if code == NOT_CONFIGURED else f"delivery_failed:{row.id}",
        property_id=row.property_id,
        subject_type="reservation",
        subject_id=row.reservation_id,
    )
    audit.record(
        session,
        account_id=row.account_id,
        at=now,
        actor_key_id=None,
        action="delivery.failed",
        subject_type="reservation",
        subject_id=row.reservation_id,
        property_id=row.property_id,
        details={"delivery_id": row.id, "channel": row.channel, "reason": row.reason, "error_code": code},
    )
    announcements.delivery_failed(session, row, now)
    GUEST_MESSAGES.labels(row.channel, "failed").inc()
    log.warning("delivery %s (%s) failed: %s", row.id, row.channel, code)
