"""Helpers for code-engine tests: a property with a common entrance and units, PINs read in clear."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from doorpin.domain.scopes import Scope
from tests.support.api import Tenant
from tests.support.resources import create_lock, create_property, create_unit, ok


@dataclass(frozen=True)
class Building:
    """A property with one common entrance and two units, each with its own door."""

    property: dict[str, Any]
    entrance: dict[str, Any]
    door_a: dict[str, Any]
    door_b: dict[str, Any]
    unit_a: dict[str, Any]
    unit_b: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.property["id"])


def building(tenant: Tenant, timezone: str = "Europe/Berlin", **property_fields: Any) -> Building:
    prop = create_property(tenant, "Haus", timezone=timezone, **property_fields)
    entrance = create_lock(tenant, prop["id"], "Entrance")
    door_a = create_lock(tenant, prop["id"], "Door A")
    door_b = create_lock(tenant, prop["id"], "Door B")
    unit_a = create_unit(tenant, prop["id"], "A", lock_ids=[door_a["id"]])
    unit_b = create_unit(tenant, prop["id"], "B", lock_ids=[door_b["id"]])
    return Building(prop, entrance, door_a, door_b, unit_a, unit_b)


def stay(
    tenant: Tenant,
    property_id: str,
    unit_id: str | None,
    check_in: str = "2026-07-10",
    check_out: str = "2026-07-12",
    **extra: Any,
) -> Any:
    body = {"property_id": property_id, "check_in": check_in, "check_out": check_out, "unit_id": unit_id, **extra}
    return ok(tenant.post("/v1/reservations", body), 201)


def access_of(tenant: Tenant, reservation_id: str) -> Any:
    """The stay's `access` block as the (admin) tenant sees it: the PIN in clear."""
    return ok(tenant.get(f"/v1/reservations/{reservation_id}"))["access"]


def pin_of(tenant: Tenant, reservation_id: str) -> str | None:
    pin = access_of(tenant, reservation_id)["pin"]
    assert pin is None or isinstance(pin, str)
    return pin


def put_pin(tenant: Tenant, reservation_id: str, pin: str) -> Any:
    return tenant.put(f"/v1/reservations/{reservation_id}/pin", {"pin": pin})


def key_with_id(tenant: Tenant, *scopes: Scope) -> tuple[Tenant, str]:
    """A client of the same account holding a key with just these scopes, and that key's id."""
    created = ok(tenant.post("/v1/api-keys", {"name": "scoped", "scopes": [s.value for s in scopes]}), 201)
    return Tenant(tenant.account_id, created["api_key"], tenant.client), str(created["id"])


def instant(value: str) -> datetime:
    """An ISO 8601 answer as an aware datetime (fails on a naive one)."""
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() is not None, value
    return parsed
