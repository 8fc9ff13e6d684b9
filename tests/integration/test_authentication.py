"""Every /v1 endpoint needs a valid, unrevoked key (401) with the right scope (403)."""

from __future__ import annotations

from typing import Any

import pytest

from doorpin.bootstrap import AppServices
from doorpin.domain.scopes import Scope
from tests.support.api import Tenant
from tests.support.resources import (
    assert_error,
    create_lock,
    create_property,
    create_reservation,
    create_unit,
    db_state,
    ok,
)


@pytest.fixture
def endpoints(tenant: Tenant) -> list[tuple[str, str, Any]]:
    """(method, path, body) for every endpoint of API keys, properties, units, locks and reservations."""
    prop = create_property(tenant)
    unit = create_unit(tenant, prop["id"])
    lock = create_lock(tenant, prop["id"])
    stay = create_reservation(tenant, prop["id"])
    key_id = "key_" + tenant.token.split("_")[2]
    stay_body = {"property_id": prop["id"], "check_in": "2026-08-01", "check_out": "2026-08-03"}
    return [
        ("POST", "/v1/api-keys", {"name": "k", "scopes": ["read"]}),
        ("GET", "/v1/api-keys", None),
        ("DELETE", f"/v1/api-keys/{key_id}", None),
        ("POST", "/v1/properties", {"name": "P", "timezone": "UTC"}),
        ("GET", "/v1/properties", None),
        ("GET", f"/v1/properties/{prop['id']}", None),
        ("PATCH", f"/v1/properties/{prop['id']}", {"name": "Q"}),
        ("POST", f"/v1/properties/{prop['id']}/units", {"name": "U"}),
        ("GET", f"/v1/properties/{prop['id']}/units", None),
        ("POST", f"/v1/properties/{prop['id']}/locks", {"name": "L"}),
        ("GET", f"/v1/properties/{prop['id']}/locks", None),
        ("GET", f"/v1/units/{unit['id']}", None),
        ("PATCH", f"/v1/units/{unit['id']}", {"name": "V"}),
        ("GET", f"/v1/locks/{lock['id']}", None),
        ("PATCH", f"/v1/locks/{lock['id']}", {"name": "M"}),
        ("POST", "/v1/reservations", stay_body),
        ("GET", "/v1/reservations", None),
        ("GET", f"/v1/reservations/{stay['id']}", None),
        ("PATCH", f"/v1/reservations/{stay['id']}", {"status": "CANCELED"}),
    ]


def _call(tenant: Tenant, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    return tenant.client.request(method, path, json=body, headers=headers)


def _bad_headers(tenant: Tenant, services: AppServices) -> dict[str, dict[str, str]]:
    prefix, kind, key_id, secret = tenant.token.split("_", 3)
    wrong_secret = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    return {
        "no header": {},
        "empty": {"Authorization": ""},
        "bearer without token": {"Authorization": "Bearer "},
        "basic scheme": {"Authorization": f"Basic {tenant.token}"},
        "token scheme": {"Authorization": f"Token {tenant.token}"},
        "bare token": {"Authorization": tenant.token},
        "garbage": {"Authorization": "Bearer garbage"},
        "garbage with prefix": {"Authorization": "Bearer dpk_key_x_y"},
        "unknown key id": {"Authorization": f"Bearer {prefix}_{kind}_{'0' * len(key_id)}_{secret}"},
        "wrong secret": {"Authorization": f"Bearer {prefix}_{kind}_{key_id}_{wrong_secret}"},
        "secret missing": {"Authorization": f"Bearer {prefix}_{kind}_{key_id}_"},
        "truncated secret": {"Authorization": f"Bearer {tenant.token[:-4]}"},
        "hash as secret": {
            "Authorization": f"Bearer {prefix}_{kind}_{key_id}_{services.keyring.hash_api_secret(secret)}"
        },
    }


def test_requests_without_a_valid_key_are_unauthenticated(
    tenant: Tenant, services: AppServices, endpoints: list[tuple[str, str, Any]]
) -> None:
    before = db_state(services)
    for label, headers in _bad_headers(tenant, services).items():
        for method, path, body in endpoints:
            response = _call(tenant, method, path, body, headers)
            assert response.status_code == 401, (label, method, path, response.text)
            assert_error(response, 401, "unauthenticated")
    assert db_state(services) == before


def test_a_revoked_key_is_unauthenticated_everywhere(
    tenant: Tenant, services: AppServices, endpoints: list[tuple[str, str, Any]]
) -> None:
    admin = tenant.key_with(Scope.ADMIN)
    ok(tenant.delete("/v1/api-keys/key_" + admin.token.split("_")[2]))
    before = db_state(services)
    for method, path, body in endpoints:
        response = _call(tenant, method, path, body, admin.auth)
        assert response.status_code == 401, (method, path, response.text)
        assert_error(response, 401, "unauthenticated")
    assert db_state(services) == before


def test_scheme_is_case_insensitive(tenant: Tenant) -> None:
    for scheme in ("bearer", "BEARER", "Bearer"):
        assert ok(tenant.client.get("/v1/properties", headers={"Authorization": f"{scheme} {tenant.token}"}))


def test_a_key_of_one_account_never_reads_another(tenant: Tenant, other_tenant: Tenant) -> None:
    create_property(tenant, "Mine")
    assert ok(other_tenant.get("/v1/properties"))["data"] == []
    assert ok(other_tenant.get("/v1/reservations"))["data"] == []
    assert [k["id"] for k in ok(other_tenant.get("/v1/api-keys"))["data"]] == [
        "key_" + other_tenant.token.split("_")[2]
    ]


@pytest.mark.parametrize("scopes", [[Scope.READ], [Scope.PINS], [Scope.DOOR_PROVIDER], [Scope.WRITE]])
def test_scopes_gate_each_endpoint(
    tenant: Tenant, services: AppServices, endpoints: list[tuple[str, str, Any]], scopes: list[Scope]
) -> None:
    limited = tenant.key_with(*scopes)
    may_write = Scope.WRITE in scopes
    before = db_state(services)
    for method, path, body in endpoints:
        needed = "admin" if path.startswith("/v1/api-keys") else "read" if method == "GET" else "write"
        if needed == "read" or (needed == "write" and may_write):
            continue
        response = _call(limited, method, path, body, limited.auth)
        assert response.status_code == 403, (scopes, method, path, response.text)
        assert_error(response, 403, "forbidden")
    assert db_state(services) == before
    # Every scope includes reading.
    for method, path, _ in endpoints:
        if method == "GET" and not path.startswith("/v1/api-keys"):
            assert _call(limited, method, path, None, limited.auth).status_code == 200, (scopes, path)
