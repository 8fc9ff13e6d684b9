"""A stay's access through its lifecycle: issued at once, moved with dates and units, revoked at the end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from doorpin.bootstrap import AppServices
from tests.support.access import Building, access_of, building, instant, pin_of, put_pin, stay
from tests.support.api import Tenant
from tests.support.clock import FakeClock
from tests.support.resources import assert_error, db_state, ok

GONE = {"removed", "removing"}


@pytest.fixture
def house(tenant: Tenant) -> Building:
    return building(tenant)


def lock_states(access: dict[str, object]) -> dict[str, str]:
    locks = access["locks"]
    assert isinstance(locks, list)
    return {lock["lock_id"]: lock["state"] for lock in locks}


def test_a_confirmed_stay_with_a_unit_gets_its_pin_at_once(tenant: Tenant, house: Building) -> None:
    res = stay(tenant, house.id, house.unit_a["id"], "2026-07-10", "2026-07-12")
    access = res["access"]
    assert access["pin"] is not None
    assert len(access["pin"]) == 6
    assert access["pin_source"] == "generated"
    assert access["state"] == "scheduled"  # the fake clock is on 2026-06-01
    assert access["valid_from"] == "2026-07-10T15:00:00+02:00" == res["check_in"]
    assert access["valid_until"] == "2026-07-12T11:00:00+02:00" == res["check_out"]
    assert lock_states(access) == {house.entrance["id"]: "pending", house.door_a["id"]: "pending"}
    assert all(lock["error"] is None for lock in access["locks"])
    assert (access["shared_with"], access["warnings"], access["error"]) == ([], [], None)
    assert access_of(tenant, res["id"]) == access


def test_the_state_follows_the_clock(tenant: Tenant, house: Building, clock: FakeClock) -> None:
    res = stay(tenant, house.id, house.unit_a["id"], "2026-07-10", "2026-07-12")
    clock.set(datetime(2026, 7, 10, 12, 59, tzinfo=UTC))
    assert access_of(tenant, res["id"])["state"] == "scheduled"
    clock.set(datetime(2026, 7, 10, 13, 0, tzinfo=UTC))  # 15:00 in Berlin
    assert access_of(tenant, res["id"])["state"] == "active"
    clock.set(datetime(2026, 7, 12, 9, 0, tzinfo=UTC))  # 11:00 in Berlin
    assert access_of(tenant, res["id"])["state"] == "expired"


def test_moving_the_dates_keeps_the_pin_and_moves_the_window(tenant: Tenant, house: Building) -> None:
    res = stay(tenant, house.id, house.unit_a["id"], "2026-07-10", "2026-07-12")
    pin = res["access"]["pin"]
    moved = ok(tenant.patch(f"/v1/reservations/{res['id']}", {"check_in": "2026-07-11", "check_out": "2026-07-15"}))
    access = moved["access"]
    assert access["pin"] == pin
    assert (access["valid_from"], access["valid_until"]) == ("2026-07-11T15:00:00+02:00", "2026-07-15T11:00:00+02:00")
    assert lock_states(access) == {house.entrance["id"]: "pending", house.door_a["id"]: "pending"}
    only_out = ok(tenant.patch(f"/v1/reservations/{res['id']}", {"check_out": "2026-07-13T09:30"}))["access"]
    assert (only_out["pin"], only_out["valid_from"]) == (pin, "2026-07-11T15:00:00+02:00")
    assert only_out["valid_until"] == "2026-07-13T09:30:00+02:00"


def test_moving_the_unit_changes_the_doors_and_keeps_the_pin(tenant: Tenant, house: Building) -> None:
    res = stay(tenant, house.id, house.unit_a["id"])
    pin = res["access"]["pin"]
    access = ok(tenant.patch(f"/v1/reservations/{res['id']}", {"unit_id": house.unit_b["id"]}))["access"]
    assert access["pin"] == pin
    states = lock_states(access)
    assert states[house.entrance["id"]] == "pending"
    assert states[house.door_b["id"]] == "pending"
    assert states[house.door_a["id"]] in GONE
    assert set(states) == {house.entrance["id"], house.door_a["id"], house.door_b["id"]}


def test_a_date_change_onto_a_taken_pin_gets_a_new_one(tenant: Tenant, house: Building) -> None:
    first = stay(tenant, house.id, house.unit_a["id"], "2026-07-10", "2026-07-12")
    later = stay(tenant, house.id, house.unit_b["id"], "2026-08-10", "2026-08-12")
    ok(put_pin(tenant, first["id"], "739164"))
    ok(put_pin(tenant, later["id"], "739164"))  # a month apart: the same PIN is fine
    moved = ok(tenant.patch(f"/v1/reservations/{later['id']}", {"check_in": "2026-07-11", "check_out": "2026-07-13"}))
    assert moved["access"]["pin"] not in (None, "739164")
    assert moved["access"]["pin_source"] == "generated"
    assert pin_of(tenant, first["id"]) == "739164"


def test_in_house_before_the_window_opens_the_doors_now(tenant: Tenant, house: Building, clock: FakeClock) -> None:
    res = stay(tenant, house.id, house.unit_a["id"], "2026-06-03", "2026-06-05")
    pin = res["access"]["pin"]
    clock.set(datetime(2026, 6, 3, 9, 15, tzinfo=UTC))  # 11:15 in Berlin, hours before 15:00
    access = ok(tenant.patch(f"/v1/reservations/{res['id']}", {"status": "IN_HOUSE"}))["access"]
    assert access["pin"] == pin
    assert access["state"] == "active"
    assert abs(instant(access["valid_from"]) - clock.now()) <= timedelta(seconds=1)
    assert access["valid_from"].endswith("+02:00")
    assert access["valid_until"] == "2026-06-05T11:00:00+02:00"


def test_in_house_inside_the_window_keeps_the_window(tenant: Tenant, house: Building, clock: FakeClock) -> None:
    res = stay(tenant, house.id, house.unit_a["id"], "2026-06-03", "2026-06-05")
    clock.set(datetime(2026, 6, 3, 16, 0, tzinfo=UTC))
    access = ok(tenant.patch(f"/v1/reservations/{res['id']}", {"status": "IN_HOUSE"}))["access"]
    assert access["valid_from"] == "2026-06-03T15:00:00+02:00"


@pytest.mark.parametrize(
    ("path", "final"),
    [
        (["CANCELED"], "CANCELED"),
        (["NO_SHOW"], "NO_SHOW"),
        (["CHECKED_OUT"], "CHECKED_OUT"),
        (["IN_HOUSE", "CHECKED_OUT"], "CHECKED_OUT"),
    ],
)
def test_the_end_of_a_stay_revokes_its_pin_on_every_door(
    tenant: Tenant, house: Building, path: list[str], final: str
) -> None:
    res = stay(tenant, house.id, house.unit_a["id"])
    for status in path:
        answer = ok(tenant.patch(f"/v1/reservations/{res['id']}", {"status": status}))
    assert answer["status"] == final
    for access in (answer["access"], access_of(tenant, res["id"])):
        assert access["state"] == "revoked"
        assert access["pin"] is None
        assert access["error"] is None
        assert set(lock_states(access)) == {house.entrance["id"], house.door_a["id"]}
        assert set(lock_states(access).values()) <= GONE


def test_a_final_status_cannot_be_left(tenant: Tenant, services: AppServices, house: Building) -> None:
    res = stay(tenant, house.id, house.unit_a["id"])
    ok(tenant.patch(f"/v1/reservations/{res['id']}", {"status": "CANCELED"}))
    before = db_state(services)
    for status in ("IN_HOUSE", "CONFIRMED"):
        assert_error(tenant.patch(f"/v1/reservations/{res['id']}", {"status": status}), 409, "invalid_transition")
    assert db_state(services) == before


def test_a_stay_without_a_unit_waits_and_gets_a_pin_when_one_is_assigned(tenant: Tenant, house: Building) -> None:
    res = stay(tenant, house.id, None)
    access = res["access"]
    assert (access["pin"], access["state"], access["locks"]) == (None, "pending", [])
    assert access["error"]["code"] == "unit_not_assigned"
    assert access["error"]["message"]
    assert (access["valid_from"], access["valid_until"]) == (res["check_in"], res["check_out"])
    assigned = ok(tenant.patch(f"/v1/reservations/{res['id']}", {"unit_id": house.unit_a["id"]}))["access"]
    assert assigned["pin"] is not None
    assert assigned["error"] is None
    assert assigned["state"] == "scheduled"
    assert lock_states(assigned) == {house.entrance["id"]: "pending", house.door_a["id"]: "pending"}
    # Taking the unit away again takes the doors away and says why.
    unassigned = ok(tenant.patch(f"/v1/reservations/{res['id']}", {"unit_id": None}))["access"]
    assert unassigned["error"]["code"] == "unit_not_assigned"
    assert set(lock_states(unassigned).values()) <= GONE


def test_activation_and_expiry_margins_widen_the_window(tenant: Tenant) -> None:
    house = building(tenant, code_policy={"activate_before_minutes": 90, "expire_after_minutes": 30})
    res = stay(tenant, house.id, house.unit_a["id"], "2026-07-10", "2026-07-12")
    access = res["access"]
    assert res["check_in"] == "2026-07-10T15:00:00+02:00"
    assert access["valid_from"] == "2026-07-10T13:30:00+02:00"
    assert access["valid_until"] == "2026-07-12T11:30:00+02:00"
    moved = ok(tenant.patch(f"/v1/reservations/{res['id']}", {"check_in": "2026-07-11"}))["access"]
    assert moved["valid_from"] == "2026-07-11T13:30:00+02:00"


def test_margins_count_when_pins_clash(tenant: Tenant, services: AppServices) -> None:
    # Without margins these stays are 76 h apart (beyond the 72 h cooldown); the margins bring
    # them within it, so the first stay's PIN is not free for the second.
    house = building(tenant, code_policy={"activate_before_minutes": 180, "expire_after_minutes": 120})
    first = stay(tenant, house.id, house.unit_a["id"], "2026-07-10", "2026-07-12")
    second = stay(tenant, house.id, house.unit_b["id"], "2026-07-15", "2026-07-17")
    ok(put_pin(tenant, first["id"], "739164"))
    before = db_state(services)
    assert_error(put_pin(tenant, second["id"], "739164"), 409, "pin_conflict")
    assert db_state(services) == before
    plain = building(tenant)
    first = stay(tenant, plain.id, plain.unit_a["id"], "2026-07-10", "2026-07-12")
    second = stay(tenant, plain.id, plain.unit_b["id"], "2026-07-15", "2026-07-17")
    ok(put_pin(tenant, first["id"], "739164"))
    assert ok(put_pin(tenant, second["id"], "739164"))["access"]["pin"] == "739164"
