"""A resource of another account is 404 not_found, never 403: existence does not leak across accounts."""

from __future__ import annotations

import json
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
def theirs(other_tenant: Tenant) -> dict[str, Any]:
    prop = create_property(other_tenant, "Globex Towers", timezone="America/Chicago")
    lock = create_lock(other_tenant, prop["id"])
    unit = create_unit(other_tenant, prop["id"], lock_ids=[lock["id"]])
    stay = create_reservation(other_tenant, prop["id"], unit_id=unit["id"], external_ref="G-1")
    return {"prop": prop, "unit": unit, "lock": lock, "stay": stay}


@pytest.fixture
def mine(tenant: Tenant) -> dict[str, Any]:
    prop = create_property(tenant, "Acme Inn")
    lock = create_lock(tenant, prop["id"])
    unit = create_unit(tenant, prop["id"], lock_ids=[lock["id"]])
    stay = create_reservation(tenant, prop["id"], unit_id=unit["id"], external_ref="A-1")
    return {"prop": prop, "unit": unit, "lock": lock, "stay": stay}


def _callers(tenant: Tenant) -> dict[str, Tenant]:
    return {
        "admin": tenant,
        "write": tenant.key_with(Scope.WRITE),
        "read": tenant.key_with(Scope.READ),
    }


def test_reading_another_accounts_resources_is_not_found(
    tenant: Tenant, mine: dict[str, Any], theirs: dict[str, Any]
) -> None:
    p, u, lk, r = (theirs[k]["id"] for k in ("prop", "unit", "lock", "stay"))
    paths = [
        f"/v1/properties/{p}",
        f"/v1/properties/{p}/units",
        f"/v1/properties/{p}/locks",
        f"/v1/units/{u}",
        f"/v1/locks/{lk}",
        f"/v1/reservations/{r}",
        f"/v1/reservations?property_id={p}",
        f"/v1/reservations?property_id={p}&arriving_on=2026-07-10",
    ]
    for label, caller in _callers(tenant).items():
        for path in paths:
            response = caller.get(path)
            assert response.status_code == 404, (label, path, response.text)
            assert_error(response, 404, "not_found")
            assert theirs["prop"]["name"] not in response.text


def test_writing_another_accounts_resources_is_not_found(
    tenant: Tenant, services: AppServices, mine: dict[str, Any], theirs: dict[str, Any]
) -> None:
    p, u, lk, r = (theirs[k]["id"] for k in ("prop", "unit", "lock", "stay"))
    writes: list[tuple[str, str, Any]] = [
        ("PATCH", f"/v1/properties/{p}", {"name": "Hijacked"}),
        ("PATCH", f"/v1/properties/{p}", {"timezone": "Mars/Olympus"}),  # 404 comes before validation
        ("POST", f"/v1/properties/{p}/units", {"name": "Intruder"}),
        ("POST", f"/v1/properties/{p}/locks", {"name": "Intruder"}),
        ("PATCH", f"/v1/units/{u}", {"name": "Hijacked"}),
        ("PATCH", f"/v1/locks/{lk}", {"name": "Hijacked"}),
        ("PATCH", f"/v1/reservations/{r}", {"status": "CANCELED"}),
        ("PATCH", f"/v1/reservations/{r}", {"status": "IN_HOUSE", "guest": {"name": "Mallory"}}),
        ("POST", "/v1/reservations", {"property_id": p, "check_in": "2026-07-10", "check_out": "2026-07-12"}),
        ("DELETE", "/v1/api-keys/key_" + "0" * 26, None),
    ]
    before = db_state(services)
    for label, caller in _callers(tenant).items():
        if label == "read":
            continue  # a read key is refused (403) before any lookup
        for method, path, body in writes:
            if path.startswith("/v1/api-keys") and label != "admin":
                continue
            response = caller.client.request(method, path, json=body, headers=caller.auth)
            assert response.status_code == 404, (label, method, path, response.text)
            error = assert_error(response, 404, "not_found")
            if path == "/v1/reservations":
                assert error["field"] == "property_id"
    # Only the two keys made above were written; nothing of the other account changed.
    after = db_state(services)
    assert {t: rows for t, rows in after.items() if t != "api_keys"} == {
        t: rows for t, rows in before.items() if t != "api_keys"
    }
    assert ok(tenant.get(f"/v1/reservations/{mine['stay']['id']}"))["status"] == "CONFIRMED"


def test_another_accounts_key_cannot_be_revoked(tenant: Tenant, other_tenant: Tenant, services: AppServices) -> None:
    their_key = "key_" + other_tenant.token.split("_")[2]
    before = db_state(services)
    assert_error(tenant.delete(f"/v1/api-keys/{their_key}"), 404, "not_found")
    assert db_state(services) == before
    assert ok(other_tenant.get("/v1/properties")) == {"data": [], "next_cursor": None}


def test_lists_never_show_another_accounts_resources(
    tenant: Tenant, mine: dict[str, Any], theirs: dict[str, Any]
) -> None:
    assert [p["id"] for p in ok(tenant.get("/v1/properties"))["data"]] == [mine["prop"]["id"]]
    assert [r["id"] for r in ok(tenant.get("/v1/reservations"))["data"]] == [mine["stay"]["id"]]
    assert ok(tenant.get("/v1/reservations?external_ref=G-1"))["data"] == []
    assert ok(tenant.get(f"/v1/reservations?unit_id={theirs['unit']['id']}"))["data"] == []
    their_keys = {k["id"] for k in ok(tenant.get("/v1/api-keys"))["data"]}
    assert their_keys == {"key_" + tenant.token.split("_")[2]}


def test_another_accounts_ids_cannot_be_linked(
    tenant: Tenant, services: AppServices, mine: dict[str, Any], theirs: dict[str, Any]
) -> None:
    p = mine["prop"]["id"]
    before = db_state(services)
    cases = [
        ("POST", f"/v1/properties/{p}/units", {"name": "U", "lock_ids": [theirs["lock"]["id"]]}, "lock_ids"),
        ("POST", f"/v1/properties/{p}/locks", {"name": "L", "unit_ids": [theirs["unit"]["id"]]}, "unit_ids"),
        ("PATCH", f"/v1/units/{mine['unit']['id']}", {"lock_ids": [theirs["lock"]["id"]]}, "lock_ids"),
        ("PATCH", f"/v1/locks/{mine['lock']['id']}", {"unit_ids": [theirs["unit"]["id"]]}, "unit_ids"),
        ("PATCH", f"/v1/reservations/{mine['stay']['id']}", {"unit_id": theirs["unit"]["id"]}, "unit_id"),
        (
            "POST",
            "/v1/reservations",
            {"property_id": p, "unit_id": theirs["unit"]["id"], "check_in": "2026-07-10", "check_out": "2026-07-12"},
            "unit_id",
        ),
        ("POST", "/v1/api-keys", {"name": "k", "scopes": ["read"], "property_ids": [theirs["prop"]["id"]]}, None),
    ]
    for method, path, body, field in cases:
        foreign = tenant.client.request(method, path, json=body, headers=tenant.auth)
        # The answer is exactly what a made-up id gets: nothing tells the ids exist elsewhere.
        made_up = _replace_ids(body, theirs)
        unknown = tenant.client.request(method, path, json=made_up, headers=tenant.auth)
        assert foreign.status_code == unknown.status_code == 422, (path, foreign.text)
        assert foreign.json()["error"]["code"] == unknown.json()["error"]["code"] == "validation_error"
        if field is not None:
            assert foreign.json()["error"]["field"] == field
    assert db_state(services) == before


def _replace_ids(body: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """The same body with the other account's ids swapped for well-formed ids that exist nowhere."""
    text = json.dumps(body)
    for kind in ("prop", "unit", "lock"):
        text = text.replace(theirs[kind]["id"], kind + "_" + "0" * 26)
    value: dict[str, Any] = json.loads(text)
    return value
