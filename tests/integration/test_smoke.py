"""The API answers on both databases: a property, a unit with its lock, a stay."""

from __future__ import annotations

from tests.support.api import Tenant


def test_create_and_read_back_a_stay(tenant: Tenant) -> None:
    prop = tenant.post("/v1/properties", {"name": "Alfama", "timezone": "Europe/Lisbon"})
    assert prop.status_code == 201, prop.text
    pid = prop.json()["id"]
    lock = tenant.post(f"/v1/properties/{pid}/locks", {"name": "Room 1 door"}).json()
    unit = tenant.post(f"/v1/properties/{pid}/units", {"name": "Room 1", "lock_ids": [lock["id"]]})
    assert unit.status_code == 201, unit.text
    assert unit.json()["lock_ids"] == [lock["id"]]
    assert tenant.get(f"/v1/locks/{lock['id']}").json()["unit_ids"] == [unit.json()["id"]]
    stay = tenant.post(
        "/v1/reservations",
        {"property_id": pid, "unit_id": unit.json()["id"], "check_in": "2026-10-25", "check_out": "2026-10-27"},
    )
    assert stay.status_code == 201, stay.text
    # 2026-10-25 is the day Lisbon leaves summer time: 15:00 that afternoon is UTC+0.
    assert stay.json()["check_in"] == "2026-10-25T15:00:00+00:00"
    assert tenant.get(f"/v1/reservations/{stay.json()['id']}").json() == stay.json()
