"""Idempotency-Key on POST: the same request answers the first response; a different one is refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from doorpin.bootstrap import AppServices
from tests.support.api import Tenant
from tests.support.clock import FakeClock
from tests.support.resources import (
    assert_error,
    count_rows,
    create_property,
    create_reservation,
    db_state,
    ok,
)

# (table, path, body, a different body) for each POST that creates something; "{prop}" is a property id.
CREATES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    (
        "properties",
        "/v1/properties",
        {"name": "Alfama", "timezone": "Europe/Lisbon"},
        {"name": "Alfama", "timezone": "UTC"},
    ),
    ("units", "/v1/properties/{prop}/units", {"name": "101"}, {"name": "102"}),
    ("locks", "/v1/properties/{prop}/locks", {"name": "Door"}, {"name": "Door", "provider": "timecode"}),
    (
        "reservations",
        "/v1/reservations",
        {"property_id": "{prop}", "check_in": "2026-07-10", "check_out": "2026-07-12", "external_ref": "R1"},
        {"property_id": "{prop}", "check_in": "2026-07-10", "check_out": "2026-07-13", "external_ref": "R1"},
    ),
    ("api_keys", "/v1/api-keys", {"name": "PMS", "scopes": ["write"]}, {"name": "PMS", "scopes": ["read"]}),
]


def _fill(value: Any, prop_id: str) -> Any:
    if isinstance(value, str):
        return value.replace("{prop}", prop_id)
    if isinstance(value, dict):
        return {k: _fill(v, prop_id) for k, v in value.items()}
    return value


@pytest.fixture
def prop(tenant: Tenant) -> Any:
    return create_property(tenant, "Base")


def _post_with_key(tenant: Tenant, key: str) -> Callable[[str, Any], Any]:
    def post(path: str, body: Any) -> Any:
        return tenant.post(path, body, headers={"Idempotency-Key": key})

    return post


@pytest.mark.parametrize(("table", "path", "body", "other"), CREATES, ids=[c[0] for c in CREATES])
def test_same_key_same_body_replays_the_first_response(
    tenant: Tenant,
    services: AppServices,
    clock: FakeClock,
    prop: Any,
    table: str,
    path: str,
    body: dict[str, Any],
    other: dict[str, Any],
) -> None:
    path, body = _fill(path, prop["id"]), _fill(body, prop["id"])
    post = _post_with_key(tenant, f"create-{table}-1")
    rows_before = count_rows(services, table)
    first = post(path, body)
    assert first.status_code == 201, first.text
    state_after_first = db_state(services)
    clock.advance(minutes=5)  # a re-run would stamp different times
    for _ in range(3):
        again = post(path, dict(reversed(list(body.items()))))  # key order does not matter
        assert again.status_code == 201
        assert again.json() == first.json()
        assert again.headers.get("idempotent-replayed") == "true"
    assert count_rows(services, table) == rows_before + 1
    assert db_state(services) == state_after_first


@pytest.mark.parametrize(("table", "path", "body", "other"), CREATES, ids=[c[0] for c in CREATES])
def test_same_key_different_body_is_refused(
    tenant: Tenant,
    services: AppServices,
    prop: Any,
    table: str,
    path: str,
    body: dict[str, Any],
    other: dict[str, Any],
) -> None:
    path, body, other = _fill(path, prop["id"]), _fill(body, prop["id"]), _fill(other, prop["id"])
    post = _post_with_key(tenant, f"create-{table}-2")
    first = ok(post(path, body), 201)
    before = db_state(services)
    assert_error(post(path, other), 409, "idempotency_key_reused")
    assert db_state(services) == before
    # The key still answers its own request.
    assert ok(post(path, body), 201) == first


def test_same_key_on_another_endpoint_is_refused(tenant: Tenant, services: AppServices, prop: Any) -> None:
    post = _post_with_key(tenant, "shared-key")
    ok(post(f"/v1/properties/{prop['id']}/units", {"name": "A"}), 201)
    before = db_state(services)
    assert_error(post(f"/v1/properties/{prop['id']}/locks", {"name": "A"}), 409, "idempotency_key_reused")
    assert_error(post("/v1/properties", {"name": "A", "timezone": "UTC"}), 409, "idempotency_key_reused")
    assert db_state(services) == before


def test_keys_belong_to_one_account(tenant: Tenant, other_tenant: Tenant, services: AppServices) -> None:
    body = {"name": "Same", "timezone": "UTC"}
    mine = ok(tenant.post("/v1/properties", body, headers={"Idempotency-Key": "k-1"}), 201)
    theirs = ok(other_tenant.post("/v1/properties", body, headers={"Idempotency-Key": "k-1"}), 201)
    assert mine["id"] != theirs["id"]
    assert [p["id"] for p in ok(other_tenant.get("/v1/properties"))["data"]] == [theirs["id"]]
    # A different body under the same key is only a conflict within the account that used it.
    ok(
        other_tenant.post(
            "/v1/properties/" + theirs["id"] + "/units", {"name": "x"}, headers={"Idempotency-Key": "k-2"}
        ),
        201,
    )
    assert count_rows(services, "properties") == 2


def test_replay_returns_the_first_response_even_after_later_changes(tenant: Tenant, prop: Any) -> None:
    body = {"property_id": prop["id"], "check_in": "2026-07-10", "check_out": "2026-07-12"}
    first = ok(tenant.post("/v1/reservations", body, headers={"Idempotency-Key": "stay-1"}), 201)
    ok(tenant.patch(f"/v1/reservations/{first['id']}", {"status": "CANCELED"}))
    replay = ok(tenant.post("/v1/reservations", body, headers={"Idempotency-Key": "stay-1"}), 201)
    assert replay == first
    assert replay["status"] == "CONFIRMED"
    assert ok(tenant.get(f"/v1/reservations/{first['id']}"))["status"] == "CANCELED"


def test_a_failed_request_is_not_remembered(tenant: Tenant, services: AppServices, prop: Any) -> None:
    create_reservation(tenant, prop["id"], external_ref="TAKEN")
    post = _post_with_key(tenant, "retry-me")
    bad = {"property_id": prop["id"], "check_in": "2026-07-10", "check_out": "2026-07-12", "external_ref": "TAKEN"}
    before = db_state(services)
    for _ in range(2):
        assert_error(post("/v1/reservations", bad), 409, "duplicate_external_ref")
    assert_error(post("/v1/properties", {"name": "X", "timezone": "Mars/Olympus"}), 422, "invalid_timezone")
    assert db_state(services) == before
    # The key took no effect, so the corrected request may use it.
    fixed = ok(post("/v1/reservations", {**bad, "external_ref": "FREE"}), 201)
    assert fixed["external_ref"] == "FREE"


def test_without_a_key_each_post_creates(tenant: Tenant, services: AppServices) -> None:
    body = {"name": "Twin", "timezone": "UTC"}
    a = ok(tenant.post("/v1/properties", body), 201)
    b = ok(tenant.post("/v1/properties", body), 201)
    assert a["id"] != b["id"]
    assert count_rows(services, "properties") == 2
