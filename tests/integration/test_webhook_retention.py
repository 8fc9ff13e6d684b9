"""Webhook retention: old delivered and canceled deliveries go with their attempts and, once no
delivery refers to it, their event; pending deliveries (a disabled subscription's included), their
attempts and events stay however old, and so does anything touched within the retention.

Deliveries are made for real (a local receiver, the delivery job); the clock is fake.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from doorpin.adapters.db.event_models import WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookSubscription
from doorpin.bootstrap import AppServices
from doorpin.services.webhook_delivery import run_webhook_pass
from doorpin.services.webhook_retention import RetentionConfig, prune_webhook_outbox
from doorpin.worker.runner import Worker
from tests.support.api import Tenant
from tests.support.clock import FakeClock
from tests.support.resources import ok
from tests.support.webhook_receiver import Receiver, webhook_receiver
from tests.support.webhooks import deliveries, emit_event, subscribe


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


@pytest.fixture
def failing() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        running.always_fail(503)
        yield running


def outbox(services: AppServices) -> tuple[set[str], Counter[str], set[str]]:
    """What is stored: delivery ids, attempts per delivery id, event ids."""
    with services.db.reader() as session:
        return (
            set(session.scalars(select(WebhookDelivery.id))),
            Counter(session.scalars(select(WebhookAttempt.delivery_id))),
            set(session.scalars(select(WebhookEvent.id))),
        )


def delivery_of(services: AppServices, webhook: dict[str, str], event_id: str | None) -> WebhookDelivery:
    with services.db.reader() as session:
        return session.scalars(
            select(WebhookDelivery).where(
                WebhookDelivery.subscription_id == webhook["id"], WebhookDelivery.event_id == event_id
            )
        ).one()


def test_old_finished_deliveries_go_pending_and_recent_ones_stay(
    tenant: Tenant,
    services: AppServices,
    clock: FakeClock,
    receiver: Receiver,
    failing: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="doorpin.webhooks")
    assert services.webhook_retention_days == 30
    working = subscribe(tenant, receiver.url, ["access.*"])
    paused = subscribe(tenant, failing.url + "?sub=paused", ["access.denied"])
    removed = subscribe(tenant, failing.url + "?sub=removed", ["access.granted"])

    # Day 0: two events; the working URL takes both, the other two fail once each.
    granted = emit_event(services, tenant.account_id, "access.granted")
    denied = emit_event(services, tenant.account_id, "access.denied")
    assert run_webhook_pass(services) == 4
    assert tenant.delete(f"/v1/webhooks/{removed['id']}").status_code == 204  # its delivery is canceled
    with services.db.transaction() as session:  # as the job does after failing too long
        sub = session.get(WebhookSubscription, (tenant.account_id, paused["id"]))
        assert sub is not None
        sub.status, sub.disabled_at, sub.disabled_reason = "disabled", clock.now(), "failing"

    old_delivered = {delivery_of(services, working, granted).id, delivery_of(services, working, denied).id}
    canceled = delivery_of(services, removed, granted)
    waiting = delivery_of(services, paused, denied)
    assert (canceled.status, canceled.attempts, waiting.status, waiting.attempts) == ("canceled", 1, "pending", 1)

    # Day 20: one more event, delivered.
    clock.advance(days=20)
    recent_event = emit_event(services, tenant.account_id, "access.granted")
    assert run_webhook_pass(services) == 1
    recent = delivery_of(services, working, recent_event)
    assert recent.status == "delivered"

    # Day 31: what was finished on day 0 goes.
    clock.advance(days=11)
    assert prune_webhook_outbox(services) == 3 + 3 + 1  # deliveries, their attempts, the event of `granted`
    kept_deliveries, kept_attempts, kept_events = outbox(services)
    assert kept_deliveries == {waiting.id, recent.id}
    assert kept_attempts == Counter({waiting.id: 1, recent.id: 1})
    assert kept_events == {denied, recent_event}  # `denied` still has the paused delivery
    assert not old_delivered & kept_deliveries
    assert [d["id"] for d in deliveries(tenant, working["id"])] == [recent.id]
    [waiting_logged] = deliveries(tenant, paused["id"])
    assert (waiting_logged["status"], len(waiting_logged["attempts"])) == ("pending", 1)
    assert "pruned 3 deliveries, 3 attempts and 1 events" in caplog.text

    caplog.clear()
    assert prune_webhook_outbox(services) == 0
    assert "pruned" not in caplog.text

    # The paused subscription comes back: its 31-day-old delivery is sent now, and kept as recent.
    failing.recover()
    ok(tenant.post(f"/v1/webhooks/{paused['id']}/enable"))
    assert run_webhook_pass(services) == 1
    assert delivery_of(services, paused, denied).status == "delivered"
    assert prune_webhook_outbox(services) == 0

    # Day 62: all of it is old now; the subscriptions themselves stay.
    clock.advance(days=31)
    assert prune_webhook_outbox(services) == 2 + 3 + 2
    assert outbox(services) == (set(), Counter(), set())
    assert {w["id"] for w in ok(tenant.get("/v1/webhooks"))["data"]} == {working["id"], paused["id"]}


def test_rows_go_in_batches_with_a_cap_per_run_and_the_retention_is_a_setting(
    tenant: Tenant, services: AppServices, clock: FakeClock, receiver: Receiver
) -> None:
    app = replace(services, webhook_retention_days=7)
    subscribe(tenant, receiver.url, ["access.granted"])
    events = [emit_event(services, tenant.account_id) for _ in range(5)]
    assert run_webhook_pass(services) == 5

    clock.advance(days=6, hours=23)
    assert prune_webhook_outbox(app) == 0
    clock.advance(hours=2)
    small = RetentionConfig(batch=2, max_batches=2)
    assert prune_webhook_outbox(app, small) == 4 + 4 + 4  # two batches of each kind
    remaining_deliveries, remaining_attempts, remaining_events = outbox(services)
    assert (len(remaining_deliveries), sum(remaining_attempts.values())) == (1, 1)
    assert len(remaining_events) == 1
    assert remaining_events < set(events)
    assert prune_webhook_outbox(app, small) == 1 + 1 + 1
    assert prune_webhook_outbox(app, small) == 0
    assert outbox(services) == (set(), Counter(), set())


def test_the_worker_runs_retention(services: AppServices) -> None:
    assert "webhook_retention" in [job.name for job in Worker(services).jobs]
