"""/v1/alerts: listed by status, property and kind; closed by an operator, with an audit row."""

from __future__ import annotations

from typing import Any

from doorpin.bootstrap import AppServices
from doorpin.domain.scopes import Scope
from doorpin.services.alerts import raise_alert
from tests.support.api import Tenant
from tests.support.clock import FakeClock
from tests.support.resources import assert_error, create_property, ok, walk


def _raise(services: AppServices, tenant: Tenant, property_id: str | None, kind: str, key: str) -> None:
    with services.db.transaction() as session:
        raise_alert(
            session,
            account_id=tenant.account_id,
            at=services.clock.now(),
            kind=kind,
            severity="warning",
            message=f"{kind} on {key}",
            dedupe_key=f"{kind}:{key}",
            property_id=property_id,
            subject_type="lock",
            subject_id=key,
        )


def _kinds(page: Any) -> list[str]:
    return [alert["kind"] for alert in page["data"]]


def test_open_alerts_are_listed_and_repeats_counted(services: AppServices, tenant: Tenant) -> None:
    prop = create_property(tenant)
    _raise(services, tenant, prop["id"], "repeated_wrong_codes", "lock_1")
    _raise(services, tenant, prop["id"], "repeated_wrong_codes", "lock_1")
    _raise(services, tenant, prop["id"], "lock_unreachable", "lock_2")

    alerts = walk(tenant, "/v1/alerts", 1)
    assert [(a["kind"], a["occurrences"], a["subject"]) for a in alerts] == [
        ("repeated_wrong_codes", 2, {"type": "lock", "id": "lock_1"}),
        ("lock_unreachable", 1, {"type": "lock", "id": "lock_2"}),
    ]
    assert alerts[0]["closed_at"] is None
    assert ok(tenant.get(f"/v1/alerts/{alerts[1]['id']}")) == alerts[1]
    assert _kinds(ok(tenant.get("/v1/alerts?kind=lock_unreachable"))) == ["lock_unreachable"]


def test_an_operator_closes_an_alert_and_the_audit_trail_says_who(
    services: AppServices, tenant: Tenant, clock: FakeClock
) -> None:
    prop = create_property(tenant)
    _raise(services, tenant, prop["id"], "revoked_code_tried", "lock_1")
    alert_id = ok(tenant.get("/v1/alerts"))["data"][0]["id"]
    operator = tenant.key_with(Scope.WRITE)
    clock.advance(minutes=5)

    closed = ok(operator.post(f"/v1/alerts/{alert_id}/close", {"note": "called the guest; wrong flat"}))
    assert closed["closed_at"] is not None
    assert ok(tenant.get("/v1/alerts"))["data"] == []
    assert [a["id"] for a in ok(tenant.get("/v1/alerts?status=closed"))["data"]] == [alert_id]
    again = ok(operator.post(f"/v1/alerts/{alert_id}/close"))
    assert again["closed_at"] == closed["closed_at"]  # closing twice changes nothing

    audit = ok(tenant.get("/v1/events?type=audit.alert.closed"))["data"]
    assert len(audit) == 1
    assert audit[0]["subject"] == {"type": "alert", "id": alert_id}
    assert audit[0]["data"] == {"kind": "revoked_code_tried", "note": "called the guest; wrong flat"}
    operator_key = [k for k in ok(tenant.get("/v1/api-keys"))["data"] if "write" in k["scopes"]]
    assert audit[0]["actor_key_id"] == operator_key[0]["id"]

    # The condition coming back after closing is a new alert, not a reopened one.
    _raise(services, tenant, prop["id"], "revoked_code_tried", "lock_1")
    reopened = ok(tenant.get("/v1/alerts"))["data"]
    assert len(reopened) == 1
    assert reopened[0]["id"] != alert_id


def test_scopes_properties_and_tenants_are_respected(
    services: AppServices, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine, theirs = create_property(tenant, "Mine"), create_property(tenant, "Theirs")
    _raise(services, tenant, mine["id"], "lock_unreachable", "lock_1")
    _raise(services, tenant, theirs["id"], "lock_unreachable", "lock_2")
    _raise(services, tenant, None, "webhook_disabled", "wh_1")  # account-wide

    assert len(ok(tenant.get("/v1/alerts"))["data"]) == 3
    limited = tenant.key_with(Scope.WRITE, property_ids=[mine["id"]])
    seen = ok(limited.get("/v1/alerts"))["data"]
    assert [a["property_id"] for a in seen] == [mine["id"]]
    hidden = next(a for a in ok(tenant.get("/v1/alerts"))["data"] if a["property_id"] == theirs["id"])
    assert_error(limited.get(f"/v1/alerts/{hidden['id']}"), 404, "not_found")
    assert_error(limited.post(f"/v1/alerts/{hidden['id']}/close"), 404, "not_found")

    reader = tenant.key_with(Scope.READ)
    assert_error(reader.post(f"/v1/alerts/{seen[0]['id']}/close"), 403, "forbidden")
    assert ok(other_tenant.get("/v1/alerts"))["data"] == []
    assert_error(other_tenant.get(f"/v1/alerts/{seen[0]['id']}"), 404, "not_found")
    assert_error(tenant.get("/v1/alerts?status=everything"), 422, "validation_error")
