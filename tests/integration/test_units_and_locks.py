"""Units and locks: which doors each unit opens, common doors, capabilities."""

from __future__ import annotations

from typing import Any

import pytest

from doorpin.bootstrap import AppServices
from doorpin.domain.scopes import Scope
from tests.support.api import Tenant
from tests.support.clock import FakeClock
from tests.support.resources import assert_error, create_lock, create_property, create_unit, db_state, ok


def test_units_and_locks_endpoints_answer_documented_statuses(tenant: Tenant, clock: FakeClock) -> None:
    prop = create_property(tenant, timezone="Asia/Tokyo")
    lock_response = tenant.post(f"/v1/properties/{prop['id']}/locks", {"name": "Entrance"})
    lock = ok(lock_response, 201)
    assert lock["id"].startswith("lock_")
    assert lock["property_id"] == prop["id"]
    assert lock["name"] == "Entrance"
    assert lock["provider"] == "keypad"  # the property's door provider
    assert lock["unit_ids"] == []
    assert set(lock["health"]) >= {"status"}
    assert lock["created_at"].endswith("+09:00")

    unit = ok(tenant.post(f"/v1/properties/{prop['id']}/units", {"name": "101", "lock_ids": [lock["id"]]}), 201)
    assert unit["id"].startswith("unit_")
    assert (unit["property_id"], unit["name"], unit["lock_ids"]) == (prop["id"], "101", [lock["id"]])
    assert unit["created_at"].endswith("+09:00")

    assert ok(tenant.get(f"/v1/units/{unit['id']}")) == unit
    assert ok(tenant.get(f"/v1/locks/{lock['id']}"))["unit_ids"] == [unit["id"]]
    assert ok(tenant.get(f"/v1/properties/{prop['id']}/units")) == {"data": [unit], "next_cursor": None}
    listed_locks = ok(tenant.get(f"/v1/properties/{prop['id']}/locks"))
    assert [item["id"] for item in listed_locks["data"]] == [lock["id"]]
    assert listed_locks["next_cursor"] is None

    clock.advance(minutes=3)
    renamed_unit = ok(tenant.patch(f"/v1/units/{unit['id']}", {"name": "102"}))
    assert renamed_unit["name"] == "102"
    assert renamed_unit["lock_ids"] == [lock["id"]]
    assert renamed_unit["updated_at"] != unit["updated_at"]
    renamed_lock = ok(tenant.patch(f"/v1/locks/{lock['id']}", {"name": "Main entrance"}))
    assert renamed_lock["name"] == "Main entrance"
    assert renamed_lock["unit_ids"] == [unit["id"]]
    assert ok(tenant.get(f"/v1/locks/{lock['id']}"))["name"] == "Main entrance"


def test_a_lock_with_no_units_is_a_common_door(tenant: Tenant) -> None:
    prop = create_property(tenant)
    entrance = create_lock(tenant, prop["id"], "Entrance")
    room = create_lock(tenant, prop["id"], "Room door")
    unit = create_unit(tenant, prop["id"], lock_ids=[room["id"]])
    assert ok(tenant.get(f"/v1/locks/{entrance['id']}"))["unit_ids"] == []
    assert ok(tenant.get(f"/v1/locks/{room['id']}"))["unit_ids"] == [unit["id"]]
    # Unlinking the last unit turns a lock back into a common door.
    assert ok(tenant.patch(f"/v1/units/{unit['id']}", {"lock_ids": []}))["lock_ids"] == []
    assert ok(tenant.get(f"/v1/locks/{room['id']}"))["unit_ids"] == []


def test_links_made_on_either_side_show_on_both(tenant: Tenant) -> None:
    prop = create_property(tenant)
    unit_a = create_unit(tenant, prop["id"], "A")
    unit_b = create_unit(tenant, prop["id"], "B")
    lock_1 = create_lock(tenant, prop["id"], "1")
    lock_2 = create_lock(tenant, prop["id"], "2")

    # Unit side: link two locks, then drop one.
    assert sorted(
        ok(tenant.patch(f"/v1/units/{unit_a['id']}", {"lock_ids": [lock_1["id"], lock_2["id"]]}))["lock_ids"]
    ) == sorted([lock_1["id"], lock_2["id"]])
    assert ok(tenant.get(f"/v1/locks/{lock_1['id']}"))["unit_ids"] == [unit_a["id"]]
    assert ok(tenant.get(f"/v1/locks/{lock_2['id']}"))["unit_ids"] == [unit_a["id"]]
    assert ok(tenant.patch(f"/v1/units/{unit_a['id']}", {"lock_ids": [lock_2["id"]]}))["lock_ids"] == [lock_2["id"]]
    assert ok(tenant.get(f"/v1/locks/{lock_1['id']}"))["unit_ids"] == []

    # Lock side: add unit B to lock 2 (keeping A), and it shows on unit B.
    patched = ok(tenant.patch(f"/v1/locks/{lock_2['id']}", {"unit_ids": [unit_a["id"], unit_b["id"]]}))
    assert sorted(patched["unit_ids"]) == sorted([unit_a["id"], unit_b["id"]])
    assert ok(tenant.get(f"/v1/units/{unit_b['id']}"))["lock_ids"] == [lock_2["id"]]
    assert ok(tenant.get(f"/v1/units/{unit_a['id']}"))["lock_ids"] == [lock_2["id"]]

    # A lock created with unit_ids links at once; duplicates collapse.
    lock_3 = create_lock(tenant, prop["id"], "3", unit_ids=[unit_b["id"], unit_b["id"]])
    assert lock_3["unit_ids"] == [unit_b["id"]]
    assert sorted(ok(tenant.get(f"/v1/units/{unit_b['id']}"))["lock_ids"]) == sorted([lock_2["id"], lock_3["id"]])


def test_doors_of_another_property_cannot_be_linked(tenant: Tenant, services: AppServices, clock: FakeClock) -> None:
    prop = create_property(tenant, "Here")
    elsewhere = create_property(tenant, "Elsewhere")
    here_unit = create_unit(tenant, prop["id"])
    here_lock = create_lock(tenant, prop["id"])
    far_lock = create_lock(tenant, elsewhere["id"])
    far_unit = create_unit(tenant, elsewhere["id"])
    before = db_state(services)
    clock.advance(minutes=1)
    attempts = [
        (tenant.post(f"/v1/properties/{prop['id']}/units", {"name": "U", "lock_ids": [far_lock["id"]]}), "lock_ids"),
        (tenant.post(f"/v1/properties/{prop['id']}/locks", {"name": "L", "unit_ids": [far_unit["id"]]}), "unit_ids"),
        (tenant.patch(f"/v1/units/{here_unit['id']}", {"lock_ids": [here_lock["id"], far_lock["id"]]}), "lock_ids"),
        (tenant.patch(f"/v1/locks/{here_lock['id']}", {"unit_ids": [far_unit["id"]]}), "unit_ids"),
        (tenant.patch(f"/v1/units/{here_unit['id']}", {"lock_ids": ["lock_00000000000000000000000000"]}), "lock_ids"),
        (tenant.patch(f"/v1/units/{here_unit['id']}", {"lock_ids": ["not-an-id"]}), "lock_ids.0"),
    ]
    for response, field in attempts:
        assert_error(response, 422, "validation_error", field)
    assert db_state(services) == before


def test_capability_defaults(tenant: Tenant) -> None:
    prop = create_property(tenant)
    keypad = create_lock(tenant, prop["id"])
    caps = keypad["capabilities"]
    assert set(caps) >= {"code_lengths", "max_codes", "native_scheduling", "unique_prefix_len", "offline"}
    assert 6 in caps["code_lengths"]  # the default PIN length fits
    assert caps["max_codes"] >= 1
    assert caps["unique_prefix_len"] is None
    assert caps["offline"] is False
    timecode = create_lock(tenant, prop["id"], provider="timecode")
    assert timecode["provider"] == "timecode"
    assert timecode["capabilities"]["offline"] is True
    offline_prop = create_property(tenant, door_provider="offline_pin")
    assert create_lock(tenant, offline_prop["id"])["provider"] == "offline_pin"


def test_capabilities_are_kept_and_merged(tenant: Tenant) -> None:
    prop = create_property(tenant)
    lock = create_lock(
        tenant, prop["id"], capabilities={"code_lengths": [4, 6], "max_codes": 20, "unique_prefix_len": 4}
    )
    assert lock["capabilities"]["code_lengths"] == [4, 6]
    assert (lock["capabilities"]["max_codes"], lock["capabilities"]["unique_prefix_len"]) == (20, 4)
    assert lock["capabilities"]["native_scheduling"] is False
    patched = ok(tenant.patch(f"/v1/locks/{lock['id']}", {"capabilities": {"native_scheduling": True}}))
    assert patched["capabilities"] == {**lock["capabilities"], "native_scheduling": True}
    assert ok(tenant.get(f"/v1/locks/{lock['id']}"))["capabilities"] == patched["capabilities"]


@pytest.mark.parametrize(
    ("capabilities", "field"),
    [
        ({"code_lengths": []}, "capabilities.code_lengths"),
        ({"code_lengths": [-1]}, "capabilities.code_lengths.0"),
        ({"code_lengths": [6, 0]}, "capabilities.code_lengths.1"),
        ({"code_lengths": [99]}, "capabilities.code_lengths.0"),
        ({"code_lengths": "6"}, "capabilities.code_lengths"),
        ({"max_codes": 0}, "capabilities.max_codes"),
        ({"unique_prefix_len": 0}, "capabilities.unique_prefix_len"),
        ({"unique_prefix_len": 9}, "capabilities.unique_prefix_len"),
        ({"native_scheduling": "sometimes"}, "capabilities.native_scheduling"),
        ({"slots": 5}, "capabilities.slots"),
    ],
)
def test_invalid_capabilities_are_refused(
    tenant: Tenant, services: AppServices, capabilities: dict[str, Any], field: str
) -> None:
    prop = create_property(tenant)
    lock = create_lock(tenant, prop["id"])
    before = db_state(services)
    create = tenant.post(f"/v1/properties/{prop['id']}/locks", {"name": "L", "capabilities": capabilities})
    assert_error(create, 422, "validation_error", field)
    assert_error(
        tenant.patch(f"/v1/locks/{lock['id']}", {"capabilities": capabilities}), 422, "validation_error", field
    )
    assert db_state(services) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "L", "provider": "august"}, "provider"),
        ({"name": "L", "colour": "red"}, "colour"),
    ],
)
def test_invalid_lock_bodies(tenant: Tenant, services: AppServices, body: dict[str, Any], field: str) -> None:
    prop = create_property(tenant)
    before = db_state(services)
    assert_error(tenant.post(f"/v1/properties/{prop['id']}/locks", body), 422, "validation_error", field)
    unit_body = {k: v for k, v in body.items() if k != "provider"}
    if unit_body != {"name": "L"}:
        assert_error(tenant.post(f"/v1/properties/{prop['id']}/units", unit_body), 422, "validation_error", field)
    assert db_state(services) == before


def test_unknown_units_and_locks_are_not_found(tenant: Tenant) -> None:
    for path in ("/v1/units/unit_00000000000000000000000000", "/v1/locks/lock_00000000000000000000000000"):
        assert_error(tenant.get(path), 404, "not_found")
        assert_error(tenant.patch(path, {"name": "x"}), 404, "not_found")
    missing = "prop_00000000000000000000000000"
    assert_error(tenant.get(f"/v1/properties/{missing}/units"), 404, "not_found")
    assert_error(tenant.get(f"/v1/properties/{missing}/locks"), 404, "not_found")
    assert_error(tenant.post(f"/v1/properties/{missing}/units", {"name": "U"}), 404, "not_found")
    assert_error(tenant.post(f"/v1/properties/{missing}/locks", {"name": "L"}), 404, "not_found")


def test_only_admin_keys_may_point_a_lock_somewhere(tenant: Tenant) -> None:
    """Lock settings make the worker call a URL: a write key must not choose where (no SSRF)."""
    prop = tenant.post("/v1/properties", {"name": "Annex", "timezone": "Europe/Berlin"}).json()
    writer = tenant.key_with(Scope.WRITE)
    refused = writer.post(
        f"/v1/properties/{prop['id']}/locks", {"name": "Door", "settings": {"hub_url": "http://10.0.0.1:8787"}}
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    lock = writer.post(f"/v1/properties/{prop['id']}/locks", {"name": "Door"}).json()
    patched = writer.patch(f"/v1/locks/{lock['id']}", {"settings": {"hub_url": "http://169.254.169.254/"}})
    assert patched.status_code == 403
    assert tenant.get(f"/v1/locks/{lock['id']}").json()["settings"]["hub_url"] is None
    allowed = tenant.patch(f"/v1/locks/{lock['id']}", {"settings": {"hub_url": "http://hub.example.com:8787"}})
    assert allowed.status_code == 200
    assert allowed.json()["settings"]["hub_url"] == "http://hub.example.com:8787"


@pytest.mark.parametrize(
    "url", ["http://[.a090d7Eb81:7D]/hub", "http://[::zz]/", "http://hub.example.com:99999/", "ftp://hub.example.com/"]
)
def test_lock_urls_that_no_client_could_use_are_refused(tenant: Tenant, url: str) -> None:
    prop = tenant.post("/v1/properties", {"name": "Annex", "timezone": "Europe/Berlin"}).json()
    response = tenant.post(f"/v1/properties/{prop['id']}/locks", {"name": "Door", "settings": {"hub_url": url}})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert response.json()["error"]["field"] == "settings.hub_url"
    assert tenant.get(f"/v1/properties/{prop['id']}/locks").json()["data"] == []
