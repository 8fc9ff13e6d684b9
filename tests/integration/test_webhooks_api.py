"""/v1/webhooks: subscriptions are admin-only, tenant-scoped, validated, and their secret is shown once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, LargeBinary, String, Text, inspect, select, text

from doorpin.adapters.db.event_models import WebhookDelivery
from doorpin.bootstrap import AppServices
from doorpin.domain.scopes import Scope
from tests.support.api import Tenant
from tests.support.resources import assert_error, count_rows, create_property, db_state, ok, walk
from tests.support.webhooks import emit_event, subscribe

URL = "https://pms.example/hooks/doorpin?account=7"


def create(tenant: Tenant, **body: Any) -> Any:
    return tenant.post("/v1/webhooks", {"url": URL, "events": ["reservation.pin_changed"], **body})


def test_creation_shows_a_generated_secret_once(tenant: Tenant) -> None:
    created = ok(create(tenant, description="PMS production"), 201)
    assert set(created) == {
        "id",
        "url",
        "description",
        "events",
        "status",
        "created_at",
        "updated_at",
        "failing_since",
        "disabled_at",
        "disabled_reason",
        "secret",
    }
    assert created["id"].startswith("wh_")
    assert created["url"] == URL
    assert created["events"] == ["reservation.pin_changed"]
    assert created["description"] == "PMS production"
    assert (created["status"], created["failing_since"], created["disabled_at"]) == ("active", None, None)
    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert len(secret) >= 6 + 43

    shown = ok(tenant.get(f"/v1/webhooks/{created['id']}"))
    listed = tenant.get("/v1/webhooks")
    assert "secret" not in shown
    assert [w["id"] for w in ok(listed)["data"]] == [created["id"]]
    assert secret not in listed.text
    assert {k: v for k, v in created.items() if k != "secret"} == shown


def test_a_given_secret_is_kept(tenant: Tenant) -> None:
    created = ok(create(tenant, secret="my-own-secret-of-24-chars"), 201)
    assert created["secret"] == "my-own-secret-of-24-chars"


def _hits(services: AppServices, needle: str) -> list[tuple[str, str]]:
    """Every (table, column) whose text, JSON or bytes contain `needle`."""
    hits = []
    inspector = inspect(services.db.engine)
    with services.db.engine.connect() as connection:
        for table in inspector.get_table_names():
            for column in inspector.get_columns(table):
                name = column["name"]
                if isinstance(column["type"], LargeBinary):
                    values = connection.execute(text(f'SELECT "{name}" FROM "{table}"')).scalars()
                    found = any(needle.encode() in bytes(value or b"") for value in values)
                elif isinstance(column["type"], String | Text | JSON):
                    query = text(f'SELECT count(*) FROM "{table}" WHERE CAST("{name}" AS TEXT) LIKE :pattern')
                    found = bool(connection.execute(query, {"pattern": f"%{needle}%"}).scalar_one())
                else:
                    continue
                if found:
                    hits.append((table, name))
    return hits


def test_the_secret_is_not_stored_in_clear(tenant: Tenant, services: AppServices) -> None:
    generated = ok(create(tenant, description="Zebulon marker"), 201)
    given = ok(create(tenant, secret="given-secret-zq8vX2mK4pLw"), 201)
    headers = {"Idempotency-Key": "wh-1"}
    stored = ok(tenant.post("/v1/webhooks", {"url": URL, "events": ["*"]}, headers=headers), 201)
    replayed = ok(tenant.post("/v1/webhooks", {"url": URL, "events": ["*"]}, headers=headers), 201)
    assert replayed["secret"] == stored["secret"]
    assert tenant.delete(f"/v1/webhooks/{given['id']}").status_code == 204
    assert count_rows(services, "idempotency_records") == 1
    assert count_rows(services, "audit_events") == 4
    # The search looks where the data is: the description is stored in clear, the secrets are not.
    assert _hits(services, "Zebulon marker") == [("webhook_subscriptions", "description")]
    for secret in (generated["secret"], given["secret"], stored["secret"]):
        assert _hits(services, secret) == [], secret
        assert _hits(services, secret[-12:]) == [], secret


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_sqlite_files_never_hold_a_secret(tenant: Tenant, services: AppServices, backend: str) -> None:
    secrets = [ok(create(tenant), 201)["secret"] for _ in range(3)]
    database = services.db.engine.url.database
    assert database is not None
    main = Path(database)
    for path in [main, main.with_name(main.name + "-wal")]:
        if path.exists():
            data = path.read_bytes()
            assert all(secret[-20:].encode() not in data for secret in secrets), path.name


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://pms.example/hooks"}, "url"),
        ({"url": "https://user:pass@pms.example/hooks"}, "url"),
        ({"url": "https://token@pms.example/hooks"}, "url"),
        ({"url": "https://pms.example/" + "a" * 2000}, "url"),
        ({"url": "https:///no-host"}, "url"),
        ({"url": "https://pms.example:99999/"}, "url"),
        ({"url": "https://[not-ipv6]/"}, "url"),
        ({"url": "https://pms example/"}, "url"),
        ({"url": "https://pms.exämple/"}, "url"),
        ({"url": "pms.example/hooks"}, "url"),
        ({"events": []}, "events"),
        ({"events": ["reservation.created"]}, "events"),
        ({"events": ["access.granted", "nope.*"]}, "events"),
        ({"events": ["**"]}, "events"),
        ({"secret": "too-short"}, "secret"),
        ({"secret": "has spaces in the secret"}, "secret"),
        ({"secret": "x" * 201}, "secret"),
        ({"description": "d" * 501}, "description"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_invalid_subscriptions_are_refused(
    tenant: Tenant, services: AppServices, body: dict[str, Any], field: str
) -> None:
    before = db_state(services)
    full = {"url": URL, "events": ["*"], **body}
    error = assert_error(tenant.post("/v1/webhooks", full), 422, "validation_error")
    assert error["field"].split(".")[0] == field, error
    assert db_state(services) == before


def test_event_patterns_are_accepted_and_deduplicated(tenant: Tenant) -> None:
    created = ok(create(tenant, events=["access.*", "*", "alert.raised", "access.*"]), 201)
    assert created["events"] == ["access.*", "*", "alert.raised"]
    assert ok(create(tenant, url="http://127.0.0.1:9000/x", events=["access_code.*"]), 201)["url"]
    assert ok(create(tenant, url="http://[::1]:9000/x"), 201)["url"] == "http://[::1]:9000/x"


@pytest.mark.parametrize("scope", [Scope.READ, Scope.WRITE, Scope.PINS, Scope.DOOR_PROVIDER])
def test_only_admin_keys_manage_webhooks(tenant: Tenant, scope: Scope) -> None:
    existing = ok(create(tenant), 201)["id"]
    other = tenant.key_with(scope)
    assert_error(create(other), 403, "forbidden")
    assert_error(other.get("/v1/webhooks"), 403, "forbidden")
    assert_error(other.get(f"/v1/webhooks/{existing}"), 403, "forbidden")
    assert_error(other.get(f"/v1/webhooks/{existing}/deliveries"), 403, "forbidden")
    assert_error(other.post(f"/v1/webhooks/{existing}/enable"), 403, "forbidden")
    assert_error(other.delete(f"/v1/webhooks/{existing}"), 403, "forbidden")
    assert ok(tenant.get(f"/v1/webhooks/{existing}"))["status"] == "active"


def test_an_admin_key_limited_to_some_properties_cannot_subscribe(tenant: Tenant) -> None:
    prop = create_property(tenant)
    limited = tenant.key_with(Scope.ADMIN, property_ids=[prop["id"]])
    assert_error(create(limited), 403, "forbidden")
    assert_error(limited.get("/v1/webhooks"), 403, "forbidden")


def test_another_accounts_webhooks_do_not_exist(tenant: Tenant, other_tenant: Tenant) -> None:
    mine = ok(create(tenant), 201)["id"]
    assert ok(other_tenant.get("/v1/webhooks"))["data"] == []
    for response in (
        other_tenant.get(f"/v1/webhooks/{mine}"),
        other_tenant.get(f"/v1/webhooks/{mine}/deliveries"),
        other_tenant.post(f"/v1/webhooks/{mine}/enable"),
        other_tenant.delete(f"/v1/webhooks/{mine}"),
    ):
        assert_error(response, 404, "not_found")
    assert ok(tenant.get(f"/v1/webhooks/{mine}"))["status"] == "active"


def test_list_paginates_and_deleted_ones_are_gone(tenant: Tenant, services: AppServices) -> None:
    ids = [ok(create(tenant), 201)["id"] for _ in range(5)]
    assert [w["id"] for w in walk(tenant, "/v1/webhooks", 2)] == ids
    deleted = tenant.delete(f"/v1/webhooks/{ids[1]}")
    assert deleted.status_code == 204, deleted.text
    assert deleted.content == b""
    assert [w["id"] for w in walk(tenant, "/v1/webhooks", 2)] == [ids[0], *ids[2:]]
    assert_error(tenant.get(f"/v1/webhooks/{ids[1]}"), 404, "not_found")
    assert_error(tenant.delete(f"/v1/webhooks/{ids[1]}"), 404, "not_found")
    assert_error(tenant.get(f"/v1/webhooks/{ids[1]}/deliveries"), 404, "not_found")
    assert_error(tenant.get("/v1/webhooks/wh_nope"), 404, "not_found")
    trail = ok(tenant.get("/v1/events?type=audit.webhook&limit=50"))["data"]
    assert sorted(e["type"] for e in trail) == ["audit.webhook.created"] * 5 + ["audit.webhook.deleted"]
    assert all(e["subject"]["type"] == "webhook" for e in trail)
    assert all("secret" not in str(e["data"]) and "/hooks/" not in str(e["data"]) for e in trail)
    assert {e["data"]["url_host"] for e in trail} == {"pms.example"}


def test_deleting_cancels_pending_deliveries(tenant: Tenant, services: AppServices) -> None:
    doomed = subscribe(tenant, URL)
    kept = subscribe(tenant, URL)
    for _ in range(3):
        emit_event(services, tenant.account_id)
    assert tenant.delete(f"/v1/webhooks/{doomed['id']}").status_code == 204
    with services.db.reader() as session:
        rows = session.execute(select(WebhookDelivery.subscription_id, WebhookDelivery.status)).all()
    assert sorted(rows) == sorted([(doomed["id"], "canceled")] * 3 + [(kept["id"], "pending")] * 3)
    assert emit_event(services, tenant.account_id) is not None
    assert count_rows(services, "webhook_deliveries") == 7  # the deleted one is not queued again


def test_idempotent_creation_replays_the_same_subscription(tenant: Tenant, services: AppServices) -> None:
    headers = {"Idempotency-Key": "pms-webhook-1"}
    body = {"url": URL, "events": ["access.*"]}
    first = ok(tenant.post("/v1/webhooks", body, headers=headers), 201)
    again = tenant.post("/v1/webhooks", body, headers=headers)
    assert again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first
    assert count_rows(services, "webhook_subscriptions") == 1
    changed = tenant.post("/v1/webhooks", {**body, "events": ["*"]}, headers=headers)
    assert_error(changed, 409, "idempotency_key_reused")
    assert count_rows(services, "webhook_subscriptions") == 1


def test_enabling_an_active_subscription_changes_nothing(tenant: Tenant) -> None:
    created = ok(create(tenant), 201)
    enabled = ok(tenant.post(f"/v1/webhooks/{created['id']}/enable"))
    assert enabled == {k: v for k, v in created.items() if k != "secret"}
