"""LIKE MAGIC unit mode: the PIN belongs to the unit and every stay in it shows (and changes) it."""

from __future__ import annotations

from typing import Any

import pytest

from doorpin.bootstrap import AppServices
from tests.support.access import Building, access_of, building, pin_of, put_pin, stay
from tests.support.api import Tenant
from tests.support.resources import assert_error, db_state, ok

UNIT_MODES = {
    "pin_scope_unit": {"code_policy": {"pin_scope": "unit"}},
    "offline_pin_default": {"door_provider": "offline_pin"},
}


@pytest.fixture(params=sorted(UNIT_MODES))
def house(tenant: Tenant, request: pytest.FixtureRequest) -> Building:
    return building(tenant, **UNIT_MODES[request.param])


def test_offline_pin_properties_default_to_unit_scope(tenant: Tenant) -> None:
    house = building(tenant, door_provider="offline_pin")
    assert house.property["code_policy"]["pin_scope"] == "unit"
    keypad = building(tenant)
    assert keypad.property["code_policy"]["pin_scope"] == "reservation"


def test_overlapping_stays_in_a_unit_share_one_pin_and_name_each_other(tenant: Tenant, house: Building) -> None:
    first = stay(tenant, house.id, house.unit_a["id"], "2026-07-10", "2026-07-14")
    second = stay(tenant, house.id, house.unit_a["id"], "2026-07-12", "2026-07-16")
    a, b = access_of(tenant, first["id"]), access_of(tenant, second["id"])
    assert a["pin"] is not None
    assert a["pin"] == b["pin"]
    assert a["shared_with"] == [second["id"]]
    assert b["shared_with"] == [first["id"]]
    assert a["pin_source"] == b["pin_source"] == "generated"
    # Each stay keeps its own window on the shared code.
    assert (a["valid_from"], b["valid_until"]) == (first["check_in"], second["check_out"])
    # The other unit, behind the same entrance at the same time, has a PIN of its own.
    other = stay(tenant, house.id, house.unit_b["id"], "2026-07-12", "2026-07-16")
    assert access_of(tenant, other["id"])["pin"] not in (None, a["pin"])
    assert access_of(tenant, other["id"])["shared_with"] == []


def test_a_put_through_either_stay_changes_the_pin_for_both(tenant: Tenant, house: Building) -> None:
    first = stay(tenant, house.id, house.unit_a["id"], "2026-07-10", "2026-07-14")
    second = stay(tenant, house.id, house.unit_a["id"], "2026-07-12", "2026-07-16")
    answer = ok(put_pin(tenant, second["id"], "739164"))["access"]
    assert (answer["pin"], answer["pin_source"], answer["shared_with"]) == ("739164", "custom", [first["id"]])
    for res in (first, second):
        access = access_of(tenant, res["id"])
        assert (access["pin"], access["pin_source"]) == ("739164", "custom")
    ok(put_pin(tenant, first["id"], "582047"))
    assert pin_of(tenant, first["id"]) == pin_of(tenant, second["id"]) == "582047"
    generated = ok(put_pin(tenant, first["id"], "******"))["access"]
    assert generated["pin"] not in ("582047", "739164")
    assert generated["pin_source"] == "generated"
    assert pin_of(tenant, second["id"]) == generated["pin"]


def test_putting_the_units_current_pin_again_changes_nothing(tenant: Tenant, house: Building) -> None:
    first = stay(tenant, house.id, house.unit_a["id"])
    second = stay(tenant, house.id, house.unit_a["id"])
    ok(put_pin(tenant, first["id"], "739164"))
    for res in (first, second, first):
        access = ok(put_pin(tenant, res["id"], "739164"))["access"]
        assert (access["pin"], access["pin_source"]) == ("739164", "custom")
    assert pin_of(tenant, first["id"]) == pin_of(tenant, second["id"]) == "739164"


def test_a_later_stay_in_the_unit_gets_the_current_pin(tenant: Tenant, house: Building) -> None:
    first = stay(tenant, house.id, house.unit_a["id"], "2026-07-10", "2026-07-14")
    ok(put_pin(tenant, first["id"], "739164"))
    overlapping = stay(tenant, house.id, house.unit_a["id"], "2026-07-13", "2026-07-15")
    next_month = stay(tenant, house.id, house.unit_a["id"], "2026-08-10", "2026-08-12")
    for res in (overlapping, next_month):
        access = access_of(tenant, res["id"])
        assert (access["pin"], access["pin_source"]) == ("739164", "custom")
    assert access_of(tenant, first["id"])["shared_with"] == sorted([overlapping["id"], next_month["id"]])


def test_a_stay_moved_into_the_unit_takes_its_pin(tenant: Tenant, house: Building) -> None:
    resident = stay(tenant, house.id, house.unit_a["id"], "2026-07-10", "2026-07-14")
    ok(put_pin(tenant, resident["id"], "739164"))
    mover = stay(tenant, house.id, house.unit_b["id"], "2026-07-11", "2026-07-13")
    unassigned = stay(tenant, house.id, None, "2026-07-11", "2026-07-13")
    assert pin_of(tenant, mover["id"]) not in (None, "739164")
    assert pin_of(tenant, unassigned["id"]) is None
    for res in (mover, unassigned):
        moved = ok(tenant.patch(f"/v1/reservations/{res['id']}", {"unit_id": house.unit_a["id"]}))["access"]
        assert moved["pin"] == "739164"
        assert resident["id"] in moved["shared_with"]
        assert sorted(lock["lock_id"] for lock in moved["locks"] if lock["state"] == "pending") == sorted(
            [house.entrance["id"], house.door_a["id"]]
        )
    assert access_of(tenant, resident["id"])["shared_with"] == sorted([mover["id"], unassigned["id"]])


def test_a_stay_moved_out_of_the_unit_leaves_its_pin_behind(tenant: Tenant, house: Building) -> None:
    first = stay(tenant, house.id, house.unit_a["id"], "2026-07-10", "2026-07-14")
    second = stay(tenant, house.id, house.unit_a["id"], "2026-07-10", "2026-07-14")
    shared = pin_of(tenant, first["id"])
    moved = ok(tenant.patch(f"/v1/reservations/{second['id']}", {"unit_id": house.unit_b["id"]}))["access"]
    assert moved["pin"] not in (None, shared)
    assert moved["shared_with"] == []
    assert access_of(tenant, first["id"])["shared_with"] == []
    assert pin_of(tenant, first["id"]) == shared


def test_a_canceled_stay_drops_out_of_the_unit_and_the_rest_keep_the_pin(tenant: Tenant, house: Building) -> None:
    first = stay(tenant, house.id, house.unit_a["id"])
    second = stay(tenant, house.id, house.unit_a["id"])
    shared = pin_of(tenant, first["id"])
    canceled = ok(tenant.patch(f"/v1/reservations/{second['id']}", {"status": "CANCELED"}))["access"]
    assert (canceled["pin"], canceled["state"], canceled["shared_with"]) == (None, "revoked", [])
    remaining = access_of(tenant, first["id"])
    assert (remaining["pin"], remaining["shared_with"]) == (shared, [])
    assert {lock["state"] for lock in remaining["locks"]} == {"pending"}


def test_a_unit_pin_that_another_unit_holds_on_the_entrance_is_a_conflict(
    tenant: Tenant, services: AppServices, house: Building
) -> None:
    first = stay(tenant, house.id, house.unit_a["id"], "2026-07-10", "2026-07-14")
    second = stay(tenant, house.id, house.unit_a["id"], "2026-07-12", "2026-07-16")
    neighbour = stay(tenant, house.id, house.unit_b["id"], "2026-07-15", "2026-07-18")
    taken = pin_of(tenant, neighbour["id"])
    assert taken is not None
    mine = pin_of(tenant, first["id"])
    before = db_state(services)
    # Only the second stay overlaps the neighbour, but the PIN is the whole unit's.
    assert_error(put_pin(tenant, first["id"], taken), 409, "pin_conflict", "pin")
    assert db_state(services) == before
    assert pin_of(tenant, first["id"]) == pin_of(tenant, second["id"]) == mine


def _unit_stays(tenant: Tenant, house: Building) -> tuple[Any, Any]:
    return (
        stay(tenant, house.id, house.unit_a["id"], "2026-07-10", "2026-07-14"),
        stay(tenant, house.id, house.unit_a["id"], "2026-07-12", "2026-07-16"),
    )


def test_refused_puts_change_the_pin_for_nobody(tenant: Tenant, services: AppServices, house: Building) -> None:
    first, second = _unit_stays(tenant, house)
    shared = pin_of(tenant, first["id"])
    for pin, status, code in (("12AB", 422, "pin_invalid_format"), ("123456", 422, "pin_too_weak")):
        before = db_state(services)
        assert_error(put_pin(tenant, second["id"], pin), status, code)
        assert db_state(services) == before
    assert pin_of(tenant, first["id"]) == pin_of(tenant, second["id"]) == shared
