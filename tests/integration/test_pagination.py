"""Every list: `{"data", "next_cursor"}`, `limit` 1-500 (default 50), cursors that walk each item once."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.api import Tenant
from tests.support.resources import (
    assert_error,
    create_lock,
    create_property,
    create_reservation,
    create_unit,
    ok,
    walk,
)

COUNT = 7


def _properties(tenant: Tenant) -> tuple[str, list[str]]:
    return "/v1/properties", [create_property(tenant, f"P{i}")["id"] for i in range(COUNT)]


def _units(tenant: Tenant) -> tuple[str, list[str]]:
    prop = create_property(tenant)
    create_unit(tenant, create_property(tenant, "Elsewhere")["id"])  # must not show up
    return f"/v1/properties/{prop['id']}/units", [create_unit(tenant, prop["id"], f"U{i}")["id"] for i in range(COUNT)]


def _locks(tenant: Tenant) -> tuple[str, list[str]]:
    prop = create_property(tenant)
    create_lock(tenant, create_property(tenant, "Elsewhere")["id"])
    return f"/v1/properties/{prop['id']}/locks", [create_lock(tenant, prop["id"], f"L{i}")["id"] for i in range(COUNT)]


def _reservations(tenant: Tenant) -> tuple[str, list[str]]:
    prop = create_property(tenant)
    return "/v1/reservations", [create_reservation(tenant, prop["id"])["id"] for _ in range(COUNT)]


def _filtered_reservations(tenant: Tenant) -> tuple[str, list[str]]:
    prop = create_property(tenant)
    other = create_property(tenant, "Other")
    ids = []
    for i in range(COUNT * 2):
        stay = create_reservation(tenant, (prop if i % 2 else other)["id"])
        if i % 2:
            ids.append(stay["id"])
    return f"/v1/reservations?property_id={prop['id']}&status=CONFIRMED", ids


def _api_keys(tenant: Tenant) -> tuple[str, list[str]]:
    own = "key_" + tenant.token.split("_")[2]
    made = [ok(tenant.post("/v1/api-keys", {"name": f"k{i}", "scopes": ["read"]}), 201)["id"] for i in range(COUNT - 1)]
    return "/v1/api-keys", [own, *made]


LISTS: dict[str, Callable[[Tenant], tuple[str, list[str]]]] = {
    "properties": _properties,
    "units": _units,
    "locks": _locks,
    "reservations": _reservations,
    "reservations-filtered": _filtered_reservations,
    "api-keys": _api_keys,
}


@pytest.mark.parametrize("kind", list(LISTS))
def test_cursor_walks_every_item_exactly_once(tenant: Tenant, kind: str) -> None:
    path, created = LISTS[kind](tenant)
    for limit in (1, 2, 3, COUNT, 500):
        seen = [item["id"] for item in walk(tenant, path, limit)]
        assert len(seen) == len(set(seen)), (limit, seen)
        assert sorted(seen) == sorted(created), limit
    whole = ok(tenant.get(path))
    assert set(whole) == {"data", "next_cursor"}
    assert whole["next_cursor"] is None
    assert sorted(item["id"] for item in whole["data"]) == sorted(created)


@pytest.mark.parametrize("kind", list(LISTS))
def test_limit_bounds(tenant: Tenant, kind: str) -> None:
    path, _ = LISTS[kind](tenant)
    sep = "&" if "?" in path else "?"
    for bad in ("0", "501", "-1", "abc", "1.5", ""):
        assert_error(tenant.get(f"{path}{sep}limit={bad}"), 422, "validation_error", "limit")
    for good in ("1", "500"):
        assert ok(tenant.get(f"{path}{sep}limit={good}"))["data"]


@pytest.mark.parametrize("kind", list(LISTS))
def test_garbage_cursors_are_validation_errors(tenant: Tenant, kind: str) -> None:
    path, _ = LISTS[kind](tenant)
    sep = "&" if "?" in path else "?"
    for cursor in ("garbage", "!!!!", "%E2%82%AC", "x" * 201, "Li4vLi4v", "cHJvcF8nOyBEUk9QIFRBQkxFIHg7"):
        assert_error(tenant.get(f"{path}{sep}cursor={cursor}"), 422, "validation_error", "cursor")


def test_default_page_is_fifty(tenant: Tenant) -> None:
    created = {create_property(tenant, f"P{i}")["id"] for i in range(51)}
    first = ok(tenant.get("/v1/properties"))
    assert len(first["data"]) == 50
    assert first["next_cursor"] is not None
    second = ok(tenant.get(f"/v1/properties?cursor={first['next_cursor']}"))
    assert len(second["data"]) == 1
    assert second["next_cursor"] is None
    assert {p["id"] for p in first["data"] + second["data"]} == created


def test_a_cursor_is_stable_when_items_are_added(tenant: Tenant) -> None:
    ids = [create_property(tenant, f"P{i}")["id"] for i in range(3)]
    page = ok(tenant.get("/v1/properties?limit=2"))
    seen = [p["id"] for p in page["data"]]
    ids.append(create_property(tenant, "Late")["id"])
    cursor = page["next_cursor"]
    while cursor is not None:
        page = ok(tenant.get(f"/v1/properties?limit=2&cursor={cursor}"))
        seen += [p["id"] for p in page["data"]]
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted(ids)
    assert len(seen) == 4
