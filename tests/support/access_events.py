"""Driving access events in integration tests: the reconciler's world (fake locks sharing the
test clock) plus the polling job, direct ingestion and the questions tests ask of the result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from doorpin.adapters.db.access_models import Alert
from doorpin.adapters.db.event_models import AccessEvent, LockEventFeed, WebhookEvent
from doorpin.adapters.db.models import Lock
from doorpin.adapters.locks.base import DeviceEvent
from doorpin.services.access_events import ingest
from doorpin.services.event_polling import PollConfig, poll_lock_events
from tests.support.lock_sync import SyncWorld
from tests.support.resources import ok, walk

POLL = PollConfig(discover_every_seconds=0, parallel_locks=1)


@dataclass
class EventWorld:
    world: SyncWorld
    config: PollConfig = field(default_factory=lambda: POLL)

    @property
    def account_id(self) -> str:
        return self.world.tenant.account_id

    def poll(self, owner: str = "poller") -> int:
        """One pass of the polling job once feeds are due again; the number of events it stored."""
        self.world.advance(seconds=self.world.services.events_poll_seconds)
        return poll_lock_events(self.world.services, self.world.pool, owner, self.config)

    def ingest(
        self, lock_id: str, events: Sequence[DeviceEvent], source: str = "provider_webhook"
    ) -> list[AccessEvent]:
        services = self.world.services
        with services.db.transaction() as session:
            lock = session.get(Lock, (self.account_id, lock_id))
            assert lock is not None
            return ingest(session, services.vault, lock, events, source, services.clock.now())

    def key_in(self, lock_id: str, code: str, after: timedelta = timedelta(seconds=1)) -> str:
        """Type `code` at the (fake) door, then let the test clock tick."""
        result = self.world.fake.keypad(lock_id, code)
        self.world.advance(seconds=after.total_seconds())
        return result

    # -- what came of it -------------------------------------------------------------------------

    def stored(self, lock_id: str | None = None) -> list[AccessEvent]:
        with self.world.services.db.reader() as session:
            query = select(AccessEvent).where(AccessEvent.account_id == self.account_id)
            if lock_id is not None:
                query = query.where(AccessEvent.lock_id == lock_id)
            return list(session.scalars(query.order_by(AccessEvent.occurred_at, AccessEvent.id)))

    def history(self, reservation_id: str, limit: int = 50) -> list[dict[str, Any]]:
        return walk(self.world.tenant, f"/v1/reservations/{reservation_id}/access-events", limit)

    def access(self, reservation_id: str) -> dict[str, Any]:
        access: dict[str, Any] = ok(self.world.tenant.get(f"/v1/reservations/{reservation_id}"))["access"]
        return access

    def alerts(self, kind: str | None = None) -> list[Alert]:
        return self.world.alerts(kind)

    def feed(self, lock_id: str) -> LockEventFeed:
        with self.world.services.db.reader() as session:
            feed = session.get(LockEventFeed, (self.account_id, lock_id))
            assert feed is not None, lock_id
            return feed

    def told(self, type_prefix: str = "access.") -> list[WebhookEvent]:
        """Events queued for integrators (needs a webhook subscription wanting them)."""
        with self.world.services.db.reader() as session:
            query = select(WebhookEvent).where(
                WebhookEvent.account_id == self.account_id, WebhookEvent.type.startswith(type_prefix)
            )
            return list(session.scalars(query.order_by(WebhookEvent.id)))


def device_event(
    event_id: str,
    at: datetime,
    result: str = "granted",
    *,
    code_ref: str | None = None,
    pin: str | None = None,
    reason: str | None = None,
) -> DeviceEvent:
    return DeviceEvent(event_id, at, result, code_ref, pin, reason)
