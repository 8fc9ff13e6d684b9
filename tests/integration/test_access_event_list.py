"""GET /v1/reservations/{id}/access-events: read scope, the key's properties only, pages in the
order things happened at the door, never a PIN."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from doorpin.domain.scopes import Scope
from tests.support.access import Building, building
from tests.support.access_events import EventWorld, device_event
from tests.support.api import Tenant
from tests.support.lock_sync import SyncWorld
from tests.support.resources import assert_error, ok, walk


@pytest.fixture
def stay(world: SyncWorld, events: EventWorld, house: Building) -> dict[str, Any]:
    """A stay with five key-ins at its door, stored in an order other than the door's."""
    made = world.stay(house, house.unit_a["id"], starts_in=timedelta(hours=-1))
    door = house.door_a["id"]
    claim = next(row for row in world.claims(reservation_id=made["id"]) if row.lock_id == door)
    now = world.clock.now()
    for n in (3, 1, 4, 0, 2):
        events.ingest(door, [device_event(f"e{n}", now + timedelta(minutes=n), code_ref=claim.id)])
    return dict(made)


def test_pages_follow_the_door_s_time(tenant: Tenant, stay: dict[str, Any]) -> None:
    path = f"/v1/reservations/{stay['id']}/access-events"
    items = walk(tenant, path, limit=2)
    assert [item["provider_event_id"] for item in items] == ["e0", "e1", "e2", "e3", "e4"]
    assert [item["occurred_at"] for item in items] == sorted(item["occurred_at"] for item in items)
    assert all(item["occurred_at"].endswith("+00:00") for item in items), "the property's offset (UTC here)"
    assert stay["access"]["pin"] not in json.dumps(items)


def test_a_read_key_may_list_and_other_keys_and_accounts_see_nothing(
    tenant: Tenant, other_tenant: Tenant, stay: dict[str, Any], world: SyncWorld
) -> None:
    path = f"/v1/reservations/{stay['id']}/access-events"
    assert len(ok(tenant.key_with(Scope.READ).get(path))["data"]) == 5
    elsewhere = building(tenant, timezone="UTC")
    limited = tenant.key_with(Scope.READ, property_ids=[elsewhere.id])
    assert_error(limited.get(path), 404, "not_found")
    assert_error(other_tenant.get(path), 404, "not_found")
    assert_error(tenant.get("/v1/reservations/res_01m88a1n1x0w9958qxsq71dp63/access-events"), 404, "not_found")
    assert_error(tenant.client.get(path), 401, "unauthenticated")


def test_cursors_are_checked(tenant: Tenant, stay: dict[str, Any], world: SyncWorld, house: Building) -> None:
    path = f"/v1/reservations/{stay['id']}/access-events"
    assert_error(tenant.get(f"{path}?cursor=%%%"), 422, "validation_error", "cursor")
    other = world.stay(house, house.unit_b["id"], starts_in=timedelta(hours=-1))
    first = ok(tenant.get(f"{path}?limit=1"))
    assert first["next_cursor"] is not None
    foreign = f"/v1/reservations/{other['id']}/access-events?cursor={first['next_cursor']}"
    assert_error(tenant.get(foreign), 422, "validation_error", "cursor")
    assert_error(tenant.get(f"{path}?limit=0"), 422, "validation_error", "limit")


def test_a_stay_without_key_ins_has_an_empty_history(tenant: Tenant, world: SyncWorld, house: Building) -> None:
    quiet = world.stay(house, house.unit_b["id"], starts_in=timedelta(days=3))
    assert ok(tenant.get(f"/v1/reservations/{quiet['id']}/access-events")) == {"data": [], "next_cursor": None}
