"""/v1/access-codes: non-guest codes, their doors, windows, schedules, immutability, rotation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from doorpin.bootstrap import AppServices
from doorpin.domain.pins import weakness
from doorpin.services.access_codes import rotate_due_codes
from tests.support.access import Building, building, pin_of, put_pin, stay
from tests.support.api import Tenant
from tests.support.clock import FakeClock
from tests.support.resources import assert_error, create_lock, db_state, ok, walk

KINDS = ["staff", "cleaning", "maintenance", "technical", "event", "backup", "delivery"]
GONE = {"removed", "removing"}


@pytest.fixture
def house(tenant: Tenant) -> Building:
    return building(tenant)


def new_code(tenant: Tenant, house: Building, **fields: Any) -> Any:
    body = {"property_id": house.id, "kind": "staff", "name": "Staff", **fields}
    if "lock_ids" not in fields and "unit_ids" not in fields:
        body["lock_ids"] = [house.entrance["id"]]
    return ok(tenant.post("/v1/access-codes", body), 201)


def doors(code: Any) -> dict[str, str]:
    return {lock["lock_id"]: lock["state"] for lock in code["access"]["locks"]}


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_of_code_is_created_with_a_generated_pin(tenant: Tenant, house: Building, kind: str) -> None:
    code = new_code(tenant, house, kind=kind, name=f"The {kind} code")
    assert code["id"].startswith("ac_")
    assert (code["kind"], code["name"], code["property_id"]) == (kind, f"The {kind} code", house.id)
    assert code["pin_source"] == "generated"
    assert len(code["pin"]) == 6
    assert set(code["pin"]) <= set("0123456789")
    assert weakness(code["pin"]) is None
    assert (code["enabled"], code["state"]) == (True, "active")
    assert doors(code) == {house.entrance["id"]: "pending"}
    assert ok(tenant.get(f"/v1/access-codes/{code['id']}")) == code
    assert [c["id"] for c in walk(tenant, f"/v1/access-codes?kind={kind}", 10)] == [code["id"]]


def test_doors_by_lock_and_by_unit(tenant: Tenant, house: Building) -> None:
    by_lock = new_code(tenant, house, lock_ids=[house.door_a["id"]])
    assert doors(by_lock) == {house.door_a["id"]: "pending"}
    assert (by_lock["lock_ids"], by_lock["unit_ids"]) == ([house.door_a["id"]], None)
    by_unit = new_code(tenant, house, kind="cleaning", unit_ids=[house.unit_b["id"]])
    # A unit's doors: its own lock and the common entrance.
    assert doors(by_unit) == {house.entrance["id"]: "pending", house.door_b["id"]: "pending"}
    both = new_code(tenant, house, kind="maintenance", lock_ids=[house.door_a["id"]], unit_ids=[house.unit_b["id"]])
    assert set(doors(both)) == {house.entrance["id"], house.door_a["id"], house.door_b["id"]}


def test_doors_must_be_named_and_belong_to_the_property(tenant: Tenant, house: Building) -> None:
    elsewhere = building(tenant, timezone="Asia/Tokyo")
    body = {"property_id": house.id, "kind": "staff", "name": "Staff"}
    assert_error(tenant.post("/v1/access-codes", body), 422, "validation_error")
    for field, value in (("lock_ids", elsewhere.entrance["id"]), ("unit_ids", elsewhere.unit_a["id"])):
        assert_error(tenant.post("/v1/access-codes", {**body, field: [value]}), 422, "validation_error", field)


def test_dates_are_property_local_midnights(tenant: Tenant, house: Building, clock: FakeClock) -> None:
    code = new_code(tenant, house, starts_at="2026-07-01", ends_at="2026-10-26")
    assert (code["starts_at"], code["ends_at"]) == ("2026-07-01T00:00:00+02:00", "2026-10-26T00:00:00+01:00")
    assert code["state"] == "scheduled"
    timed = new_code(tenant, house, starts_at="2026-07-01T08:30", ends_at="2026-07-01T17:00:00Z")
    assert (timed["starts_at"], timed["ends_at"]) == ("2026-07-01T08:30:00+02:00", "2026-07-01T19:00:00+02:00")
    clock.set(clock.now() + timedelta(days=31))
    assert ok(tenant.get(f"/v1/access-codes/{code['id']}"))["state"] == "active"
    assert ok(tenant.get(f"/v1/access-codes/{timed['id']}"))["state"] == "expired"


@pytest.mark.parametrize(
    "window",
    [
        {"starts_at": "2026-07-02", "ends_at": "2026-07-01"},
        {"starts_at": "2026-07-01", "ends_at": "2026-07-01"},
        {"starts_at": "2026-07-01T10:00", "ends_at": "2026-07-01T08:00:00Z"},  # 10:00 local is 08:00Z
        {"ends_at": "2026-05-01"},  # starts now, on 2026-06-01
    ],
)
def test_a_window_that_ends_before_it_starts_is_invalid(
    tenant: Tenant, services: AppServices, house: Building, window: dict[str, str]
) -> None:
    body = {"property_id": house.id, "kind": "event", "name": "Party", "lock_ids": [house.entrance["id"]], **window}
    before = db_state(services)
    assert_error(tenant.post("/v1/access-codes", body), 422, "invalid_window", "ends_at")
    assert db_state(services) == before


def test_a_weekly_schedule_is_kept_as_given(tenant: Tenant, house: Building) -> None:
    schedule = [
        {"days": ["mon", "tue"], "from": "08:00", "to": "17:00"},
        {"days": ["sat"], "from": "22:00", "to": "06:00"},
    ]
    code = new_code(tenant, house, kind="cleaning", schedule=schedule)
    assert code["schedule"] == schedule
    changed = ok(tenant.patch(f"/v1/access-codes/{code['id']}", {"schedule": schedule[:1]}))
    assert changed["schedule"] == schedule[:1]


@pytest.mark.parametrize(
    "window",
    [
        {"days": ["monday"], "from": "08:00", "to": "17:00"},
        {"days": [], "from": "08:00", "to": "17:00"},
        {"days": ["mon"], "from": "25:00", "to": "17:00"},
        {"days": ["mon"], "from": "8:00", "to": "17:00"},
        {"days": ["mon"], "from": "08:00", "to": "17:60"},
        {"days": ["mon"], "from": "08:00", "to": "08:00"},
        {"days": ["mon"], "from": "08:00"},
    ],
)
def test_bad_schedules_are_validation_errors(
    tenant: Tenant, services: AppServices, house: Building, window: dict[str, Any]
) -> None:
    body = {"property_id": house.id, "kind": "staff", "name": "S", "lock_ids": [house.entrance["id"]]}
    code = new_code(tenant, house)
    before = db_state(services)
    assert_error(tenant.post("/v1/access-codes", {**body, "schedule": [window]}), 422, "validation_error")
    patched = tenant.patch(f"/v1/access-codes/{code['id']}", {"schedule": [window]})
    assert_error(patched, 422, "validation_error")
    assert db_state(services) == before


def test_a_code_pin_can_never_be_changed(tenant: Tenant, services: AppServices, house: Building) -> None:
    code = new_code(tenant, house, pin="739164")
    before = db_state(services)
    for pin in ("582047", "739164", "******"):
        assert_error(tenant.patch(f"/v1/access-codes/{code['id']}", {"pin": pin}), 422, "pin_immutable", "pin")
        body = {"pin": pin, "name": "renamed"}
        assert_error(tenant.patch(f"/v1/access-codes/{code['id']}", body), 422, "pin_immutable", "pin")
    assert db_state(services) == before
    assert ok(tenant.get(f"/v1/access-codes/{code['id']}"))["pin"] == "739164"


def test_custom_pins_are_checked_like_stay_pins(tenant: Tenant, services: AppServices) -> None:
    house = building(tenant)
    six = create_lock(tenant, house.id, "Six only", capabilities={"code_lengths": [6]})
    body = {"property_id": house.id, "kind": "staff", "name": "S", "lock_ids": [house.entrance["id"]]}
    before = db_state(services)
    for pin in ("12AB", "123", "１２３４５６", "7391 "):
        assert_error(tenant.post("/v1/access-codes", {**body, "pin": pin}), 422, "pin_invalid_format", "pin")
    assert_error(tenant.post("/v1/access-codes", {**body, "pin": "123456"}), 422, "pin_too_weak", "pin")
    six_body = {**body, "lock_ids": [six["id"]], "pin": "7391"}
    assert_error(tenant.post("/v1/access-codes", six_body), 422, "pin_invalid_format", "pin")
    assert db_state(services) == before
    code = ok(tenant.post("/v1/access-codes", {**body, "pin": "73916428"}), 201)
    assert (code["pin"], code["pin_source"]) == ("73916428", "custom")


def test_disabling_and_enabling_a_code(tenant: Tenant, house: Building) -> None:
    code = new_code(tenant, house, unit_ids=[house.unit_a["id"]])
    disabled = ok(tenant.patch(f"/v1/access-codes/{code['id']}", {"enabled": False}))
    assert (disabled["enabled"], disabled["state"], disabled["pin"]) == (False, "disabled", code["pin"])
    assert set(doors(disabled)) == {house.entrance["id"], house.door_a["id"]}
    assert ok(tenant.get(f"/v1/access-codes/{code['id']}"))["state"] == "disabled"
    enabled = ok(tenant.patch(f"/v1/access-codes/{code['id']}", {"enabled": True}))
    assert (enabled["state"], enabled["pin"]) == ("active", code["pin"])


def test_delete_revokes_the_code_on_every_door(tenant: Tenant, house: Building) -> None:
    code = new_code(tenant, house, unit_ids=[house.unit_a["id"]])
    deleted = ok(tenant.delete(f"/v1/access-codes/{code['id']}"))
    assert deleted["state"] == "revoked"
    assert set(doors(deleted)) == {house.entrance["id"], house.door_a["id"]}
    assert set(doors(deleted).values()) <= GONE
    again = ok(tenant.get(f"/v1/access-codes/{code['id']}"))
    assert again["state"] == "revoked"
    assert set(doors(again).values()) <= GONE
    assert again["pin"] != code["pin"]  # a revoked code is not revealed any more
    assert_error(tenant.patch(f"/v1/access-codes/{code['id']}", {"enabled": True}), 409, "invalid_transition")
    assert ok(tenant.delete(f"/v1/access-codes/{code['id']}"))["state"] == "revoked"


def test_a_code_and_a_stay_never_share_a_pin_on_a_shared_door(
    tenant: Tenant, services: AppServices, house: Building
) -> None:
    res = stay(tenant, house.id, house.unit_a["id"])
    taken = pin_of(tenant, res["id"])
    assert taken is not None
    before = db_state(services)
    for doors_field in ({"lock_ids": [house.entrance["id"]]}, {"unit_ids": [house.unit_b["id"]]}):
        body = {"property_id": house.id, "kind": "staff", "name": "S", "pin": taken, **doors_field}
        error = assert_error(tenant.post("/v1/access-codes", body), 409, "pin_conflict", "pin")
        assert taken not in error["message"]
    assert db_state(services) == before
    # Door B alone is not shared with the stay: the same PIN is fine there.
    assert new_code(tenant, house, lock_ids=[house.door_b["id"]], pin=taken)["pin"] == taken
    # And the other way round: a stay may not take a live code's PIN on a shared door.
    code = new_code(tenant, house, pin="582047")
    assert_error(put_pin(tenant, res["id"], code["pin"]), 409, "pin_conflict")
    # A code that ended long before the stay frees its PIN.
    old = new_code(tenant, house, pin="640185", ends_at="2026-06-10")
    assert ok(put_pin(tenant, res["id"], old["pin"]))["access"]["pin"] == "640185"


def test_a_rotating_code_is_replaced_when_its_period_is_over(
    tenant: Tenant, services: AppServices, house: Building, clock: FakeClock
) -> None:
    code = new_code(tenant, house, kind="cleaning", unit_ids=[house.unit_a["id"]], rotate_every_days=7)
    assert code["rotate_every_days"] == 7
    assert code["rotates_at"] == "2026-06-08T14:00:00+02:00"
    with services.db.transaction() as session:
        assert rotate_due_codes(session, services.vault, clock.now()) == 0  # not due yet
    clock.advance(days=7, minutes=1)
    with services.db.transaction() as session:
        assert rotate_due_codes(session, services.vault, clock.now()) == 1
    old = ok(tenant.get(f"/v1/access-codes/{code['id']}"))
    assert old["state"] == "revoked"
    assert set(doors(old).values()) <= GONE
    successors = [c for c in walk(tenant, "/v1/access-codes", 50) if c["rotated_from_id"] == code["id"]]
    assert len(successors) == 1
    new = successors[0]
    assert new["pin"] not in (code["pin"], "••••••")
    assert (new["kind"], new["name"], new["rotate_every_days"]) == ("cleaning", "Staff", 7)
    assert new["unit_ids"] == [house.unit_a["id"]]
    assert new["state"] == "active"
    assert doors(new) == {house.entrance["id"]: "pending", house.door_a["id"]: "pending"}
    rotated = walk(tenant, "/v1/events?type=audit.access_code.rotated", 50)
    assert [(e["subject"]["id"], e["data"].get("successor_id")) for e in rotated] == [(code["id"], new["id"])]
    assert code["pin"] not in str(rotated)
    assert new["pin"] not in str(rotated)
    with services.db.transaction() as session:
        assert rotate_due_codes(session, services.vault, clock.now()) == 0  # the successor is not due


def test_another_accounts_code_is_not_found(tenant: Tenant, other_tenant: Tenant, house: Building) -> None:
    code = new_code(tenant, house)
    path = f"/v1/access-codes/{code['id']}"
    assert_error(other_tenant.get(path), 404, "not_found")
    assert_error(other_tenant.patch(path, {"enabled": False}), 404, "not_found")
    assert_error(other_tenant.patch(path, {"pin": "582047"}), 404, "not_found")
    assert_error(other_tenant.delete(path), 404, "not_found")
    assert ok(other_tenant.get("/v1/access-codes"))["data"] == []
    body = {"property_id": house.id, "kind": "staff", "name": "S", "lock_ids": [house.entrance["id"]]}
    assert_error(other_tenant.post("/v1/access-codes", body), 404, "not_found")
    assert ok(tenant.get(path))["state"] == "active"
