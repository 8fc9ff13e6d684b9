"""Malformed requests: each gets its documented error code, the error envelope, and writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from doorpin.bootstrap import AppServices
from tests.support.api import Tenant
from tests.support.resources import (
    assert_error,
    create_lock,
    create_property,
    create_reservation,
    create_unit,
    db_state,
)

TEN_MB = 10 * 1024 * 1024


@pytest.fixture
def world(tenant: Tenant) -> dict[str, Any]:
    """One of each resource, so every write endpoint has a target."""
    prop = create_property(tenant)
    unit = create_unit(tenant, prop["id"])
    lock = create_lock(tenant, prop["id"])
    stay = create_reservation(tenant, prop["id"], unit_id=unit["id"])
    return {"prop": prop, "unit": unit, "lock": lock, "stay": stay}


def _write_targets(world: dict[str, Any]) -> list[tuple[str, str]]:
    p, u, lk, r = (world[k]["id"] for k in ("prop", "unit", "lock", "stay"))
    return [
        ("POST", "/v1/properties"),
        ("PATCH", f"/v1/properties/{p}"),
        ("POST", f"/v1/properties/{p}/units"),
        ("POST", f"/v1/properties/{p}/locks"),
        ("PATCH", f"/v1/units/{u}"),
        ("PATCH", f"/v1/locks/{lk}"),
        ("POST", "/v1/reservations"),
        ("PATCH", f"/v1/reservations/{r}"),
        ("POST", "/v1/api-keys"),
    ]


def _send(tenant: Tenant, method: str, path: str, content: Any, **headers: str) -> Any:
    return tenant.client.request(
        method, path, content=content, headers={**tenant.auth, "Content-Type": "application/json", **headers}
    )


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b'{"name": "x",}',
        b"{'name': 'x'}",
        b'{"name": "x"} trailing',
        b"not json at all",
        b'{"name": "\xff\xfe"}',  # not UTF-8
        b"[" * 100_000,
        b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",  # valid JSON, nested too deep
    ],
    ids=["open", "trailing-comma", "single-quotes", "trailing-text", "text", "not-utf8", "deep-open", "deep-closed"],
)
def test_malformed_json_is_invalid_json(
    tenant: Tenant, services: AppServices, world: dict[str, Any], raw: bytes
) -> None:
    before = db_state(services)
    for method, path in _write_targets(world):
        assert_error(_send(tenant, method, path, raw), 400, "invalid_json")
    assert db_state(services) == before


def test_form_labelled_json_is_still_read_as_json(tenant: Tenant, services: AppServices) -> None:
    before = db_state(services)
    response = _send(tenant, "POST", "/v1/properties", b"name=x&timezone=UTC", **{"Content-Type": "text/plain"})
    assert_error(response, 400, "invalid_json")
    assert db_state(services) == before


def test_ten_megabyte_bodies_are_payload_too_large(
    tenant: Tenant, services: AppServices, world: dict[str, Any]
) -> None:
    before = db_state(services)
    big = b'{"name": "' + b"x" * TEN_MB + b'"}'
    for method, path in _write_targets(world):
        assert_error(_send(tenant, method, path, big), 413, "payload_too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the size is only known while reading
        yield b'{"name": "'
        for _ in range(10):
            yield b"x" * (1024 * 1024)
        yield b'"}'

    assert_error(_send(tenant, "POST", "/v1/properties", chunks()), 413, "payload_too_large")
    assert db_state(services) == before


@pytest.mark.parametrize("raw", [b"[]", b'[{"name": "x", "timezone": "UTC"}]', b'"text"', b"42", b"null", b"true", b""])
def test_a_body_that_is_not_an_object_is_a_validation_error(
    tenant: Tenant, services: AppServices, world: dict[str, Any], raw: bytes
) -> None:
    before = db_state(services)
    for method, path in _write_targets(world):
        assert_error(_send(tenant, method, path, raw), 422, "validation_error")
    assert db_state(services) == before


def path_of(world: dict[str, Any], target: str) -> str:
    """A parametrized target: a short name of one of `world`'s resources, or a path as it is."""
    paths = {
        "prop": f"/v1/properties/{world['prop']['id']}",
        "prop/units": f"/v1/properties/{world['prop']['id']}/units",
        "prop/locks": f"/v1/properties/{world['prop']['id']}/locks",
        "unit": f"/v1/units/{world['unit']['id']}",
        "lock": f"/v1/locks/{world['lock']['id']}",
        "stay": f"/v1/reservations/{world['stay']['id']}",
    }
    return paths.get(target, target)


@pytest.mark.parametrize(
    ("method", "target", "body", "field"),
    [
        ("POST", "/v1/properties", {"name": 5, "timezone": "UTC"}, "name"),
        ("POST", "/v1/properties", {"name": "x", "timezone": ["UTC"]}, "timezone"),
        ("POST", "/v1/properties", {"name": "x", "timezone": "UTC", "code_policy": 6}, "code_policy"),
        (
            "POST",
            "/v1/properties",
            {"name": "x", "timezone": "UTC", "code_policy": {"length": [6]}},
            "code_policy.length",
        ),
        ("POST", "/v1/properties", {"name": "x", "timezone": "UTC", "check_in_time": 15}, "check_in_time"),
        ("PATCH", "prop", {"delivery": {"channels": "email"}}, "delivery.channels"),
        ("POST", "prop/units", {"name": "U", "lock_ids": "lock_x"}, "lock_ids"),
        ("POST", "prop/locks", {"name": "L", "capabilities": {"offline": "sometimes"}}, "capabilities.offline"),
        ("PATCH", "unit", {"name": {"en": "x"}}, "name"),
        ("PATCH", "lock", {"unit_ids": [1, 2]}, "unit_ids.0"),
        ("PATCH", "stay", {"status": 1}, "status"),
        ("PATCH", "stay", {"guest": "Ada"}, "guest"),
        ("PATCH", "stay", {"unit_id": 12}, "unit_id"),
        ("POST", "/v1/api-keys", {"name": "k", "scopes": "read"}, "scopes"),
        ("POST", "/v1/api-keys", {"name": "k", "scopes": ["read"], "property_ids": "all"}, "property_ids"),
    ],
)
def test_wrong_types_are_validation_errors(
    tenant: Tenant,
    services: AppServices,
    world: dict[str, Any],
    method: str,
    target: str,
    body: dict[str, Any],
    field: str,
) -> None:
    before = db_state(services)
    response = tenant.client.request(method, path_of(world, target), json=body, headers=tenant.auth)
    assert_error(response, 422, "validation_error", field)
    assert db_state(services) == before


@pytest.mark.parametrize(
    ("method", "target", "body", "field"),
    [
        ("POST", "/v1/properties", {"name": "a\x00b", "timezone": "UTC"}, "name"),
        ("PATCH", "prop", {"name": "\x00"}, "name"),
        ("POST", "prop/units", {"name": "Room\x001"}, "name"),
        ("POST", "prop/locks", {"name": "Door\x00"}, "name"),
        ("PATCH", "stay", {"external_ref": "R\x001"}, "external_ref"),
        ("PATCH", "stay", {"guest": {"name": "Ada\x00"}}, "guest.name"),
        ("POST", "/v1/api-keys", {"name": "k\x00", "scopes": ["read"]}, "name"),
    ],
)
def test_nul_characters_are_refused_on_both_databases(
    tenant: Tenant,
    services: AppServices,
    world: dict[str, Any],
    method: str,
    target: str,
    body: dict[str, Any],
    field: str,
) -> None:
    # PostgreSQL cannot store U+0000 in text; SQLite can. Both must answer the same 422.
    before = db_state(services)
    response = tenant.client.request(method, path_of(world, target), json=body, headers=tenant.auth)
    error = assert_error(response, 422, "validation_error")
    assert error.get("field") in (None, field)
    assert db_state(services) == before


def test_nul_characters_in_paths_queries_and_keys(tenant: Tenant, world: dict[str, Any]) -> None:
    for path in ("/v1/properties/prop_%00", "/v1/reservations/res_%00x", "/v1/units/%00", "/v1/locks/lock_%00"):
        assert_error(tenant.get(path), 404, "not_found")
    assert_error(tenant.patch("/v1/reservations/res_%00", {"status": "CANCELED"}), 404, "not_found")
    for query in ("external_ref=a%00b", "property_id=prop_%00", "unit_id=%00"):
        assert_error(tenant.get(f"/v1/reservations?{query}"), 422, "validation_error")
    key_id = tenant.token.split("_")[2]
    forged = f"dpk_key_{key_id[:-1]}\x00_secret"
    assert_error(
        tenant.client.get("/v1/properties", headers={"Authorization": f"Bearer {forged}"}), 401, "unauthenticated"
    )


def test_unknown_routes_and_methods_use_the_envelope(tenant: Tenant) -> None:
    assert_error(tenant.get("/v1/nothing-here"), 404, "not_found")
    assert_error(tenant.put("/v1/properties", {}), 405, "method_not_allowed")
    assert_error(tenant.delete("/v1/reservations"), 405, "method_not_allowed")


def test_bad_idempotency_keys(tenant: Tenant, services: AppServices) -> None:
    before = db_state(services)
    body = {"name": "x", "timezone": "UTC"}
    for key in (b"k" * 256, b"tab\there", "ключ".encode()):
        headers = [(b"authorization", f"Bearer {tenant.token}".encode()), (b"idempotency-key", key)]
        response = tenant.client.post("/v1/properties", json=body, headers=headers)
        assert_error(response, 422, "validation_error", "Idempotency-Key")
    assert db_state(services) == before
