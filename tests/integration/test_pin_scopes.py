"""Who sees and who sets PINs: masking by scope, the audit row of every reveal, no PIN in any event."""

from __future__ import annotations

import json
from typing import Any

import pytest

from doorpin.domain.scopes import Scope
from tests.support.access import Building, building, key_with_id, pin_of, put_pin, stay
from tests.support.api import Tenant
from tests.support.resources import assert_error, ok, walk

MASK = "••••••"


@pytest.fixture
def house(tenant: Tenant) -> Building:
    return building(tenant)


def revealed(tenant: Tenant) -> list[Any]:
    return walk(tenant, "/v1/events?type=audit.pin.revealed", 100)


def test_a_read_key_sees_the_pin_masked_everywhere_and_reveals_nothing(tenant: Tenant, house: Building) -> None:
    res = stay(tenant, house.id, house.unit_a["id"])
    reader, _ = key_with_id(tenant, Scope.READ)
    before = len(revealed(tenant))
    single = ok(reader.get(f"/v1/reservations/{res['id']}"))["access"]
    listed = ok(reader.get("/v1/reservations"))["data"][0]["access"]
    assert single["pin"] == MASK
    assert listed["pin"] == MASK
    assert single["pin_source"] == "generated"
    assert [lock["lock_id"] for lock in single["locks"]] == sorted([house.entrance["id"], house.door_a["id"]])
    assert len(revealed(tenant)) == before  # nothing was revealed


@pytest.mark.parametrize("scope", [Scope.PINS, Scope.DOOR_PROVIDER, Scope.ADMIN])
def test_pins_door_provider_and_admin_keys_see_the_pin_and_each_reveal_is_audited(
    tenant: Tenant, house: Building, scope: Scope
) -> None:
    res = stay(tenant, house.id, house.unit_a["id"])
    other = stay(tenant, house.id, house.unit_b["id"])
    pin = pin_of(tenant, res["id"])
    assert pin is not None
    assert pin != MASK
    viewer, key_id = key_with_id(tenant, scope)
    assert ok(viewer.get(f"/v1/reservations/{res['id']}"))["access"]["pin"] == pin
    assert ok(viewer.get(f"/v1/reservations/{res['id']}"))["access"]["pin"] == pin
    listed = {r["id"]: r["access"]["pin"] for r in ok(viewer.get("/v1/reservations"))["data"]}
    assert listed == {res["id"]: pin, other["id"]: pin_of(tenant, other["id"])}

    mine = [e for e in revealed(tenant) if e["actor_key_id"] == key_id]
    # Two reads of one stay, then a list showing two stays: three reveals of res, one of other.
    assert sorted(e["subject"]["id"] for e in mine) == sorted([res["id"]] * 3 + [other["id"]])
    for event in mine:
        assert event["type"] == "audit.pin.revealed"
        assert event["subject"]["type"] == "reservation"
        assert event["property_id"] == house.id
        assert pin not in json.dumps(event)


def test_a_door_provider_key_sets_a_pin_and_its_answer_is_a_reveal(tenant: Tenant, house: Building) -> None:
    res = stay(tenant, house.id, house.unit_a["id"])
    provider, key_id = key_with_id(tenant, Scope.DOOR_PROVIDER)
    access = ok(put_pin(provider, res["id"], "739164"))["access"]
    assert (access["pin"], access["pin_source"]) == ("739164", "custom")
    assert pin_of(tenant, res["id"]) == "739164"
    assert [e["subject"]["id"] for e in revealed(tenant) if e["actor_key_id"] == key_id] == [res["id"]]
    generated = ok(put_pin(provider, res["id"], "******"))["access"]
    assert generated["pin"] not in (MASK, "739164")
    assert generated["pin_source"] == "generated"


def test_a_write_key_may_regenerate_but_never_choose_a_pin(tenant: Tenant, house: Building) -> None:
    res = stay(tenant, house.id, house.unit_a["id"], "2026-07-10", "2026-07-14")
    neighbour = stay(tenant, house.id, house.unit_b["id"], "2026-07-12", "2026-07-16")
    writer, _ = key_with_id(tenant, Scope.WRITE)
    old = pin_of(tenant, res["id"])
    regenerated = ok(put_pin(writer, res["id"], "******"))["access"]
    assert regenerated["pin"] == MASK  # the writer does not see the value it caused
    assert regenerated["pin_source"] == "generated"
    new = pin_of(tenant, res["id"])
    assert new not in (None, old)

    taken = pin_of(tenant, neighbour["id"])
    assert taken is not None
    # Free, taken (would be pin_conflict), weak and malformed PINs all answer the same 403:
    # a key that cannot read PINs learns nothing about which codes exist.
    for pin in ("739164", taken, "1234", "12AB"):
        assert_error(put_pin(writer, res["id"], pin), 403, "forbidden")
    assert pin_of(tenant, res["id"]) == new


@pytest.mark.parametrize("scope", [Scope.READ, Scope.PINS])
def test_keys_without_write_or_door_provider_cannot_put_a_pin(tenant: Tenant, house: Building, scope: Scope) -> None:
    res = stay(tenant, house.id, house.unit_a["id"])
    before = pin_of(tenant, res["id"])
    caller, _ = key_with_id(tenant, scope)
    for pin in ("739164", "******"):
        assert_error(put_pin(caller, res["id"], pin), 403, "forbidden")
    assert pin_of(tenant, res["id"]) == before


def test_access_code_pins_are_masked_revealed_and_audited_the_same_way(tenant: Tenant, house: Building) -> None:
    body = {"property_id": house.id, "kind": "staff", "name": "Housekeeping", "lock_ids": [house.entrance["id"]]}
    code = ok(tenant.post("/v1/access-codes", {**body, "pin": "739164"}), 201)
    assert code["pin"] == "739164"
    reader, _ = key_with_id(tenant, Scope.READ)
    pins, key_id = key_with_id(tenant, Scope.PINS)
    assert ok(reader.get(f"/v1/access-codes/{code['id']}"))["pin"] == MASK
    assert ok(reader.get("/v1/access-codes"))["data"][0]["pin"] == MASK
    assert ok(pins.get(f"/v1/access-codes/{code['id']}"))["pin"] == "739164"
    mine = [e for e in revealed(tenant) if e["actor_key_id"] == key_id]
    assert [(e["subject"]["type"], e["subject"]["id"]) for e in mine] == [("access_code", code["id"])]
    # A write key may create a generated code, but choosing its value needs a key that sees PINs.
    writer, _ = key_with_id(tenant, Scope.WRITE)
    assert ok(writer.post("/v1/access-codes", body), 201)["pin"] == MASK
    assert_error(writer.post("/v1/access-codes", {**body, "pin": "739164"}), 403, "forbidden")


def test_no_event_ever_carries_a_pin(tenant: Tenant, house: Building) -> None:
    first = stay(tenant, house.id, house.unit_a["id"])
    second = stay(tenant, house.id, house.unit_b["id"])
    provider, _ = key_with_id(tenant, Scope.DOOR_PROVIDER)
    ok(put_pin(provider, first["id"], "739164"))
    regenerated = ok(put_pin(tenant, second["id"], "******"))["access"]["pin"]
    code = ok(
        tenant.post(
            "/v1/access-codes",
            {"property_id": house.id, "kind": "cleaning", "name": "Cleaner", "unit_ids": [house.unit_a["id"]]},
        ),
        201,
    )
    ok(tenant.patch(f"/v1/reservations/{second['id']}", {"status": "CANCELED"}))
    pins = {"739164", code["pin"], regenerated}
    ok(tenant.delete(f"/v1/access-codes/{code['id']}"))
    events = walk(tenant, "/v1/events", 100)
    types = {e["type"] for e in events}
    assert {"audit.pin.revealed", "audit.pin.set", "audit.pin.assigned", "audit.pin.revoked"} <= types
    assert {"audit.access_code.created", "audit.access_code.deleted"} <= types
    text = json.dumps(events)
    for pin in pins:
        assert pin is not None
        assert pin not in text
