"""Status callbacks from the messaging gateway: a sent message becomes `delivered` or `failed`.

Callbacks may arrive late, twice or out of order: only `delivered`, `undelivered` and `failed`
change anything, and a delivery's final state is never overwritten by a later callback.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorpin.adapters.db.delivery_models import Delivery
from doorpin.domain.deliveries import Status
from doorpin.domain.errors import DomainError
from doorpin.services.delivery_failures import GUEST_MESSAGES, fail_delivery

DELIVERED = frozenset({"delivered", "read"})  # WhatsApp reports `read` after `delivered`
FAILED = frozenset({"undelivered", "failed"})


def record_gateway_status(
    session: Session, now: datetime, delivery_id: str, message_sid: str | None, status: str, error_code: str | None
) -> Delivery:
    """Apply one callback; `not_found` unless the delivery exists and carries this message id."""
    query = select(Delivery).where(Delivery.id == delivery_id)
    if message_sid:
        query = query.where(Delivery.provider_message_id == message_sid)
    row = session.scalars(query.with_for_update()).first()
    if row is None:
        raise DomainError("not_found", "no such message")
    status = status.strip().lower()
    if row.status != Status.SENT.value:
        return row  # already final (or never sent by us): keep what we know
    if status in DELIVERED:
        row.status, row.delivered_at, row.updated_at = Status.DELIVERED.value, now, now
        GUEST_MESSAGES.labels(row.channel, "delivered").inc()
    elif status in FAILED:
        code = "".join(c for c in (error_code or "") if c.isalnum())[:16]
        detail = f" (gateway error {code})" if code else ""
        fail_delivery(session, row, now, "undelivered", f"the messaging gateway reports the message {status}{detail}")
    return row
