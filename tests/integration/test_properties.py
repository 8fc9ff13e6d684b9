"""/v1/properties: defaults, nested merges on PATCH, time zones and policy validation."""

from __future__ import annotations

from typing import Any

import pytest

from doorpin.bootstrap import AppServices
from tests.support.api import Tenant
from tests.support.clock import FakeClock
from tests.support.resources import assert_error, create_property, db_state, ok


def test_create_answers_201_with_documented_defaults(tenant: Tenant) -> None:
    response = tenant.post("/v1/properties", {"name": "Alfama", "timezone": "Europe/Lisbon"})
    prop = ok(response, 201)
    assert prop["id"].startswith("prop_")
    assert prop["name"] == "Alfama"
    assert prop["timezone"] == "Europe/Lisbon"
    assert prop["door_provider"] == "keypad"
    assert (prop["check_in_time"], prop["check_out_time"]) == ("15:00", "11:00")
    policy = prop["code_policy"]
    assert policy["length"] == 6
    assert policy["pin_scope"] == "reservation"
    assert policy["reuse_cooldown_hours"] == 72
    assert policy["weak_pins"] == "reject"
    assert {"activate_before_minutes", "expire_after_minutes"} <= set(policy)
    assert prop["delivery"]["send_before_hours"] == 48
    assert set(prop["delivery"]["channels"]) <= {"email", "sms", "whatsapp"}
    assert "language" in prop["delivery"]
    assert ok(tenant.get(f"/v1/properties/{prop['id']}")) == prop


def test_offline_pin_defaults_to_unit_scoped_pins(tenant: Tenant) -> None:
    prop = create_property(tenant, door_provider="offline_pin")
    assert prop["code_policy"]["pin_scope"] == "unit"
    assert prop["code_policy"]["length"] == 6
    explicit = create_property(tenant, door_provider="offline_pin", code_policy={"pin_scope": "reservation"})
    assert explicit["code_policy"]["pin_scope"] == "reservation"
    for provider in ("keypad", "timecode", "ttlock"):
        assert create_property(tenant, door_provider=provider)["code_policy"]["pin_scope"] == "reservation"


def test_create_keeps_given_settings_and_fills_the_rest(tenant: Tenant) -> None:
    prop = create_property(
        tenant,
        check_in_time="16:30",
        check_out_time="10:00",
        code_policy={"length": 8, "weak_pins": "warn"},
        delivery={"channels": ["sms", "email"], "language": "pt-PT"},
    )
    assert (prop["check_in_time"], prop["check_out_time"]) == ("16:30", "10:00")
    assert prop["code_policy"]["length"] == 8
    assert prop["code_policy"]["weak_pins"] == "warn"
    assert prop["code_policy"]["reuse_cooldown_hours"] == 72
    assert prop["delivery"]["channels"] == ["sms", "email"]
    assert prop["delivery"]["send_before_hours"] == 48


def test_patch_merges_nested_settings(tenant: Tenant, clock: FakeClock) -> None:
    prop = create_property(tenant, code_policy={"length": 7}, delivery={"send_before_hours": 24})
    clock.advance(hours=1)
    patched = ok(tenant.patch(f"/v1/properties/{prop['id']}", {"code_policy": {"reuse_cooldown_hours": 12}}))
    assert patched["code_policy"] == {**prop["code_policy"], "reuse_cooldown_hours": 12}
    assert patched["delivery"] == prop["delivery"]
    assert patched["updated_at"] != prop["updated_at"]
    assert patched["created_at"] == prop["created_at"]
    patched = ok(tenant.patch(f"/v1/properties/{prop['id']}", {"delivery": {"channels": ["whatsapp"]}}))
    assert patched["delivery"] == {**prop["delivery"], "channels": ["whatsapp"]}
    assert patched["code_policy"]["length"] == 7
    assert patched["code_policy"]["reuse_cooldown_hours"] == 12
    renamed = ok(tenant.patch(f"/v1/properties/{prop['id']}", {"name": "Baixa", "check_in_time": "14:00"}))
    assert (renamed["name"], renamed["check_in_time"]) == ("Baixa", "14:00")
    assert renamed["code_policy"] == patched["code_policy"]
    assert ok(tenant.get(f"/v1/properties/{prop['id']}")) == renamed


def test_patch_with_null_leaves_fields_alone(tenant: Tenant) -> None:
    prop = create_property(tenant)
    body = {"check_in_time": None, "check_out_time": None, "name": None, "code_policy": None}
    patched = ok(tenant.patch(f"/v1/properties/{prop['id']}", body))
    for field in ("name", "timezone", "check_in_time", "check_out_time", "code_policy", "delivery"):
        assert patched[field] == prop[field]


@pytest.mark.parametrize("zone", ["Mars/Olympus", "Europe/Berlln", "", "../etc/passwd", "Europe", "localtime"])
def test_unknown_time_zone_is_invalid_timezone(tenant: Tenant, services: AppServices, zone: str) -> None:
    prop = create_property(tenant, timezone="Europe/Berlin")
    before = db_state(services)
    assert_error(tenant.post("/v1/properties", {"name": "X", "timezone": zone}), 422, "invalid_timezone", "timezone")
    patch = tenant.patch(f"/v1/properties/{prop['id']}", {"timezone": zone})
    assert_error(patch, 422, "invalid_timezone", "timezone")
    assert db_state(services) == before
    assert ok(tenant.get(f"/v1/properties/{prop['id']}"))["timezone"] == "Europe/Berlin"


def test_timezone_can_be_changed(tenant: Tenant) -> None:
    prop = create_property(tenant, timezone="Europe/Berlin")
    patched = ok(tenant.patch(f"/v1/properties/{prop['id']}", {"timezone": "America/New_York"}))
    assert patched["timezone"] == "America/New_York"
    assert patched["updated_at"].endswith(("-04:00", "-05:00"))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code_policy": {"length": 3}}, "code_policy.length"),
        ({"code_policy": {"length": 9}}, "code_policy.length"),
        ({"code_policy": {"length": 6.5}}, "code_policy.length"),
        ({"code_policy": {"reuse_cooldown_hours": -1}}, "code_policy.reuse_cooldown_hours"),
        ({"code_policy": {"reuse_cooldown_hours": 8761}}, "code_policy.reuse_cooldown_hours"),
        ({"code_policy": {"pin_scope": "building"}}, "code_policy.pin_scope"),
        ({"code_policy": {"weak_pins": "allow"}}, "code_policy.weak_pins"),
        ({"code_policy": {"activate_before_minutes": 1441}}, "code_policy.activate_before_minutes"),
        ({"code_policy": {"expire_after_minutes": -5}}, "code_policy.expire_after_minutes"),
        ({"delivery": {"send_before_hours": -1}}, "delivery.send_before_hours"),
        ({"delivery": {"send_before_hours": 100000}}, "delivery.send_before_hours"),
        ({"delivery": {"channels": ["pigeon"]}}, "delivery.channels.0"),
        ({"delivery": {"language": "not a language"}}, "delivery.language"),
        ({"check_in_time": "25:00"}, "check_in_time"),
        ({"check_out_time": "11h"}, "check_out_time"),
        ({"check_in_time": "٠٣:٠٠"}, "check_in_time"),
        ({"door_provider": "august"}, "door_provider"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
    ],
)
def test_out_of_range_settings_are_refused(
    tenant: Tenant, services: AppServices, clock: FakeClock, body: dict[str, Any], field: str
) -> None:
    prop = create_property(tenant)
    before = db_state(services)
    clock.advance(minutes=5)
    assert_error(
        tenant.post("/v1/properties", {"name": "X", "timezone": "UTC", **body}), 422, "validation_error", field
    )
    assert_error(tenant.patch(f"/v1/properties/{prop['id']}", body), 422, "validation_error", field)
    assert db_state(services) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"colour": "blue"}, "colour"),
        ({"code_policy": {"lenght": 6}}, "code_policy.lenght"),
        ({"delivery": {"channel": "sms"}}, "delivery.channel"),
        ({"id": "prop_00000000000000000000000000"}, "id"),
    ],
)
def test_unknown_fields_are_named(tenant: Tenant, services: AppServices, body: dict[str, Any], field: str) -> None:
    prop = create_property(tenant)
    before = db_state(services)
    error = assert_error(
        tenant.post("/v1/properties", {"name": "X", "timezone": "UTC", **body}), 422, "validation_error", field
    )
    assert field.rsplit(".", 1)[-1] in error["message"]
    assert_error(tenant.patch(f"/v1/properties/{prop['id']}", body), 422, "validation_error", field)
    assert db_state(services) == before


def test_required_fields(tenant: Tenant, services: AppServices) -> None:
    before = db_state(services)
    assert_error(tenant.post("/v1/properties", {"timezone": "UTC"}), 422, "validation_error", "name")
    assert_error(tenant.post("/v1/properties", {"name": "X"}), 422, "validation_error", "timezone")
    assert db_state(services) == before


def test_get_and_patch_unknown_property(tenant: Tenant) -> None:
    missing = "prop_00000000000000000000000000"
    assert_error(tenant.get(f"/v1/properties/{missing}"), 404, "not_found")
    assert_error(tenant.patch(f"/v1/properties/{missing}", {"name": "x"}), 404, "not_found")
    assert_error(tenant.get("/v1/properties/not-even-an-id"), 404, "not_found")


def test_list_shape(tenant: Tenant) -> None:
    assert ok(tenant.get("/v1/properties")) == {"data": [], "next_cursor": None}
    a = create_property(tenant, "A")
    b = create_property(tenant, "B")
    page = ok(tenant.get("/v1/properties"))
    assert page["next_cursor"] is None
    assert sorted(page["data"], key=lambda p: p["id"]) == sorted([a, b], key=lambda p: p["id"])
