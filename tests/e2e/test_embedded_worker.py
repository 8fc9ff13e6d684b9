"""`doorpin serve` alone (embedded worker, embedded simulated keypad hub) puts codes on doors:
programmed within seconds, removed at check-out, granted on the keypad inside the window only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.server import BACKENDS, LiveServer, call, eventually, serving_with_worker

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=BACKENDS)
def serving(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serving_with_worker(str(request.param), tmp_path_factory, "worker") as server:
        yield server


def lock_states(server: LiveServer, stay_id: str) -> list[str]:
    return [lock["state"] for lock in call(server, "GET", f"/v1/reservations/{stay_id}")["access"]["locks"]]


def state_on(server: LiveServer, stay_id: str, lock_id: str) -> str | None:
    locks = call(server, "GET", f"/v1/reservations/{stay_id}")["access"]["locks"]
    return next((lock["state"] for lock in locks if lock["lock_id"] == lock_id), None)


def keypad(server: LiveServer, lock_id: str, code: str) -> str:
    return str(call(server, "POST", f"/v1/locks/{lock_id}/keypad", {"code": code})["result"])


def test_codes_reach_the_simulated_locks_and_leave_them(serving: LiveServer) -> None:
    prop = call(serving, "POST", "/v1/properties", {"name": "Quay", "timezone": "Europe/Lisbon"}, 201)
    entrance = call(serving, "POST", f"/v1/properties/{prop['id']}/locks", {"name": "Entrance"}, 201)
    room_lock = {"name": "Room 1", "capabilities": {"native_scheduling": True}}
    door = call(serving, "POST", f"/v1/properties/{prop['id']}/locks", room_lock, 201)
    unit = call(
        serving, "POST", f"/v1/properties/{prop['id']}/units", {"name": "Room 1", "lock_ids": [door["id"]]}, 201
    )
    today = datetime.now(UTC).date()
    here_now = {
        "property_id": prop["id"],
        "unit_id": unit["id"],
        "status": "IN_HOUSE",
        "check_in": (today - timedelta(days=1)).isoformat(),
        "check_out": (today + timedelta(days=2)).isoformat(),
    }
    guest = call(serving, "POST", "/v1/reservations", here_now, 201)
    pin = guest["access"]["pin"]
    eventually(lambda: lock_states(serving, guest["id"]) == ["programmed", "programmed"], "programming")
    assert keypad(serving, door["id"], pin) == "granted"
    assert keypad(serving, entrance["id"], pin) == "granted"

    # A stay two days out: its room keypad schedules natively, so it holds the code already,
    # but refuses it outside the window.
    later = {**here_now, "status": "CONFIRMED", "check_in": (today + timedelta(days=2)).isoformat()}
    later["check_out"] = (today + timedelta(days=4)).isoformat()
    future = call(serving, "POST", "/v1/reservations", later, 201)
    eventually(lambda: state_on(serving, future["id"], door["id"]) == "programmed", "programming ahead")
    assert keypad(serving, door["id"], future["access"]["pin"]) == "denied"

    call(serving, "PATCH", f"/v1/reservations/{guest['id']}", {"status": "CHECKED_OUT"})
    eventually(lambda: lock_states(serving, guest["id"]) == ["removed", "removed"], "removal")
    assert keypad(serving, door["id"], pin) == "denied"
    assert keypad(serving, entrance["id"], pin) == "denied"
    health = call(serving, "GET", f"/v1/locks/{door['id']}")["health"]
    assert health["status"] == "ok"
    assert health["last_contact_at"] is not None
