"""Changing a stay: status lifecycle, moved dates, external_ref uniqueness, partial updates."""

from __future__ import annotations

from typing import Any

import pytest

from doorpin.bootstrap import AppServices
from tests.support.api import Tenant
from tests.support.clock import FakeClock
from tests.support.resources import (
    assert_error,
    count_rows,
    create_property,
    create_reservation,
    create_unit,
    db_state,
    ok,
)

# How to reach each status from CONFIRMED through allowed moves.
PATHS = {
    "CONFIRMED": [],
    "IN_HOUSE": ["IN_HOUSE"],
    "CHECKED_OUT": ["IN_HOUSE", "CHECKED_OUT"],
    "CANCELED": ["CANCELED"],
    "NO_SHOW": ["NO_SHOW"],
}


@pytest.fixture
def prop(tenant: Tenant) -> Any:
    return create_property(tenant, "Mitte", timezone="Europe/Berlin")


def _stay_in(tenant: Tenant, prop: Any, status: str, **extra: Any) -> Any:
    stay = create_reservation(tenant, prop["id"], **extra)
    for step in PATHS[status]:
        stay = ok(tenant.patch(f"/v1/reservations/{stay['id']}", {"status": step}))
        assert stay["status"] == step
    return stay


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("CONFIRMED", "IN_HOUSE"),
        ("IN_HOUSE", "CHECKED_OUT"),
        ("CONFIRMED", "CANCELED"),
        ("CONFIRMED", "NO_SHOW"),
    ],
)
def test_allowed_transitions(tenant: Tenant, prop: Any, clock: FakeClock, start: str, target: str) -> None:
    stay = _stay_in(tenant, prop, start)
    clock.advance(minutes=10)
    moved = ok(tenant.patch(f"/v1/reservations/{stay['id']}", {"status": target}))
    assert moved["status"] == target
    assert moved["updated_at"] != stay["updated_at"]
    assert ok(tenant.get(f"/v1/reservations/{stay['id']}"))["status"] == target
    assert [r["id"] for r in ok(tenant.get(f"/v1/reservations?status={target}"))["data"]] == [stay["id"]]


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("CANCELED", "IN_HOUSE"),
        ("CANCELED", "CONFIRMED"),
        ("CANCELED", "CHECKED_OUT"),
        ("CHECKED_OUT", "CONFIRMED"),
        ("CHECKED_OUT", "IN_HOUSE"),
        ("NO_SHOW", "IN_HOUSE"),
        ("NO_SHOW", "CONFIRMED"),
        ("IN_HOUSE", "CONFIRMED"),
        ("IN_HOUSE", "CANCELED"),
        ("IN_HOUSE", "NO_SHOW"),
    ],
)
def test_illegal_transitions_are_refused_and_change_nothing(
    tenant: Tenant, prop: Any, services: AppServices, clock: FakeClock, start: str, target: str
) -> None:
    stay = _stay_in(tenant, prop, start, guest={"name": "Ada"})
    before = db_state(services)
    clock.advance(minutes=10)
    # Other changes in the same request are not applied either.
    body = {"status": target, "guest": {"name": "Grace"}, "check_out": "2026-07-13"}
    assert_error(tenant.patch(f"/v1/reservations/{stay['id']}", body), 409, "invalid_transition", "status")
    assert db_state(services) == before
    assert ok(tenant.get(f"/v1/reservations/{stay['id']}")) == stay


@pytest.mark.parametrize("status", list(PATHS))
def test_same_status_is_a_no_op(tenant: Tenant, prop: Any, status: str) -> None:
    stay = _stay_in(tenant, prop, status)
    again = ok(tenant.patch(f"/v1/reservations/{stay['id']}", {"status": status}))
    assert again["status"] == status
    assert (again["check_in"], again["check_out"]) == (stay["check_in"], stay["check_out"])


def test_a_stay_may_be_created_in_any_status(tenant: Tenant, prop: Any) -> None:
    for status in PATHS:
        assert create_reservation(tenant, prop["id"], status=status)["status"] == status


def test_moving_one_side_keeps_the_other(tenant: Tenant, prop: Any) -> None:
    stay = create_reservation(tenant, prop["id"], check_in="2026-07-10", check_out="2026-07-12")
    later = ok(tenant.patch(f"/v1/reservations/{stay['id']}", {"check_out": "2026-07-14"}))
    assert later["check_in"] == stay["check_in"]
    assert later["check_out"] == "2026-07-14T11:00:00+02:00"
    earlier = ok(tenant.patch(f"/v1/reservations/{stay['id']}", {"check_in": "2026-07-09T12:00"}))
    assert earlier["check_in"] == "2026-07-09T12:00:00+02:00"
    assert earlier["check_out"] == "2026-07-14T11:00:00+02:00"
    both = ok(tenant.patch(f"/v1/reservations/{stay['id']}", {"check_in": "2026-08-01", "check_out": "2026-08-03"}))
    assert (both["check_in"], both["check_out"]) == ("2026-08-01T15:00:00+02:00", "2026-08-03T11:00:00+02:00")


def test_moving_one_side_keeps_the_other_instant_across_a_dst_overlap(tenant: Tenant, prop: Any) -> None:
    # Check-out at the *second* 02:30 of 2026-10-25 (winter time, +01:00), given with its offset.
    stay = create_reservation(tenant, prop["id"], check_in="2026-10-20", check_out="2026-10-25T02:30:00+01:00")
    assert stay["check_out"] == "2026-10-25T02:30:00+01:00"
    moved = ok(tenant.patch(f"/v1/reservations/{stay['id']}", {"check_in": "2026-10-21"}))
    assert moved["check_in"] == "2026-10-21T15:00:00+02:00"
    assert moved["check_out"] == "2026-10-25T02:30:00+01:00"  # not silently an hour earlier
    assert ok(tenant.get(f"/v1/reservations/{stay['id']}"))["check_out"] == "2026-10-25T02:30:00+01:00"


@pytest.mark.parametrize(
    "patch",
    [
        {"check_out": "2026-07-09"},
        {"check_out": "2026-07-10"},  # 11:00, before the 15:00 check-in
        {"check_in": "2026-07-12"},  # 15:00, after the 11:00 check-out
        {"check_in": "2026-07-12T11:00:00+02:00"},  # exactly the check-out instant
        {"check_out": "2028-07-12"},  # longer than two years
    ],
)
def test_patching_one_side_into_an_invalid_window(
    tenant: Tenant, prop: Any, services: AppServices, clock: FakeClock, patch: dict[str, str]
) -> None:
    stay = create_reservation(tenant, prop["id"], check_in="2026-07-10", check_out="2026-07-12")
    before = db_state(services)
    clock.advance(minutes=1)
    assert_error(tenant.patch(f"/v1/reservations/{stay['id']}", patch), 422, "invalid_window", "check_out")
    assert db_state(services) == before


def test_external_ref_is_unique_per_property(tenant: Tenant, prop: Any, services: AppServices) -> None:
    other = create_property(tenant, "Other")
    first = create_reservation(tenant, prop["id"], external_ref="PMS-42")
    before = db_state(services)
    duplicate = {
        "property_id": prop["id"],
        "external_ref": "PMS-42",
        "check_in": "2026-08-01",
        "check_out": "2026-08-02",
    }
    assert_error(tenant.post("/v1/reservations", duplicate), 409, "duplicate_external_ref", "external_ref")
    assert db_state(services) == before
    # Another property of the same account may reuse the reference.
    elsewhere = create_reservation(tenant, other["id"], external_ref="PMS-42")
    assert elsewhere["external_ref"] == "PMS-42"
    # References are compared exactly.
    create_reservation(tenant, prop["id"], external_ref="pms-42")
    assert count_rows(services, "reservations") == 3
    listed = ok(tenant.get("/v1/reservations?external_ref=PMS-42"))["data"]
    assert sorted(r["id"] for r in listed) == sorted([first["id"], elsewhere["id"]])


def test_another_account_may_use_the_same_external_ref(tenant: Tenant, other_tenant: Tenant) -> None:
    mine = create_property(tenant)
    theirs = create_property(other_tenant)
    create_reservation(tenant, mine["id"], external_ref="R-1")
    assert create_reservation(other_tenant, theirs["id"], external_ref="R-1")["external_ref"] == "R-1"


def test_patching_onto_an_existing_external_ref(tenant: Tenant, prop: Any, services: AppServices) -> None:
    first = create_reservation(tenant, prop["id"], external_ref="A")
    second = create_reservation(tenant, prop["id"], external_ref="B")
    before = db_state(services)
    response = tenant.patch(f"/v1/reservations/{second['id']}", {"external_ref": "A"})
    assert_error(response, 409, "duplicate_external_ref", "external_ref")
    assert db_state(services) == before
    # Its own reference is no conflict; clearing one frees it for another stay.
    assert ok(tenant.patch(f"/v1/reservations/{first['id']}", {"external_ref": "A"}))["external_ref"] == "A"
    assert ok(tenant.patch(f"/v1/reservations/{first['id']}", {"external_ref": None}))["external_ref"] is None
    assert ok(tenant.patch(f"/v1/reservations/{second['id']}", {"external_ref": "A"}))["external_ref"] == "A"


def test_unit_can_be_assigned_changed_and_cleared(tenant: Tenant, prop: Any) -> None:
    room_1 = create_unit(tenant, prop["id"], "1")
    room_2 = create_unit(tenant, prop["id"], "2")
    stay = create_reservation(tenant, prop["id"])
    assert ok(tenant.patch(f"/v1/reservations/{stay['id']}", {"unit_id": room_1["id"]}))["unit_id"] == room_1["id"]
    assert ok(tenant.patch(f"/v1/reservations/{stay['id']}", {"unit_id": room_2["id"]}))["unit_id"] == room_2["id"]
    assert [r["id"] for r in ok(tenant.get(f"/v1/reservations?unit_id={room_2['id']}"))["data"]] == [stay["id"]]
    assert ok(tenant.get(f"/v1/reservations?unit_id={room_1['id']}"))["data"] == []
    assert ok(tenant.patch(f"/v1/reservations/{stay['id']}", {"unit_id": None}))["unit_id"] is None


def test_guest_patch_merges(tenant: Tenant, prop: Any) -> None:
    guest = {"name": "Ada", "email": "ada@example.com", "phone": None, "language": "en"}
    stay = create_reservation(tenant, prop["id"], guest=guest)
    patched = ok(tenant.patch(f"/v1/reservations/{stay['id']}", {"guest": {"phone": "+351 21 000 0000"}}))
    assert patched["guest"] == {**guest, "phone": "+351 21 000 0000"}
    cleared = ok(tenant.patch(f"/v1/reservations/{stay['id']}", {"guest": {"email": None}}))
    assert cleared["guest"] == {**guest, "phone": "+351 21 000 0000", "email": None}
    untouched = ok(tenant.patch(f"/v1/reservations/{stay['id']}", {}))
    assert untouched["guest"] == cleared["guest"]
    assert (untouched["status"], untouched["check_in"]) == (stay["status"], stay["check_in"])
