"""Fixtures shared by the integration tests that drive the reconciler and the event side.

`world`: real services with the fake lock provider under the `keypad` name, on the test clock;
`house`: a building in it (an entrance and units A and B, each with its own door); `events`:
key-ins, polling and what got stored. A test module may define its own `world` (say, with
another sync configuration): `house` and `events` then use that one.
"""

from __future__ import annotations

import pytest

from doorpin.bootstrap import AppServices
from tests.support.access import Building
from tests.support.access_events import EventWorld
from tests.support.api import Tenant
from tests.support.clock import FakeClock
from tests.support.fake_lock_provider import FakeLockProvider
from tests.support.lock_sync import SyncWorld


@pytest.fixture
def world(services: AppServices, tenant: Tenant, clock: FakeClock) -> SyncWorld:
    return SyncWorld(services, tenant, clock, FakeLockProvider(clock=clock.now))


@pytest.fixture
def events(world: SyncWorld) -> EventWorld:
    return EventWorld(world)


@pytest.fixture
def house(world: SyncWorld) -> Building:
    return world.building()
