"""Retention for the webhook outbox: old finished deliveries go, with their attempts and events.

A delivery is finished when it is `delivered` or `canceled`, and old when everything that
happened to it (queued, last attempted, delivered) is older than `webhook_retention_days`
(DOORPIN_WEBHOOK_RETENTION_DAYS). Those are deleted with their attempts; then every event older
than the cutoff that no delivery refers to any more. A pending delivery is never deleted however
old it is (a disabled subscription's deliveries wait until it is enabled or deleted), and so its
attempts and its event stay too.

Rows go in batches, each in its own short transaction (SQLite's single writer is released
between them), at most `max_batches` of each kind per run: a backlog is worked off over several
runs. On PostgreSQL a batch's deliveries are locked first (`FOR UPDATE SKIP LOCKED`), so a worker
recording an attempt for one of them at the same moment waits and then finds it gone, and
workers pruning at once split the rows instead of queueing behind each other.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Delete, and_, delete, exists, or_, select, tuple_
from sqlalchemy.orm import Session

from doorpin.adapters.db.event_models import WebhookAttempt, WebhookDelivery, WebhookEvent
from doorpin.bootstrap import AppServices
from doorpin.domain.webhooks import DeliveryStatus

log = logging.getLogger("doorpin.webhooks")

FINISHED = (DeliveryStatus.DELIVERED.value, DeliveryStatus.CANCELED.value)


@dataclass(frozen=True)
class RetentionConfig:
    batch: int = 1000  # rows of each kind per transaction
    max_batches: int = 100  # per kind and run


def _old_and_finished(cutoff: datetime) -> Any:
    return and_(
        WebhookDelivery.status.in_(FINISHED),
        WebhookDelivery.created_at < cutoff,
        or_(WebhookDelivery.last_attempt_at.is_(None), WebhookDelivery.last_attempt_at < cutoff),
        or_(WebhookDelivery.delivered_at.is_(None), WebhookDelivery.delivered_at < cutoff),
    )


def _no_delivery_left() -> Any:
    return ~exists().where(
        WebhookDelivery.account_id == WebhookEvent.account_id, WebhookDelivery.event_id == WebhookEvent.id
    )


def _deleted(session: Session, statement: Delete) -> int:
    result = session.execute(statement.execution_options(synchronize_session=False))
    return int(cast("CursorResult[Any]", result).rowcount)


def _prune_deliveries(app: AppServices, cutoff: datetime, batch: int) -> tuple[int, int]:
    """One batch of old finished deliveries and their attempts; (deliveries, attempts) deleted."""
    with app.db.transaction() as session:
        query = select(WebhookDelivery.account_id, WebhookDelivery.id).where(_old_and_finished(cutoff)).limit(batch)
        if not app.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        keys = [(row.account_id, row.id) for row in session.execute(query)]
        if not keys:
            return 0, 0
        attempts = _deleted(
            session,
            delete(WebhookAttempt).where(tuple_(WebhookAttempt.account_id, WebhookAttempt.delivery_id).in_(keys)),
        )
        deliveries = _deleted(
            session,
            delete(WebhookDelivery).where(
                tuple_(WebhookDelivery.account_id, WebhookDelivery.id).in_(keys), _old_and_finished(cutoff)
            ),
        )
        return deliveries, attempts


def _prune_events(app: AppServices, cutoff: datetime, batch: int) -> int:
    """One batch of old events no delivery refers to; how many were deleted."""
    with app.db.transaction() as session:
        query = (
            select(WebhookEvent.account_id, WebhookEvent.id)
            .where(WebhookEvent.created_at < cutoff, _no_delivery_left())
            .limit(batch)
        )
        if not app.db.is_sqlite:
            query = query.with_for_update(skip_locked=True, of=WebhookEvent)
        keys = [(row.account_id, row.id) for row in session.execute(query)]
        if not keys:
            return 0
        return _deleted(
            session,
            delete(WebhookEvent).where(tuple_(WebhookEvent.account_id, WebhookEvent.id).in_(keys), _no_delivery_left()),
        )


def prune_webhook_outbox(app: AppServices, config: RetentionConfig | None = None) -> int:
    """Delete what is past retention; returns how many rows (deliveries, attempts, events) went."""
    config = config or RetentionConfig()
    cutoff = app.clock.now() - timedelta(days=app.webhook_retention_days)
    deliveries = attempts = events = 0
    for _ in range(config.max_batches):
        batch_deliveries, batch_attempts = _prune_deliveries(app, cutoff, config.batch)
        deliveries, attempts = deliveries + batch_deliveries, attempts + batch_attempts
        if batch_deliveries < config.batch:
            break
    for _ in range(config.max_batches):
        batch_events = _prune_events(app, cutoff, config.batch)
        events += batch_events
        if batch_events < config.batch:
            break
    total = deliveries + attempts + events
    if total:
        log.info(
            "webhook retention: pruned %d deliveries, %d attempts and %d events older than %s",
            deliveries,
            attempts,
            events,
            cutoff.isoformat(),
        )
    return total
