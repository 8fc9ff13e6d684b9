"""/v1/reservations: date and time inputs in property time, offsets in answers, filters, validation."""

from __future__ import annotations

from typing import Any

import pytest

from doorpin.bootstrap import AppServices
from tests.support.api import Tenant
from tests.support.resources import (
    assert_error,
    count_rows,
    create_property,
    create_reservation,
    create_unit,
    db_state,
    ok,
)


@pytest.fixture
def berlin(tenant: Tenant) -> Any:
    return create_property(tenant, "Mitte", timezone="Europe/Berlin")


def _stay(tenant: Tenant, prop: Any, check_in: str, check_out: str) -> Any:
    return create_reservation(tenant, prop["id"], check_in=check_in, check_out=check_out)


def test_create_get_and_list_answer_documented_statuses(tenant: Tenant, berlin: Any) -> None:
    unit = create_unit(tenant, berlin["id"])
    body = {
        "property_id": berlin["id"],
        "external_ref": "PMS-1",
        "unit_id": unit["id"],
        "check_in": "2026-07-10",
        "check_out": "2026-07-12",
        "guest": {"name": "Ada", "email": "ada@example.com", "phone": "+49 30 1234567", "language": "de"},
    }
    stay = ok(tenant.post("/v1/reservations", body), 201)
    assert stay["id"].startswith("res_")
    assert (stay["property_id"], stay["unit_id"], stay["external_ref"]) == (berlin["id"], unit["id"], "PMS-1")
    assert stay["status"] == "CONFIRMED"
    assert stay["guest"] == body["guest"]
    assert "access" in stay
    assert ok(tenant.get(f"/v1/reservations/{stay['id']}"))["id"] == stay["id"]
    page = ok(tenant.get("/v1/reservations"))
    assert set(page) == {"data", "next_cursor"}
    assert [r["id"] for r in page["data"]] == [stay["id"]]
    assert page["next_cursor"] is None


def test_a_stay_without_unit_is_stored_with_defaults(tenant: Tenant, berlin: Any) -> None:
    stay = _stay(tenant, berlin, "2026-07-10", "2026-07-12")
    assert stay["unit_id"] is None
    assert stay["external_ref"] is None
    assert stay["status"] == "CONFIRMED"
    assert stay["guest"] == {"name": None, "email": None, "phone": None, "language": None}


@pytest.mark.parametrize(
    ("check_in", "expected"),
    [
        # A date: property-local, at the property's check-in time, with that day's offset.
        ("2026-07-10", "2026-07-10T15:00:00+02:00"),
        ("2026-10-25", "2026-10-25T15:00:00+01:00"),  # the day Berlin leaves summer time
        # A naive datetime is read on the property's wall clock.
        ("2026-07-10T16:30", "2026-07-10T16:30:00+02:00"),
        ("2026-12-01T09:15:00", "2026-12-01T09:15:00+01:00"),
        # 02:30 does not exist on 2026-03-29 in Berlin (02:00 -> 03:00): it moves forward.
        ("2026-03-29T02:30", "2026-03-29T03:30:00+02:00"),
        # 02:30 happens twice on 2026-10-25 in Berlin: the first occurrence (still summer time).
        ("2026-10-25T02:30", "2026-10-25T02:30:00+02:00"),
        # An aware datetime is that instant, shown on the property's wall clock.
        ("2026-07-10T12:00:00Z", "2026-07-10T14:00:00+02:00"),
        ("2026-07-10T09:00:00-04:00", "2026-07-10T15:00:00+02:00"),
        ("2026-10-25T02:30:00+01:00", "2026-10-25T02:30:00+01:00"),  # the second 02:30, asked for
    ],
)
def test_check_in_inputs_are_read_in_property_time(tenant: Tenant, berlin: Any, check_in: str, expected: str) -> None:
    stay = _stay(tenant, berlin, check_in, "2026-12-24")
    assert stay["check_in"] == expected
    assert ok(tenant.get(f"/v1/reservations/{stay['id']}"))["check_in"] == expected


def test_check_out_date_uses_the_check_out_time(tenant: Tenant) -> None:
    prop = create_property(tenant, timezone="America/New_York", check_in_time="16:00", check_out_time="10:30")
    stay = _stay(tenant, prop, "2026-03-07", "2026-03-09")  # New York springs forward on 2026-03-08
    assert stay["check_in"] == "2026-03-07T16:00:00-05:00"
    assert stay["check_out"] == "2026-03-09T10:30:00-04:00"


def test_check_in_time_inside_a_dst_gap_moves_forward(tenant: Tenant) -> None:
    prop = create_property(tenant, timezone="Europe/Berlin", check_in_time="02:30", check_out_time="02:30")
    stay = _stay(tenant, prop, "2026-03-29", "2026-10-25")
    assert stay["check_in"] == "2026-03-29T03:30:00+02:00"
    assert stay["check_out"] == "2026-10-25T02:30:00+02:00"


def test_every_time_in_an_answer_carries_the_property_offset(tenant: Tenant) -> None:
    prop = create_property(tenant, timezone="Asia/Kolkata")
    stay = _stay(tenant, prop, "2026-07-10", "2026-07-12")
    for field in ("check_in", "check_out", "created_at", "updated_at"):
        assert stay[field].endswith("+05:30"), (field, stay[field])
    assert stay["created_at"] == "2026-06-01T17:30:00+05:30"  # the fake clock's 12:00 UTC


def test_filters(tenant: Tenant, berlin: Any) -> None:
    lisbon = create_property(tenant, "Alfama", timezone="Europe/Lisbon")
    unit = create_unit(tenant, berlin["id"])
    a = create_reservation(tenant, berlin["id"], external_ref="A", unit_id=unit["id"])
    b = create_reservation(tenant, berlin["id"], external_ref="B", check_in="2026-07-11", check_out="2026-07-13")
    c = create_reservation(tenant, lisbon["id"], external_ref="A")
    ok(tenant.patch(f"/v1/reservations/{b['id']}", {"status": "CANCELED"}))

    def ids(query: str) -> set[str]:
        found = [r["id"] for r in ok(tenant.get(f"/v1/reservations?{query}"))["data"]]
        assert len(found) == len(set(found))
        return set(found)

    assert ids("") == {a["id"], b["id"], c["id"]}
    assert ids(f"property_id={berlin['id']}") == {a["id"], b["id"]}
    assert ids(f"property_id={lisbon['id']}") == {c["id"]}
    assert ids("status=CANCELED") == {b["id"]}
    assert ids("status=CONFIRMED") == {a["id"], c["id"]}
    assert ids("status=IN_HOUSE") == set()
    assert ids(f"unit_id={unit['id']}") == {a["id"]}
    assert ids("external_ref=A") == {a["id"], c["id"]}
    assert ids(f"external_ref=A&property_id={lisbon['id']}") == {c["id"]}
    assert ids(f"property_id={berlin['id']}&arriving_on=2026-07-11") == {b["id"]}
    assert ids(f"property_id={berlin['id']}&arriving_on=2026-07-11&status=CONFIRMED") == set()


def test_arriving_on_is_the_property_local_date(tenant: Tenant) -> None:
    auckland = create_property(tenant, "Ponsonby", timezone="Pacific/Auckland")  # UTC+12 in July
    just_after_midnight = _stay(tenant, auckland, "2026-07-10T00:30", "2026-07-12")
    just_before_midnight = _stay(tenant, auckland, "2026-07-09T23:30", "2026-07-12")
    # Both arrive on 2026-07-09 in UTC; on the property's calendar they are a day apart.
    assert just_after_midnight["check_in"] == "2026-07-10T00:30:00+12:00"
    assert just_before_midnight["check_in"] == "2026-07-09T23:30:00+12:00"

    def arriving(day: str) -> list[str]:
        page = ok(tenant.get(f"/v1/reservations?property_id={auckland['id']}&arriving_on={day}"))
        return [r["id"] for r in page["data"]]

    assert arriving("2026-07-10") == [just_after_midnight["id"]]
    assert arriving("2026-07-09") == [just_before_midnight["id"]]
    assert arriving("2026-07-08") == []


def test_bad_filters_are_validation_errors(tenant: Tenant, berlin: Any) -> None:
    for query, field in (
        ("arriving_on=2026-07-10", "arriving_on"),
        (f"property_id={berlin['id']}&arriving_on=2026-02-30", "arriving_on"),
        (f"property_id={berlin['id']}&arriving_on=tomorrow", "arriving_on"),
        ("status=ARRIVED", "status"),
        ("status=confirmed", "status"),
        ("external_ref=" + "x" * 5000, "external_ref"),
        ("property_id=" + "p" * 41, "property_id"),
    ):
        assert_error(tenant.get(f"/v1/reservations?{query}"), 422, "validation_error", field)


def test_unknown_property_as_filter_or_target_is_not_found(tenant: Tenant, services: AppServices) -> None:
    missing = "prop_00000000000000000000000000"
    assert_error(tenant.get(f"/v1/reservations?property_id={missing}"), 404, "not_found", "property_id")
    before = db_state(services)
    body = {"property_id": missing, "check_in": "2026-07-10", "check_out": "2026-07-12"}
    assert_error(tenant.post("/v1/reservations", body), 404, "not_found", "property_id")
    assert_error(tenant.get("/v1/reservations/res_00000000000000000000000000"), 404, "not_found")
    assert_error(
        tenant.patch("/v1/reservations/res_00000000000000000000000000", {"status": "CANCELED"}), 404, "not_found"
    )
    assert db_state(services) == before


@pytest.mark.parametrize(
    ("check_in", "check_out"),
    [
        ("2026-07-10", "2026-07-10"),  # 11:00 is before 15:00 the same day
        ("2026-07-12", "2026-07-10"),
        ("2026-07-10T15:00", "2026-07-10T15:00"),
        ("2026-07-10T15:00:00+02:00", "2026-07-10T13:00:00Z"),  # the same instant
        ("2026-07-10", "2029-07-10"),  # longer than two years
    ],
)
def test_check_out_not_after_check_in_is_invalid_window(
    tenant: Tenant, berlin: Any, services: AppServices, check_in: str, check_out: str
) -> None:
    before = db_state(services)
    body = {"property_id": berlin["id"], "check_in": check_in, "check_out": check_out}
    assert_error(tenant.post("/v1/reservations", body), 422, "invalid_window", "check_out")
    assert db_state(services) == before


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"check_in": "2026-02-30"}, "check_in"),
        ({"check_out": "2026-13-01"}, "check_out"),
        ({"check_in": "2026-07-10T25:00"}, "check_in"),
        ({"check_in": "next friday"}, "check_in"),
        ({"check_in": ""}, "check_in"),
        ({"check_in": 1783000000}, "check_in"),
        ({"check_in": True}, "check_in"),
        ({"check_in": ["2026-07-10"]}, "check_in"),
        ({"check_in": "0001-01-01T00:30:00+05:00"}, "check_in"),
        ({"check_out": "9999-12-31T23:30:00-12:00"}, "check_out"),
        ({"external_ref": "x" * 5000}, "external_ref"),
        ({"external_ref": ""}, "external_ref"),
        ({"status": "ARRIVED"}, "status"),
        ({"unit_id": "unit-1"}, "unit_id"),
        ({"guest": {"email": "not an email"}}, "guest.email"),
        ({"guest": {"phone": "call me"}}, "guest.phone"),
        ({"guest": {"language": "klingon!"}}, "guest.language"),
        ({"guest": {"name": "x" * 201}}, "guest.name"),
        ({"guest": {"age": 40}}, "guest.age"),
        ({"pin": "123456"}, "pin"),
        ({"property_id": 7}, "property_id"),
    ],
)
def test_invalid_fields_are_validation_errors(
    tenant: Tenant, berlin: Any, services: AppServices, patch: dict[str, Any], field: str
) -> None:
    stay = _stay(tenant, berlin, "2026-07-10", "2026-07-12")
    before = db_state(services)
    body = {"property_id": berlin["id"], "check_in": "2026-07-10", "check_out": "2026-07-12", **patch}
    assert_error(tenant.post("/v1/reservations", body), 422, "validation_error", field)
    if field != "property_id":
        assert_error(tenant.patch(f"/v1/reservations/{stay['id']}", patch), 422, "validation_error", field)
    assert db_state(services) == before


def test_required_fields(tenant: Tenant, berlin: Any, services: AppServices) -> None:
    full = {"property_id": berlin["id"], "check_in": "2026-07-10", "check_out": "2026-07-12"}
    for missing in full:
        body = {k: v for k, v in full.items() if k != missing}
        assert_error(tenant.post("/v1/reservations", body), 422, "validation_error", missing)
    assert count_rows(services, "reservations") == 0


def test_unit_must_belong_to_the_property(tenant: Tenant, berlin: Any, services: AppServices) -> None:
    elsewhere = create_property(tenant, "Elsewhere")
    far_unit = create_unit(tenant, elsewhere["id"])
    stay = _stay(tenant, berlin, "2026-07-10", "2026-07-12")
    before = db_state(services)
    body = {"property_id": berlin["id"], "unit_id": far_unit["id"], "check_in": "2026-07-10", "check_out": "2026-07-12"}
    assert_error(tenant.post("/v1/reservations", body), 422, "validation_error", "unit_id")
    assert_error(tenant.patch(f"/v1/reservations/{stay['id']}", {"unit_id": far_unit["id"]}), 422, "validation_error")
    assert db_state(services) == before
