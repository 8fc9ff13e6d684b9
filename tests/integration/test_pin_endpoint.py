"""PUT /v1/reservations/{id}/pin: each documented error code, in the documented order.

Every refusal is checked to leave the database exactly as it was (so the stay keeps its PIN).
"""

from __future__ import annotations

from typing import Any

import pytest

from doorpin.bootstrap import AppServices
from doorpin.domain.pins import weakness
from tests.support.access import Building, access_of, building, pin_of, put_pin, stay
from tests.support.api import Tenant
from tests.support.resources import assert_error, create_lock, create_property, create_unit, db_state, ok

MALFORMED = "12AB"
BAD_FORMATS = ["123", "12AB", "1234 ", " 1234", "", "١٢٣٤٥٦", "１２３４５６", "+12345", "12-345", "123456789"]
WEAK_BUT_WELL_FORMED = ["1234", "012345", "98765432"]


def refused(services: AppServices, tenant: Tenant, reservation_id: str, pin: str, status: int, code: str) -> None:
    """The PUT answers `status`/`code` and writes nothing at all."""
    before = db_state(services)
    assert_error(put_pin(tenant, reservation_id, pin), status, code)
    assert db_state(services) == before


@pytest.fixture
def house(tenant: Tenant) -> Building:
    return building(tenant)


@pytest.mark.parametrize("final_status", ["CANCELED", "NO_SHOW", "CHECKED_OUT"])
def test_a_stay_that_is_over_is_not_eligible_whatever_the_pin(
    tenant: Tenant, services: AppServices, house: Building, final_status: str
) -> None:
    res = stay(tenant, house.id, house.unit_a["id"])
    ok(tenant.patch(f"/v1/reservations/{res['id']}", {"status": final_status}))
    for pin in (MALFORMED, "", "1234", "******", "739164"):
        refused(services, tenant, res["id"], pin, 409, "reservation_not_eligible")
    assert pin_of(tenant, res["id"]) is None


def test_a_stay_without_unit_is_refused_before_the_pin_is_looked_at(
    tenant: Tenant, services: AppServices, house: Building
) -> None:
    res = stay(tenant, house.id, None)
    for pin in (MALFORMED, "１２３４５６", "1234", "******", "739164"):
        refused(services, tenant, res["id"], pin, 409, "unit_not_assigned")
    assert pin_of(tenant, res["id"]) is None


def test_a_timecode_property_does_not_take_set_pins(tenant: Tenant, services: AppServices) -> None:
    prop = create_property(tenant, "Offline cabins", door_provider="timecode")
    unit = create_unit(tenant, prop["id"], "Cabin", lock_ids=[create_lock(tenant, prop["id"], "Cabin door")["id"]])
    res = stay(tenant, prop["id"], unit["id"])
    before = pin_of(tenant, res["id"])
    for pin in (MALFORMED, "1234", "739164", "******"):
        refused(services, tenant, res["id"], pin, 409, "door_provider_unsupported")
    assert pin_of(tenant, res["id"]) == before


@pytest.mark.parametrize("bad", BAD_FORMATS)
def test_malformed_pins_are_pin_invalid_format(tenant: Tenant, services: AppServices, bad: str) -> None:
    # weak_pins "warn": nothing here may slip through as "merely weak".
    house = building(tenant, code_policy={"weak_pins": "warn"})
    res = stay(tenant, house.id, house.unit_a["id"])
    before = pin_of(tenant, res["id"])
    refused(services, tenant, res["id"], bad, 422, "pin_invalid_format")
    assert pin_of(tenant, res["id"]) == before


def test_weak_pins_are_refused_by_default_and_never_echoed(
    tenant: Tenant, services: AppServices, house: Building
) -> None:
    res = stay(tenant, house.id, house.unit_a["id"])
    before = pin_of(tenant, res["id"])
    for pin in WEAK_BUT_WELL_FORMED:
        assert weakness(pin) is not None
        response = put_pin(tenant, res["id"], pin)
        error = assert_error(response, 422, "pin_too_weak", "pin")
        assert pin not in error["message"]
        refused(services, tenant, res["id"], pin, 422, "pin_too_weak")
    assert pin_of(tenant, res["id"]) == before


@pytest.mark.parametrize("pin", WEAK_BUT_WELL_FORMED)
def test_weak_pins_are_accepted_with_a_warning_under_warn(tenant: Tenant, pin: str) -> None:
    house = building(tenant, code_policy={"weak_pins": "warn"})
    res = stay(tenant, house.id, house.unit_a["id"])
    access = ok(put_pin(tenant, res["id"], pin))["access"]
    assert access["pin"] == pin
    assert access["pin_source"] == "custom"
    assert [w["code"] for w in access["warnings"]] == ["pin_weak"]
    assert pin not in access["warnings"][0]["message"]
    assert access_of(tenant, res["id"])["warnings"] == access["warnings"]
    # A strong PIN afterwards clears the warning.
    cleared = ok(put_pin(tenant, res["id"], "739164"))["access"]
    assert (cleared["pin"], cleared["warnings"]) == ("739164", [])


def test_a_strong_pin_of_any_policy_length_is_accepted(tenant: Tenant, house: Building) -> None:
    res = stay(tenant, house.id, house.unit_a["id"])
    for pin in ("7391", "73916", "739164", "7391642", "73916428"):
        access = ok(put_pin(tenant, res["id"], pin))["access"]
        assert (access["pin"], access["pin_source"], access["warnings"]) == (pin, "custom", [])
        assert access_of(tenant, res["id"])["pin"] == pin


def test_a_length_a_lock_does_not_accept_is_pin_invalid_format(tenant: Tenant, services: AppServices) -> None:
    prop = create_property(tenant, "Six digits only")
    entrance = create_lock(tenant, prop["id"], "Entrance", capabilities={"code_lengths": [6]})
    unit = create_unit(tenant, prop["id"], "1")
    res = stay(tenant, prop["id"], unit["id"])
    before = pin_of(tenant, res["id"])
    assert before is not None
    assert len(before) == 6
    refused(services, tenant, res["id"], "7391", 422, "pin_invalid_format")
    refused(services, tenant, res["id"], "73916428", 422, "pin_invalid_format")
    assert ok(put_pin(tenant, res["id"], "739164"))["access"]["pin"] == "739164"
    assert ok(tenant.get(f"/v1/locks/{entrance['id']}"))["capabilities"]["code_lengths"] == [6]


def test_doors_with_no_common_length_accept_no_pin(tenant: Tenant, services: AppServices) -> None:
    prop = create_property(tenant, "Mixed hardware")
    create_lock(tenant, prop["id"], "Entrance", capabilities={"code_lengths": [6]})
    room = create_lock(tenant, prop["id"], "Room", capabilities={"code_lengths": [4]})
    unit = create_unit(tenant, prop["id"], "1", lock_ids=[room["id"]])
    res = stay(tenant, prop["id"], unit["id"])
    assert pin_of(tenant, res["id"]) is None
    for pin in ("7391", "739164", "73916428"):
        refused(services, tenant, res["id"], pin, 422, "pin_invalid_format")


def test_format_is_checked_before_strength_and_strength_before_conflict(tenant: Tenant, services: AppServices) -> None:
    house = building(tenant, code_policy={"weak_pins": "warn"})
    first = stay(tenant, house.id, house.unit_a["id"])
    second = stay(tenant, house.id, house.unit_b["id"])
    ok(put_pin(tenant, first["id"], "123456"))  # weak, accepted with a warning
    ok(tenant.patch(f"/v1/properties/{house.id}", {"code_policy": {"weak_pins": "reject"}}))
    # "123456" is both weak and taken on the shared entrance: weakness is reported first.
    refused(services, tenant, second["id"], "123456", 422, "pin_too_weak")
    # A malformed, weak-looking value is a format error, not a weakness.
    refused(services, tenant, second["id"], "123456 ", 422, "pin_invalid_format")
    assert pin_of(tenant, first["id"]) == "123456"


def _conflict_case(tenant: Tenant, house: Building) -> tuple[Any, Any]:
    first = stay(tenant, house.id, house.unit_a["id"], "2026-07-10", "2026-07-14")
    second = stay(tenant, house.id, house.unit_b["id"], "2026-07-12", "2026-07-16")
    return first, second


def test_a_pin_live_on_a_shared_entrance_in_an_overlapping_window_is_a_conflict(
    tenant: Tenant, services: AppServices, house: Building
) -> None:
    first, second = _conflict_case(tenant, house)
    taken = pin_of(tenant, first["id"])
    assert taken is not None
    before = pin_of(tenant, second["id"])
    error_before = db_state(services)
    error = assert_error(put_pin(tenant, second["id"], taken), 409, "pin_conflict", "pin")
    assert db_state(services) == error_before
    assert taken not in error["message"]
    assert pin_of(tenant, second["id"]) == before
    # The stay's own current PIN is not a conflict with itself.
    assert ok(put_pin(tenant, first["id"], taken))["access"]["pin"] == taken


def test_units_that_share_no_lock_may_hold_the_same_pin(tenant: Tenant) -> None:
    prop = create_property(tenant, "Separate entrances")
    unit_a = create_unit(tenant, prop["id"], "A", lock_ids=[create_lock(tenant, prop["id"], "A door")["id"]])
    unit_b = create_unit(tenant, prop["id"], "B", lock_ids=[create_lock(tenant, prop["id"], "B door")["id"]])
    first = stay(tenant, prop["id"], unit_a["id"])
    second = stay(tenant, prop["id"], unit_b["id"])
    assert ok(put_pin(tenant, first["id"], "739164"))["access"]["pin"] == "739164"
    assert ok(put_pin(tenant, second["id"], "739164"))["access"]["pin"] == "739164"


def test_the_reuse_cooldown_separates_stays_on_a_shared_lock(
    tenant: Tenant, services: AppServices, house: Building
) -> None:
    # Default cooldown: 72 h. The first stay's window ends 2026-07-12 11:00 local.
    first = stay(tenant, house.id, house.unit_a["id"], "2026-07-10", "2026-07-12")
    ok(put_pin(tenant, first["id"], "739164"))
    inside = stay(tenant, house.id, house.unit_b["id"], "2026-07-14", "2026-07-16")  # +52 h
    just_inside = stay(tenant, house.id, house.unit_b["id"], "2026-07-15T10:00", "2026-07-17")  # +71 h
    after = stay(tenant, house.id, house.unit_b["id"], "2026-07-15", "2026-07-17")  # +76 h
    before = stay(tenant, house.id, house.unit_b["id"], "2026-07-04", "2026-07-06")  # ends 100 h before
    too_close_before = stay(tenant, house.id, house.unit_b["id"], "2026-07-06", "2026-07-08")  # ends 52 h before
    for res in (inside, just_inside):
        refused(services, tenant, res["id"], "739164", 409, "pin_conflict")
    refused(services, tenant, too_close_before["id"], "739164", 409, "pin_conflict")
    assert ok(put_pin(tenant, after["id"], "739164"))["access"]["pin"] == "739164"
    assert ok(put_pin(tenant, before["id"], "739164"))["access"]["pin"] == "739164"


def test_a_shorter_cooldown_lets_a_pin_be_reused_sooner(tenant: Tenant, services: AppServices) -> None:
    house = building(tenant, code_policy={"reuse_cooldown_hours": 24})
    first = stay(tenant, house.id, house.unit_a["id"], "2026-07-10", "2026-07-12")
    ok(put_pin(tenant, first["id"], "739164"))
    next_day = stay(tenant, house.id, house.unit_b["id"], "2026-07-13T10:00", "2026-07-15")  # +23 h
    two_days = stay(tenant, house.id, house.unit_b["id"], "2026-07-14", "2026-07-16")  # +52 h
    refused(services, tenant, next_day["id"], "739164", 409, "pin_conflict")
    assert ok(put_pin(tenant, two_days["id"], "739164"))["access"]["pin"] == "739164"


def test_generate_replaces_the_pin_with_a_fresh_generated_one(tenant: Tenant, house: Building) -> None:
    res = stay(tenant, house.id, house.unit_a["id"])
    original = access_of(tenant, res["id"])
    assert original["pin_source"] == "generated"
    seen = {original["pin"]}
    for _ in range(3):
        access = ok(put_pin(tenant, res["id"], "******"))["access"]
        assert access["pin_source"] == "generated"
        assert access["pin"] not in seen
        assert len(access["pin"]) == 6
        assert set(access["pin"]) <= set("0123456789")
        assert weakness(access["pin"]) is None
        seen.add(access["pin"])
        assert access_of(tenant, res["id"])["pin"] == access["pin"]
    ok(put_pin(tenant, res["id"], "739164"))
    regenerated = ok(put_pin(tenant, res["id"], "******"))["access"]
    assert regenerated["pin_source"] == "generated"
    assert regenerated["pin"] != "739164"


def test_a_replaced_pin_is_free_again_after_the_cooldown_only(
    tenant: Tenant, services: AppServices, house: Building
) -> None:
    first, second = _conflict_case(tenant, house)
    ok(put_pin(tenant, first["id"], "739164"))
    ok(put_pin(tenant, first["id"], "******"))
    # The old PIN is off the doors, but the first guest knows it: still held through the cooldown.
    refused(services, tenant, second["id"], "739164", 409, "pin_conflict")


def test_another_accounts_stay_is_not_found(tenant: Tenant, other_tenant: Tenant, house: Building) -> None:
    res = stay(tenant, house.id, house.unit_a["id"])
    before = pin_of(tenant, res["id"])
    assert_error(put_pin(other_tenant, res["id"], "739164"), 404, "not_found")
    assert_error(put_pin(other_tenant, res["id"], "12AB"), 404, "not_found")
    assert pin_of(tenant, res["id"]) == before
