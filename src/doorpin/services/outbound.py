"""Events told to integrators: written to the webhook outbox in the caller's transaction.

`emit` is called by the use case that caused the event (a PIN assigned, a code programmed, an
access event ingested, an alert raised...), so an event is announced exactly when its cause
commits. With no active subscription wanting the type, nothing is written. Event data never
holds a PIN.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorpin.adapters.db.event_models import WebhookDelivery, WebhookEvent, WebhookSubscription
from doorpin.domain.event_types import EVENT_TYPES, matches
from doorpin.ids import new_id

ACTIVE = "active"
PENDING = "pending"


def emit(
    session: Session,
    *,
    account_id: str,
    type: str,
    at: datetime,
    data: Mapping[str, Any],
    property_id: str | None = None,
) -> WebhookEvent | None:
    """Queue `type` for every active subscription of the account that wants it."""
    assert type in EVENT_TYPES, type
    wanting = [
        sub
        for sub in _active_subscriptions(session, account_id)
        if sub.status == ACTIVE and matches(sub.events, type)  # still active: it may be disabled meanwhile
    ]
    if not wanting:
        return None
    event = WebhookEvent(
        account_id=account_id, id=new_id("evt"), type=type, property_id=property_id, created_at=at, data=dict(data)
    )
    session.add(event)
    session.flush()  # the deliveries refer to the event; without relationships the ORM would not order them
    for sub in wanting:
        session.add(
            WebhookDelivery(
                account_id=account_id,
                id=new_id("whd"),
                subscription_id=sub.id,
                event_id=event.id,
                status=PENDING,
                attempts=0,
                next_attempt_at=at,
                created_at=at,
            )
        )
    return event


def _active_subscriptions(session: Session, account_id: str) -> list[WebhookSubscription]:
    """Read once per session (one transaction here): a use case that tells many events, such as a
    batch of key-ins, asks the database once, not once per event."""
    cache: dict[str, list[WebhookSubscription]] = session.info.setdefault("doorpin_active_webhooks", {})
    if account_id not in cache:
        query = select(WebhookSubscription).where(
            WebhookSubscription.account_id == account_id, WebhookSubscription.status == ACTIVE
        )
        cache[account_id] = list(session.scalars(query))
    return cache[account_id]
