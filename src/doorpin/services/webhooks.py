"""Webhook subscriptions: an integrator's URL, the events it wants and the secret that signs them.

Admin keys only, and only keys that reach every property: a subscription hears about the whole
account. The secret is sealed at rest (AES-GCM, bound to the subscription's id) and shown in full
only in the creation response. A deleted subscription is gone for the API (404) and its pending
deliveries are canceled; its rows stay for the audit trail.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorpin.adapters.db.event_models import WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookSubscription
from doorpin.adapters.pin_vault import PinVault
from doorpin.domain.scopes import Scope
from doorpin.domain.webhooks import SECRET_PREFIX, DeliveryStatus, SubscriptionStatus, check_events, check_url
from doorpin.ids import new_id
from doorpin.services import audit
from doorpin.services.alerts import close_alerts
from doorpin.services.clock import Clock
from doorpin.services.pagination import Page, paginate
from doorpin.services.principal import Principal, not_found


@dataclass(frozen=True)
class CreatedSubscription:
    row: WebhookSubscription
    secret: str  # shown once, in the creation response


@dataclass(frozen=True)
class DeliveryView:
    delivery: WebhookDelivery
    event_type: str
    attempts: Sequence[WebhookAttempt]


def disabled_alert_key(subscription_id: str) -> str:
    return f"webhook_disabled:{subscription_id}"


def url_host(url: str) -> str:
    """What audit rows and alerts name: the host only, as a URL's path or query may hold a token."""
    return urlsplit(url).hostname or "?"


def audit_subscription(
    session: Session, row: WebhookSubscription, at: datetime, actor_key_id: str | None, action: str, **details: Any
) -> None:
    """An audit row about a subscription: it names the URL's host, never its path or the secret."""
    audit.record(
        session,
        account_id=row.account_id,
        at=at,
        actor_key_id=actor_key_id,
        action=action,
        subject_type="webhook",
        subject_id=row.id,
        details={"url_host": url_host(row.url), **details},
    )


def _authorize(principal: Principal) -> None:
    principal.require_whole_account(
        Scope.ADMIN, "a key limited to some properties cannot manage webhooks: they tell of every property"
    )


def _live(session: Session, principal: Principal, subscription_id: str, lock: bool = False) -> WebhookSubscription:
    row = session.get(WebhookSubscription, (principal.account_id, subscription_id), with_for_update=lock)
    if row is None or row.status == SubscriptionStatus.DELETED:
        raise not_found("webhook")
    return row


def _pending(session: Session, account_id: str, subscription_id: str) -> list[WebhookDelivery]:
    query = select(WebhookDelivery).where(
        WebhookDelivery.account_id == account_id,
        WebhookDelivery.subscription_id == subscription_id,
        WebhookDelivery.status == DeliveryStatus.PENDING.value,
    )
    return list(session.scalars(query.with_for_update()))


def create_subscription(
    session: Session,
    vault: PinVault,
    clock: Clock,
    principal: Principal,
    *,
    url: str,
    events: Sequence[str],
    secret: str | None,
    description: str | None,
) -> CreatedSubscription:
    _authorize(principal)
    url = check_url(url)
    patterns = check_events(events)
    secret = secret if secret is not None else SECRET_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    subscription_id = new_id("wh")
    row = WebhookSubscription(
        account_id=principal.account_id,
        id=subscription_id,
        url=url,
        description=description,
        events=patterns,
        secret_sealed=vault.seal(secret, principal.account_id, subscription_id),
        status=SubscriptionStatus.ACTIVE.value,
        created_by_key_id=principal.key_id,
        failing_since=None,
        disabled_at=None,
        disabled_reason=None,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    audit_subscription(session, row, now, principal.key_id, "webhook.created", events=patterns)
    session.flush()
    return CreatedSubscription(row, secret)


def list_subscriptions(
    session: Session, principal: Principal, limit: int, cursor: str | None
) -> Page[WebhookSubscription]:
    _authorize(principal)
    query = select(WebhookSubscription).where(
        WebhookSubscription.account_id == principal.account_id,
        WebhookSubscription.status != SubscriptionStatus.DELETED.value,
    )
    return paginate(session, query, WebhookSubscription.id, limit, cursor)


def get_subscription(session: Session, principal: Principal, subscription_id: str) -> WebhookSubscription:
    _authorize(principal)
    return _live(session, principal, subscription_id)


def delete_subscription(session: Session, clock: Clock, principal: Principal, subscription_id: str) -> int:
    """Delete the subscription and cancel what it still had to receive; returns how many."""
    _authorize(principal)
    row = _live(session, principal, subscription_id, lock=True)
    now = clock.now()
    row.status, row.updated_at = SubscriptionStatus.DELETED.value, now
    pending = _pending(session, principal.account_id, subscription_id)
    for delivery in pending:
        delivery.status, delivery.next_attempt_at, delivery.lease_until = DeliveryStatus.CANCELED.value, None, None
    canceled = len(pending)
    close_alerts(session, account_id=principal.account_id, at=now, dedupe_key=disabled_alert_key(subscription_id))
    audit_subscription(session, row, now, principal.key_id, "webhook.deleted", canceled_deliveries=canceled)
    return canceled


def enable_subscription(
    session: Session, clock: Clock, principal: Principal, subscription_id: str
) -> WebhookSubscription:
    """Activate a disabled subscription: its paused deliveries are tried again at once."""
    _authorize(principal)
    row = _live(session, principal, subscription_id, lock=True)
    if row.status == SubscriptionStatus.ACTIVE:
        return row
    now = clock.now()
    row.status, row.updated_at = SubscriptionStatus.ACTIVE.value, now
    row.failing_since, row.disabled_at, row.disabled_reason = None, None, None
    for delivery in _pending(session, principal.account_id, subscription_id):
        delivery.next_attempt_at = now
    close_alerts(session, account_id=principal.account_id, at=now, dedupe_key=disabled_alert_key(subscription_id))
    audit_subscription(session, row, now, principal.key_id, "webhook.enabled")
    return row


def list_deliveries(
    session: Session,
    principal: Principal,
    subscription_id: str,
    status: DeliveryStatus | None,
    limit: int,
    cursor: str | None,
) -> Page[DeliveryView]:
    """The subscription's deliveries in creation order (oldest first), each with its attempts."""
    _authorize(principal)
    _live(session, principal, subscription_id)
    query = select(WebhookDelivery).where(
        WebhookDelivery.account_id == principal.account_id, WebhookDelivery.subscription_id == subscription_id
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status.value)
    page = paginate(session, query, WebhookDelivery.id, limit, cursor)
    deliveries: list[WebhookDelivery] = list(page.items)
    if not deliveries:
        return Page([], page.next_cursor)
    events = select(WebhookEvent.id, WebhookEvent.type).where(
        WebhookEvent.account_id == principal.account_id, WebhookEvent.id.in_({row.event_id for row in deliveries})
    )
    types: dict[str, str] = {row.id: row.type for row in session.execute(events)}
    attempts: dict[str, list[WebhookAttempt]] = {row.id: [] for row in deliveries}
    for attempt in session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.account_id == principal.account_id, WebhookAttempt.delivery_id.in_(list(attempts)))
        .order_by(WebhookAttempt.id)
    ):
        attempts[attempt.delivery_id].append(attempt)
    views = [DeliveryView(row, types.get(row.event_id, "?"), attempts[row.id]) for row in deliveries]
    return Page(views, page.next_cursor)
