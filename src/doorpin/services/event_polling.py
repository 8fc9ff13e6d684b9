"""The polling job: access events read from locks whose provider keeps a list of them.

Each lock has a feed row (made the first time the job sees the lock) holding the provider's
cursor. A worker leases due feeds (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so any number of
workers share them; SQLite's single writer serializes the lease), asks the provider for events
after the cursor outside any transaction, then stores them and advances the cursor in one
transaction: a crash between the two asks again, and the second copy of an event is skipped
(`ingest` deduplicates), so nothing is lost or stored twice. A new feed starts with no cursor: the
lock's whole history comes in once. Failures back off (the longer a lock has been silent, the
longer the wait, up to a bound) and are kept in `last_error`.
"""

from __future__ import annotations

import logging
import random
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import lazyload

from doorpin.adapters.db.event_models import LockEventFeed
from doorpin.adapters.db.models import Lock
from doorpin.adapters.locks.base import DeviceEvents, ErrorCode, LockProvider, LockRef, RetryLater
from doorpin.adapters.locks.pool import ProviderPool
from doorpin.bootstrap import AppServices
from doorpin.services.access_events import ingest

log = logging.getLogger("doorpin.event_polling")

_LOCK_ONLY = (lazyload(Lock.unit_links),)
# Locks whose provider has no event list are looked at again this rarely (its provider may change).
_NOT_POLLED_RECHECK = timedelta(hours=6)


@dataclass(frozen=True)
class PollConfig:
    lease: timedelta = timedelta(seconds=30)
    feeds_per_pass: int = 32
    parallel_locks: int = 8
    pages_per_lease: int = 10  # a lock with a long backlog yields to the others, then comes back
    min_backoff: timedelta = timedelta(seconds=5)
    max_backoff: timedelta = timedelta(minutes=5)
    discover_every_seconds: float = 5.0  # how often new locks get their feed row (real time)


_last_discovery: weakref.WeakKeyDictionary[ProviderPool, float] = weakref.WeakKeyDictionary()


def discover_feeds(app: AppServices) -> int:
    """Give every lock without a feed row one, due now; returns how many were made."""
    now = app.clock.now()
    without_feed = (
        select(Lock.account_id, Lock.id)
        .outerjoin(LockEventFeed, and_(LockEventFeed.account_id == Lock.account_id, LockEventFeed.lock_id == Lock.id))
        .where(LockEventFeed.lock_id.is_(None))
        .limit(1000)
    )
    with app.db.reader() as session:  # usually none: no write transaction for nothing
        if not session.execute(without_feed).first():
            return 0
    with app.db.transaction() as session:
        missing = session.execute(without_feed).all()
        if not missing:
            return 0
        rows = [{"account_id": a, "lock_id": lock_id, "cursor": None, "next_poll_at": now} for a, lock_id in missing]
        # Two workers may discover the same lock at once: the second one's row is not needed.
        keys = ["account_id", "lock_id"]
        if app.db.is_sqlite:
            session.execute(sqlite_insert(LockEventFeed).values(rows).on_conflict_do_nothing(index_elements=keys))
        else:
            session.execute(pg_insert(LockEventFeed).values(rows).on_conflict_do_nothing(index_elements=keys))
        return len(rows)


def _discover_when_due(app: AppServices, pool: ProviderPool, config: PollConfig) -> None:
    started = time.monotonic()
    if started - _last_discovery.get(pool, float("-inf")) < config.discover_every_seconds:
        return
    _last_discovery[pool] = started
    discover_feeds(app)


def lease_feeds(app: AppServices, owner: str, config: PollConfig) -> list[tuple[str, str]]:
    """Lease due feeds to `owner`, longest waiting first; returns (account_id, lock_id) pairs."""
    now = app.clock.now()
    with app.db.reader() as session:  # most passes find nothing due: no write transaction then
        if session.scalar(select(LockEventFeed.lock_id).where(LockEventFeed.next_poll_at <= now).limit(1)) is None:
            return []
    with app.db.transaction() as session:
        query = (
            select(LockEventFeed)
            .where(
                LockEventFeed.next_poll_at <= now,
                or_(
                    LockEventFeed.lease_until.is_(None),
                    LockEventFeed.lease_until < now,
                    LockEventFeed.lease_owner == owner,
                ),
            )
            .order_by(LockEventFeed.next_poll_at, LockEventFeed.account_id, LockEventFeed.lock_id)
            .limit(config.feeds_per_pass)
        )
        if not app.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        feeds = list(session.scalars(query))
        for feed in feeds:
            feed.lease_owner, feed.lease_until = owner, now + config.lease
        return [(feed.account_id, feed.lock_id) for feed in feeds]


def _fetch(provider: LockProvider, ref: LockRef, cursor: str | None) -> DeviceEvents | RetryLater:
    try:
        return provider.fetch_events(ref, cursor)
    except Exception as exc:  # a provider bug must not kill the worker; treat as transient
        log.exception("lock provider %s failed to list events", provider.name)
        return RetryLater(ErrorCode.PROVIDER_ERROR, f"provider raised {type(exc).__name__}")


def _backoff(feed: LockEventFeed, now: datetime, failure: RetryLater, config: PollConfig) -> timedelta:
    """About as long as the lock has been silent (so waits roughly double), within bounds, jittered."""
    silent = now - feed.last_polled_at if feed.last_polled_at is not None else config.min_backoff
    delay = min(config.max_backoff, max(config.min_backoff, silent))
    if failure.retry_after is not None:
        delay = max(delay, timedelta(seconds=failure.retry_after))
    return delay * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security


def _record_failure(
    app: AppServices, account_id: str, lock_id: str, owner: str, failure: RetryLater, config: PollConfig
) -> None:
    now = app.clock.now()
    with app.db.transaction() as session:
        feed = session.get(LockEventFeed, (account_id, lock_id), with_for_update=True)
        if feed is None or feed.lease_owner != owner:
            return
        feed.last_error = f"{failure.code.value}: {failure.message}"[:2000]
        feed.next_poll_at = now + _backoff(feed, now, failure, config)
        feed.lease_owner, feed.lease_until = None, None
    log.info("events of lock %s not read: %s", lock_id, failure.code.value)


def _store(
    app: AppServices,
    account_id: str,
    lock_id: str,
    owner: str,
    asked_with: str | None,
    page: DeviceEvents,
    done: bool,
) -> tuple[int, bool]:
    """Ingest one page and move the cursor past it, in one transaction; returns the number of
    events stored and whether the feed is still this worker's."""
    now = app.clock.now()
    with app.db.transaction() as session:
        feed = session.get(LockEventFeed, (account_id, lock_id), with_for_update=True)
        lock = session.get(Lock, (account_id, lock_id), options=_LOCK_ONLY)
        if feed is None or lock is None:
            return 0, False
        stored = ingest(session, app.vault, lock, page.events, "poll", now)
        # Another worker may have taken over after our lease ran out: its cursor stands.
        mine = feed.lease_owner == owner and feed.cursor == asked_with
        if mine:
            feed.cursor = page.cursor
            feed.last_polled_at, feed.last_error = now, None
            if done:
                feed.next_poll_at = now + timedelta(seconds=app.events_poll_seconds)
                feed.lease_owner, feed.lease_until = None, None
        return len(stored), mine


def _park(app: AppServices, account_id: str, lock_id: str, owner: str, until: timedelta, why: str | None) -> None:
    now = app.clock.now()
    with app.db.transaction() as session:
        feed = session.get(LockEventFeed, (account_id, lock_id), with_for_update=True)
        if feed is None or feed.lease_owner != owner:
            return
        feed.next_poll_at, feed.last_error = now + until, why
        feed.lease_owner, feed.lease_until = None, None


def _settle_quiet(app: AppServices, owner: str, keys: list[tuple[str, str]]) -> None:
    """Feeds that had nothing new: due again after the interval, all in one transaction."""
    now = app.clock.now()
    with app.db.transaction() as session:
        for key in sorted(keys):
            feed = session.get(LockEventFeed, key, with_for_update=True)
            if feed is None or feed.lease_owner != owner:
                continue
            feed.next_poll_at = now + timedelta(seconds=app.events_poll_seconds)
            feed.last_polled_at, feed.last_error = now, None
            feed.lease_owner, feed.lease_until = None, None


@dataclass(frozen=True)
class FeedOutcome:
    stored: int = 0
    quiet: bool = False  # answered, with nothing new: settled with the others, in one transaction


def poll_feed(
    app: AppServices, pool: ProviderPool, account_id: str, lock_id: str, owner: str, config: PollConfig
) -> FeedOutcome:
    """Read a leased lock's new events, page by page."""
    with app.db.reader() as session:
        feed = session.get(LockEventFeed, (account_id, lock_id))
        lock = session.get(Lock, (account_id, lock_id), options=_LOCK_ONLY)
        if feed is None or lock is None or feed.lease_owner != owner:
            return FeedOutcome()
        cursor = feed.cursor
        try:
            provider = pool.provider_for(lock)
        except LookupError as exc:  # a provider that is not installed here
            _park(app, account_id, lock_id, owner, config.max_backoff, str(exc))
            return FeedOutcome()
        ref = pool.ref_for(lock)
    if not getattr(provider, "polls_events", True):
        _park(app, account_id, lock_id, owner, _NOT_POLLED_RECHECK, None)
        return FeedOutcome()
    stored = 0
    for number in range(1, config.pages_per_lease + 1):
        page = _fetch(provider, ref, cursor)
        if isinstance(page, RetryLater):
            _record_failure(app, account_id, lock_id, owner, page, config)
            return FeedOutcome(stored)
        if number == 1 and not page.events and not page.has_more and page.cursor == cursor:
            return FeedOutcome(quiet=True)
        # A backlog longer than the lease's pages waits for the next poll, after the other locks.
        finished = not page.has_more or number == config.pages_per_lease
        count, kept = _store(app, account_id, lock_id, owner, cursor, page, done=finished)
        stored += count
        if finished or not kept:
            break
        cursor = page.cursor
    return FeedOutcome(stored)


def poll_lock_events(app: AppServices, pool: ProviderPool, owner: str, config: PollConfig | None = None) -> int:
    """One pass of the job: lease due feeds and read them; returns the number of events stored."""
    config = config or PollConfig()
    _discover_when_due(app, pool, config)
    leased = lease_feeds(app, owner, config)
    if not leased:
        return 0

    def serve(key: tuple[str, str]) -> FeedOutcome:
        try:
            return poll_feed(app, pool, key[0], key[1], owner, config)
        except Exception:  # one lock's trouble must not stop the others; its lease runs out
            log.exception("polling the events of lock %s failed", key[1])
            return FeedOutcome()

    if config.parallel_locks <= 1 or len(leased) == 1:
        outcomes = [serve(key) for key in leased]
    else:
        workers = min(config.parallel_locks, len(leased))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="events") as threads:
            outcomes = list(threads.map(serve, leased))
    quiet = [key for key, outcome in zip(leased, outcomes, strict=True) if outcome.quiet]
    if quiet:
        _settle_quiet(app, owner, quiet)
    return sum(outcome.stored for outcome in outcomes)
