"""/v1/api-keys: the secret is shown once and stored only as a hash; scopes and property limits hold."""

from __future__ import annotations

from sqlalchemy import text

from doorpin.bootstrap import AppServices
from doorpin.domain.scopes import Scope
from tests.support.api import Tenant
from tests.support.resources import (
    assert_error,
    count_rows,
    create_lock,
    create_property,
    create_reservation,
    create_unit,
    db_state,
    ok,
    walk,
)


def _secret_of(token: str) -> str:
    prefix, kind, body, secret = token.split("_", 3)
    assert (prefix, kind) == ("dpk", "key")
    assert body
    return secret


def test_creation_shows_the_secret_once(tenant: Tenant) -> None:
    created = ok(tenant.post("/v1/api-keys", {"name": "PMS", "scopes": ["write"]}), 201)
    assert set(created) >= {"id", "name", "scopes", "property_ids", "created_at", "revoked_at", "api_key"}
    assert created["id"].startswith("key_")
    assert created["name"] == "PMS"
    assert created["scopes"] == ["write"]
    assert created["property_ids"] is None
    assert created["revoked_at"] is None
    token = created["api_key"]
    assert token.split("_", 3)[1:3] == created["id"].split("_")

    listed = tenant.get("/v1/api-keys")
    keys = ok(listed)["data"]
    assert created["id"] in {k["id"] for k in keys}
    assert all("api_key" not in k and "secret_hash" not in k for k in keys)
    assert _secret_of(token) not in listed.text
    # The new key works, and a later answer about it never repeats the secret.
    new = Tenant(tenant.account_id, token, tenant.client)
    assert ok(new.get("/v1/properties"))["data"] == []


def test_the_database_holds_no_plaintext_secret(tenant: Tenant, services: AppServices) -> None:
    token = ok(tenant.post("/v1/api-keys", {"name": "PMS", "scopes": ["read"]}), 201)["api_key"]
    secret = _secret_of(token)
    with services.db.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM api_keys")).all()
    assert len(rows) == 2  # the account's first admin key and this one
    for row in rows:
        for value in row:
            assert secret not in str(value)
            assert tenant.token.split("_", 3)[3] not in str(value)


def test_write_implies_read_but_not_admin(tenant: Tenant) -> None:
    writer = tenant.key_with(Scope.WRITE)
    prop = ok(writer.post("/v1/properties", {"name": "A", "timezone": "UTC"}), 201)
    assert ok(writer.get(f"/v1/properties/{prop['id']}"))["id"] == prop["id"]
    assert ok(writer.get("/v1/properties"))["data"][0]["id"] == prop["id"]
    assert_error(writer.get("/v1/api-keys"), 403, "forbidden")
    assert_error(writer.post("/v1/api-keys", {"name": "x", "scopes": ["admin"]}), 403, "forbidden")
    assert_error(writer.delete(f"/v1/api-keys/{prop['id']}"), 403, "forbidden")


def test_a_read_key_cannot_write_anything(tenant: Tenant, services: AppServices, clock: object) -> None:
    prop = create_property(tenant)
    unit = create_unit(tenant, prop["id"])
    lock = create_lock(tenant, prop["id"])
    stay = create_reservation(tenant, prop["id"])
    reader = tenant.key_with(Scope.READ)
    before = db_state(services)
    attempts = [
        reader.post("/v1/properties", {"name": "B", "timezone": "UTC"}),
        reader.patch(f"/v1/properties/{prop['id']}", {"name": "B"}),
        reader.post(f"/v1/properties/{prop['id']}/units", {"name": "U"}),
        reader.post(f"/v1/properties/{prop['id']}/locks", {"name": "L"}),
        reader.patch(f"/v1/units/{unit['id']}", {"name": "U"}),
        reader.patch(f"/v1/locks/{lock['id']}", {"name": "L"}),
        reader.post(
            "/v1/reservations", {"property_id": prop["id"], "check_in": "2026-08-01", "check_out": "2026-08-02"}
        ),
        reader.patch(f"/v1/reservations/{stay['id']}", {"status": "CANCELED"}),
        reader.post("/v1/api-keys", {"name": "x", "scopes": ["read"]}),
    ]
    for response in attempts:
        assert_error(response, 403, "forbidden")
    assert db_state(services) == before
    # ...while reading works.
    assert ok(reader.get(f"/v1/reservations/{stay['id']}"))["status"] == "CONFIRMED"


def test_revoked_key_is_unauthenticated_at_once(tenant: Tenant) -> None:
    other = tenant.key_with(Scope.WRITE)
    key_id = "key_" + other.token.split("_")[2]
    assert ok(other.get("/v1/properties"))["data"] == []
    revoked = ok(tenant.delete(f"/v1/api-keys/{key_id}"))
    assert revoked["id"] == key_id
    assert revoked["revoked_at"] is not None
    assert_error(other.get("/v1/properties"), 401, "unauthenticated")
    assert_error(other.post("/v1/properties", {"name": "A", "timezone": "UTC"}), 401, "unauthenticated")
    listed = {k["id"]: k for k in ok(tenant.get("/v1/api-keys"))["data"]}
    assert listed[key_id]["revoked_at"] == revoked["revoked_at"]
    # Revoking again is harmless and keeps the first revocation time.
    assert ok(tenant.delete(f"/v1/api-keys/{key_id}"))["revoked_at"] == revoked["revoked_at"]


def test_revoking_unknown_or_foreign_keys_is_not_found(tenant: Tenant, other_tenant: Tenant) -> None:
    foreign_id = "key_" + other_tenant.token.split("_")[2]
    assert_error(tenant.delete("/v1/api-keys/key_00000000000000000000000000"), 404, "not_found")
    assert_error(tenant.delete(f"/v1/api-keys/{foreign_id}"), 404, "not_found")
    assert ok(other_tenant.get("/v1/properties"))["data"] == []  # still works


def test_key_limited_to_properties_sees_only_those(tenant: Tenant, services: AppServices) -> None:
    mine = create_property(tenant, "Mine")
    hidden = create_property(tenant, "Hidden")
    hidden_unit = create_unit(tenant, hidden["id"])
    hidden_lock = create_lock(tenant, hidden["id"])
    hidden_stay = create_reservation(tenant, hidden["id"], external_ref="H-1")
    my_stay = create_reservation(tenant, mine["id"], external_ref="M-1")
    limited = tenant.key_with(Scope.WRITE, property_ids=[mine["id"]])

    assert [p["id"] for p in ok(limited.get("/v1/properties"))["data"]] == [mine["id"]]
    assert [r["id"] for r in ok(limited.get("/v1/reservations"))["data"]] == [my_stay["id"]]
    assert ok(limited.get("/v1/reservations?external_ref=H-1"))["data"] == []
    for path in (
        f"/v1/properties/{hidden['id']}",
        f"/v1/properties/{hidden['id']}/units",
        f"/v1/properties/{hidden['id']}/locks",
        f"/v1/units/{hidden_unit['id']}",
        f"/v1/locks/{hidden_lock['id']}",
        f"/v1/reservations/{hidden_stay['id']}",
        f"/v1/reservations?property_id={hidden['id']}",
    ):
        assert_error(limited.get(path), 404, "not_found")

    before = db_state(services)
    assert_error(limited.patch(f"/v1/properties/{hidden['id']}", {"name": "x"}), 404, "not_found")
    assert_error(limited.patch(f"/v1/reservations/{hidden_stay['id']}", {"status": "CANCELED"}), 404, "not_found")
    assert_error(limited.post(f"/v1/properties/{hidden['id']}/units", {"name": "U"}), 404, "not_found")
    body = {"property_id": hidden["id"], "check_in": "2026-08-01", "check_out": "2026-08-03"}
    assert_error(limited.post("/v1/reservations", body), 404, "not_found", field="property_id")
    assert_error(limited.post("/v1/properties", {"name": "New", "timezone": "UTC"}), 403, "forbidden")
    assert db_state(services) == before

    # Inside its property, the key works normally.
    create_reservation(limited, mine["id"], external_ref="M-2")
    assert count_rows(services, "reservations") == 3


def test_property_limited_admin_cannot_widen_itself(tenant: Tenant, services: AppServices) -> None:
    mine = create_property(tenant, "Mine")
    other = create_property(tenant, "Other")
    limited_admin = tenant.key_with(Scope.ADMIN, property_ids=[mine["id"]])
    keys_before = count_rows(services, "api_keys")
    assert_error(limited_admin.post("/v1/api-keys", {"name": "x", "scopes": ["read"]}), 403, "forbidden")
    body = {"name": "x", "scopes": ["read"], "property_ids": [other["id"]]}
    assert_error(limited_admin.post("/v1/api-keys", body), 403, "forbidden")
    assert count_rows(services, "api_keys") == keys_before
    narrowed = limited_admin.post("/v1/api-keys", {"name": "x", "scopes": ["read"], "property_ids": [mine["id"]]})
    assert ok(narrowed, 201)["property_ids"] == [mine["id"]]


def test_unknown_or_foreign_property_ids_are_refused(
    tenant: Tenant, other_tenant: Tenant, services: AppServices
) -> None:
    mine = create_property(tenant)
    foreign = create_property(other_tenant)
    before = db_state(services)
    for property_ids in (["prop_00000000000000000000000000"], [mine["id"], foreign["id"]]):
        response = tenant.post("/v1/api-keys", {"name": "x", "scopes": ["read"], "property_ids": property_ids})
        assert_error(response, 422, "validation_error", field="property_ids")
    assert db_state(services) == before


def test_invalid_key_bodies_are_validation_errors(tenant: Tenant, services: AppServices) -> None:
    before = db_state(services)
    for body, field in (
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["superuser"]}, "scopes.0"),
        ({"name": "", "scopes": ["read"]}, "name"),
        ({"scopes": ["read"]}, "name"),
        ({"name": "x", "scopes": ["read"], "expires": "never"}, "expires"),
        ({"name": "x", "scopes": ["read"], "property_ids": ["not an id"]}, "property_ids.0"),
    ):
        assert_error(tenant.post("/v1/api-keys", body), 422, "validation_error", field=field)
    assert db_state(services) == before


def test_api_keys_list_pages(tenant: Tenant) -> None:
    created = {ok(tenant.post("/v1/api-keys", {"name": f"k{i}", "scopes": ["read"]}), 201)["id"] for i in range(4)}
    ids = [k["id"] for k in walk(tenant, "/v1/api-keys", limit=2)]
    assert len(ids) == len(set(ids)) == 5
    assert created < set(ids)
