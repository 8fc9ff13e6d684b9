"""Helpers for webhook tests: subscribe through the API, queue events, drive the job on a fake clock."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import func, select

from doorpin.adapters.db.event_models import WebhookDelivery
from doorpin.bootstrap import AppServices
from doorpin.services.outbound import emit
from doorpin.services.webhook_delivery import run_webhook_pass
from tests.support.api import Tenant
from tests.support.clock import FakeClock
from tests.support.resources import ok, walk

SECRET = "whsec_test-secret-0123456789abcdef"


def subscribe(tenant: Tenant, url: str, events: list[str] | None = None, **extra: Any) -> Any:
    body = {"url": url, "events": events or ["*"], "secret": SECRET, **extra}
    return ok(tenant.post("/v1/webhooks", body), 201)


def emit_event(
    services: AppServices, account_id: str, type: str = "access.granted", data: Mapping[str, Any] | None = None
) -> str | None:
    """Queue one event as a use case would, in its own transaction; its id, or None if nobody wants it."""
    with services.db.transaction() as session:
        event = emit(
            session,
            account_id=account_id,
            type=type,
            at=services.clock.now(),
            data=data if data is not None else {"lock_id": "lock_x", "note": "ünïcode ✓"},
        )
        return None if event is None else event.id


def deliveries(tenant: Tenant, webhook_id: str) -> list[Any]:
    return walk(tenant, f"/v1/webhooks/{webhook_id}/deliveries", 100)


def next_due(services: AppServices) -> Any:
    with services.db.reader() as session:
        return session.scalar(
            select(func.min(WebhookDelivery.next_attempt_at)).where(WebhookDelivery.status == "pending")
        )


def drive(services: AppServices, clock: FakeClock, done: Callable[[], bool], max_passes: int = 80) -> int:
    """Run webhook passes, moving the clock to the next due attempt between them, until `done()`.

    Returns the number of passes that ran; fails if `done()` never holds.
    """
    for passes in range(1, max_passes + 1):
        run_webhook_pass(services)
        if done():
            return passes
        due = next_due(services)
        if due is not None and due > clock.now():
            clock.set(due)
    raise AssertionError(f"not done after {max_passes} passes")


def settle(services: AppServices, clock: FakeClock, hours: float = 12, step_minutes: float = 30) -> None:
    """Let time pass with the job running (to show that nothing more is sent)."""
    for _ in range(int(hours * 60 / step_minutes)):
        clock.advance(minutes=step_minutes)
        run_webhook_pass(services)
