"""The polling job: events read from a real simulated keypad hub over HTTP (cursor, offline hub,
backoff), long histories in pages, locks with no event list left alone, and leases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from doorpin.adapters.locks.pool import ProviderPool
from doorpin.adapters.locks.simulator import HubClient, start_hub_in_thread
from doorpin.services.event_polling import PollConfig, discover_feeds, lease_feeds
from tests.support.access import Building, building
from tests.support.access_events import EventWorld
from tests.support.api import Tenant
from tests.support.clock import FakeClock
from tests.support.lock_sync import SyncWorld
from tests.support.resources import create_lock, create_property


@pytest.fixture(scope="module")
def hub_url() -> Iterator[str]:
    running = start_hub_in_thread(None, seed=7)
    yield running.base_url
    running.stop()


@pytest.fixture
def hub(hub_url: str, clock: FakeClock) -> Iterator[HubClient]:
    with HubClient(hub_url) as client:
        client.set_clock(now=clock.now())  # the hub ticks on from the test's time
        yield client
        client.set_clock(offset_seconds=0)


def on_the_hub(world: SyncWorld, hub_url: str) -> None:
    """The world's keypad locks are the hub's (real HTTP), for the reconciler and the poller."""
    world.pool = ProviderPool({"keypad": {"hub_url": hub_url}})


def test_polling_reads_a_real_hub_and_moves_the_cursor_with_the_events(
    world: SyncWorld, events: EventWorld, hub: HubClient, hub_url: str
) -> None:
    on_the_hub(world, hub_url)
    house = world.building()
    stay = world.stay(house, house.unit_a["id"], starts_in=timedelta(hours=-1))
    world.converge()
    door, pin = house.door_a["id"], stay["access"]["pin"]
    assert hub.keypad(door, pin) == "granted"
    assert hub.keypad(door, "909090") == "denied"

    assert events.poll() == 2
    feed = events.feed(door)
    assert feed.cursor == hub.events(door)["cursor"]
    assert (feed.last_error, feed.lease_owner) == (None, None)
    assert feed.last_polled_at == world.clock.now()
    assert feed.next_poll_at == world.clock.now() + timedelta(seconds=world.services.events_poll_seconds)
    [granted] = events.history(stay["id"])
    assert (granted["source"], granted["attribution"], granted["result"]) == ("poll", "in_window", "granted")
    [denied] = [row for row in events.stored(door) if row.result == "denied"]
    assert (denied.reason, denied.attribution) == ("unknown_code", "unknown")

    assert events.poll() == 0
    quiet = events.feed(door)
    assert quiet.cursor == feed.cursor
    assert (quiet.last_polled_at, quiet.lease_owner) == (world.clock.now(), None), "settled with the other quiet feeds"
    assert quiet.next_poll_at == world.clock.now() + timedelta(seconds=world.services.events_poll_seconds)
    assert hub.keypad(door, pin) == "granted"
    assert events.poll() == 1
    assert int(events.feed(door).cursor or 0) > int(feed.cursor or 0)
    assert len(events.history(stay["id"])) == 2
    assert events.access(stay["id"])["first_used_at"] == granted["occurred_at"]


def test_an_offline_hub_is_retried_with_backoff_and_its_events_come_in_later(
    world: SyncWorld, events: EventWorld, hub: HubClient, hub_url: str
) -> None:
    on_the_hub(world, hub_url)
    house = world.building()
    stay = world.stay(house, house.unit_a["id"], starts_in=timedelta(hours=-1))
    world.converge()
    door = house.door_a["id"]
    events.poll()
    hub.set_faults(door, offline=True)
    assert hub.keypad(door, stay["access"]["pin"]) == "granted", "the keypad works without the network"

    assert events.poll() == 0
    feed = events.feed(door)
    assert feed.last_error is not None
    assert feed.last_error.startswith("device_offline")
    wait = feed.next_poll_at - world.clock.now()
    assert timedelta(seconds=3) < wait <= timedelta(seconds=6)
    asked = hub.stats()["locks"][door]["counters"].get("events", 0)
    events.poll()  # two seconds on: not due yet
    assert hub.stats()["locks"][door]["counters"].get("events", 0) == asked

    world.advance(seconds=10)
    assert events.poll() == 0
    longer = events.feed(door).next_poll_at - world.clock.now()
    assert longer > wait, "the longer the lock is silent, the longer the wait"

    hub.clear_faults(door)
    world.advance(minutes=5)
    assert events.poll() == 1
    assert events.feed(door).last_error is None
    assert len(events.history(stay["id"])) == 1


def test_a_long_history_comes_in_pages_and_the_first_poll_takes_all_of_it(world: SyncWorld, events: EventWorld) -> None:
    house: Building = world.building()
    door = house.door_a["id"]
    for n in range(7):  # before doorpin ever polls this lock
        events.key_in(door, f"12{n}456", after=timedelta(minutes=2))
    world.fake.events_page_size = 2
    asked = world.fake.commands["events"]
    assert events.poll() == 7
    assert world.fake.commands["events"] - asked == 4 + 2, "door A in four pages; one each for the other doors"
    assert events.feed(door).cursor == "7"

    events.config = PollConfig(discover_every_seconds=0, parallel_locks=1, pages_per_lease=2)
    for n in range(5):
        events.key_in(door, f"34{n}789", after=timedelta(minutes=2))
    assert events.poll() == 4, "a lease reads two pages; the rest waits for the next poll"
    assert events.poll() == 1
    assert len(events.stored(door)) == 12


def test_locks_whose_provider_keeps_no_event_list_are_not_polled(
    world: SyncWorld, events: EventWorld, tenant: Tenant
) -> None:
    prop = create_property(tenant, "Casa", timezone="UTC", door_provider="offline_pin")
    lock = create_lock(tenant, prop["id"], "Front door")
    assert lock["provider"] == "offline_pin"
    assert events.poll() == 0
    feed = events.feed(lock["id"])
    assert (feed.cursor, feed.last_polled_at, feed.lease_owner) == (None, None, None)
    assert feed.next_poll_at >= world.clock.now() + timedelta(hours=5), "looked at again only rarely"


def test_a_feed_is_served_by_one_worker_at_a_time(world: SyncWorld, events: EventWorld, tenant: Tenant) -> None:
    house = building(tenant, timezone="UTC")
    discover_feeds(world.services)
    config = PollConfig()
    mine = lease_feeds(world.services, "worker-a", config)
    assert {lock_id for _, lock_id in mine} == {house.entrance["id"], house.door_a["id"], house.door_b["id"]}
    assert lease_feeds(world.services, "worker-b", config) == []
    world.advance(seconds=config.lease.total_seconds() + 1)
    assert sorted(lease_feeds(world.services, "worker-b", config)) == sorted(mine), "an expired lease is taken over"
    assert discover_feeds(world.services) == 0, "every lock has its feed"
