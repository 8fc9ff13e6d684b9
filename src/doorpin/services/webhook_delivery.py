"""The webhook job: due outbox rows POSTed, signed, to their subscriptions; each try logged.

A pass leases due deliveries of active subscriptions (`pending`, `next_attempt_at <= now`, no
live lease; `FOR UPDATE SKIP LOCKED` on PostgreSQL, so workers share the work; SQLite's single
writer serializes the lease). Each is then read in a short transaction (still ours, still pending,
its subscription still active), POSTed OUTSIDE any transaction, and its outcome recorded in
another: a 2xx is `delivered`; anything else is retried with exponential backoff (see
`domain/webhooks.retry_delay`). A subscription failing with no success for
`webhook_disable_after_hours` is disabled (its pending deliveries wait, unsent, until it is
enabled again) and an alert is raised.

At least once: a worker that dies mid-send leaves its lease to run out, and the event is sent
again with the same `id`. The lease (5 min) outlasts a whole batch of timed-out sends, and a
lease that ran out anyway is noticed before sending (another worker may hold it by then).
The secret is never logged; of an answer only its status and a short excerpt are kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import Counter
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from doorpin.adapters.db.event_models import WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookSubscription
from doorpin.adapters.signing import HEADER, signature
from doorpin.adapters.webhook_http import TIMEOUT_SECONDS, PostResult, WebhookPoster
from doorpin.bootstrap import AppServices
from doorpin.domain.webhooks import (
    DeliveryStatus,
    SubscriptionStatus,
    event_body,
    retry_delay,
    short_error,
    should_disable,
)
from doorpin.ids import new_id
from doorpin.services.alerts import raise_alert
from doorpin.services.webhooks import audit_subscription, disabled_alert_key, url_host

log = logging.getLogger("doorpin.webhooks")

WEBHOOK_ATTEMPTS = Counter("doorpin_webhook_attempts_total", "Outgoing webhook attempts", ["outcome"])
EVENT_ID_HEADER = "Doorpin-Event-Id"


@dataclass(frozen=True)
class WebhookConfig:
    lease: timedelta = timedelta(minutes=5)  # > batch x HTTP timeout: a slow batch keeps its lease
    batch: int = 20
    timeout: float = TIMEOUT_SECONDS


@dataclass(frozen=True)
class _Leased:
    account_id: str
    delivery_id: str
    lease_until: datetime  # our lease; a different value means another worker took it over


@dataclass(frozen=True)
class _Prepared:
    account_id: str
    delivery_id: str
    subscription_id: str
    event_id: str
    url: str
    secret: str
    body: bytes


def lease_due_deliveries(app: AppServices, config: WebhookConfig) -> list[_Leased]:
    now = app.clock.now()
    lease_until = now + config.lease
    with app.db.transaction() as session:
        query = (
            select(WebhookDelivery)
            .join(
                WebhookSubscription,
                and_(
                    WebhookSubscription.account_id == WebhookDelivery.account_id,
                    WebhookSubscription.id == WebhookDelivery.subscription_id,
                ),
            )
            .where(
                WebhookDelivery.status == DeliveryStatus.PENDING.value,
                WebhookDelivery.next_attempt_at <= now,
                or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now),
                WebhookSubscription.status == SubscriptionStatus.ACTIVE.value,
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(config.batch)
        )
        if not app.db.is_sqlite:
            query = query.with_for_update(skip_locked=True, of=WebhookDelivery)
        rows = list(session.scalars(query))
        for row in rows:
            row.lease_until = lease_until
        return [_Leased(row.account_id, row.id, lease_until) for row in rows]


def _prepare(app: AppServices, leased: _Leased) -> _Prepared | None:
    """The body and where it goes; None when the delivery is no longer ours to send."""
    with app.db.reader() as session:
        row = session.get(WebhookDelivery, (leased.account_id, leased.delivery_id))
        if row is None or row.status != DeliveryStatus.PENDING or row.lease_until != leased.lease_until:
            return None
        sub = session.get(WebhookSubscription, (row.account_id, row.subscription_id))
        event = session.get(WebhookEvent, (row.account_id, row.event_id))
        if sub is None or event is None or sub.status != SubscriptionStatus.ACTIVE:
            return None
        secret = app.vault.open(sub.secret_sealed, sub.account_id, sub.id)
        body = event_body(event.id, event.type, event.created_at, event.data)
        return _Prepared(row.account_id, row.id, sub.id, event.id, sub.url, secret, body)


def _headers(prepared: _Prepared, now: datetime) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        HEADER: signature(prepared.secret, prepared.body, int(now.timestamp())),
        EVENT_ID_HEADER: prepared.event_id,
    }


def _disable(app: AppServices, session: Session, sub: WebhookSubscription, now: datetime, error: str) -> None:
    hours = app.webhook_disable_after_hours
    since = sub.failing_since.isoformat() if sub.failing_since else "?"
    sub.status, sub.disabled_at, sub.updated_at = SubscriptionStatus.DISABLED.value, now, now
    sub.disabled_reason = short_error(f"every delivery failed for {hours:g} h (since {since}); last: {error}")
    session.flush()  # disabled before the alert is told: this subscription is not sent its own alert
    host = url_host(sub.url)
    raise_alert(
        session,
        account_id=sub.account_id,
        at=now,
        kind="webhook_disabled",
        severity="warning",
        message=(
            f"the webhook to {host} failed for {hours:g} h and was disabled; "
            f"once it answers, enable it with POST /v1/webhooks/{sub.id}/enable"
        ),
        dedupe_key=disabled_alert_key(sub.id),
        subject_type="webhook",
        subject_id=sub.id,
    )
    audit_subscription(session, sub, now, None, "webhook.disabled", failing_since=since)
    log.warning("webhook %s to %s disabled after failing for %g h", sub.id, host, hours)


def _record(app: AppServices, prepared: _Prepared, attempted_at: datetime, result: PostResult) -> None:
    now = app.clock.now()
    error = None if result.error is None else short_error(result.error)
    with app.db.transaction() as session:
        # The subscription first, then the delivery: the order DELETE /v1/webhooks/{id} locks them in.
        sub = session.get(WebhookSubscription, (prepared.account_id, prepared.subscription_id), with_for_update=True)
        row = session.get(WebhookDelivery, (prepared.account_id, prepared.delivery_id), with_for_update=True)
        if sub is None or row is None:
            return
        session.add(
            WebhookAttempt(
                account_id=row.account_id,
                id=new_id("wha"),
                delivery_id=row.id,
                subscription_id=sub.id,
                attempted_at=attempted_at,
                status_code=result.status_code,
                error=error,
                duration_ms=result.duration_ms,
            )
        )
        row.attempts += 1
        row.last_attempt_at, row.last_status_code, row.last_error = attempted_at, result.status_code, error
        row.lease_until = None
        if result.delivered:  # even if canceled meanwhile: it did arrive
            WEBHOOK_ATTEMPTS.labels("delivered").inc()
            row.status, row.delivered_at, row.next_attempt_at = DeliveryStatus.DELIVERED.value, now, None
            if sub.failing_since is not None:
                sub.failing_since, sub.updated_at = None, now
            return
        WEBHOOK_ATTEMPTS.labels("failed").inc()
        if row.status != DeliveryStatus.PENDING:
            return
        row.next_attempt_at = now + retry_delay(row.attempts, app.webhook_retry_base_seconds)
        log.info("webhook delivery %s failed (attempt %d), retried at %s", row.id, row.attempts, row.next_attempt_at)
        if sub.status != SubscriptionStatus.ACTIVE:
            return
        if sub.failing_since is None:
            sub.failing_since, sub.updated_at = attempted_at, now
        if should_disable(sub.failing_since, now, timedelta(hours=app.webhook_disable_after_hours)):
            _disable(app, session, sub, now, error or "")


def run_webhook_pass(app: AppServices, config: WebhookConfig | None = None) -> int:
    """POST what is due now; returns how many deliveries were handled."""
    config = config or WebhookConfig()
    leased = lease_due_deliveries(app, config)
    if not leased:
        return 0
    poster = WebhookPoster(timeout=config.timeout)
    try:
        for item in leased:
            prepared = _prepare(app, item)
            if prepared is None:
                continue
            attempted_at = app.clock.now()
            result = poster.post(prepared.url, prepared.body, _headers(prepared, attempted_at))
            _record(app, prepared, attempted_at, result)
    finally:
        poster.close()
    return len(leased)
