"""Acceptance: `doorpin serve` alone (embedded worker and simulated keypad hub) hears what
happens at its doors. A guest's key-in shows on the stay within seconds, attributed and with
`first_used_at`; someone guessing codes raises one alert; a canceled stay's code tried raises
`revoked_code_tried`. Everything through the public API and the hub's keypad."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.server import BACKENDS, LiveServer, call, eventually, serving_with_worker

pytestmark = pytest.mark.e2e
GUESSES = ["000000", "111111", "222222", "333333", "444444"]  # weak: never a generated PIN


@pytest.fixture(scope="module", params=BACKENDS)
def serving(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serving_with_worker(
        str(request.param), tmp_path_factory, "access-events", {"DOORPIN_EVENTS_POLL_SECONDS": "1"}
    ) as server:
        yield server


def keypad(server: LiveServer, lock_id: str, code: str) -> str:
    return str(call(server, "POST", f"/v1/locks/{lock_id}/keypad", {"code": code})["result"])


def lock_states(server: LiveServer, stay_id: str) -> list[str]:
    return [lock["state"] for lock in call(server, "GET", f"/v1/reservations/{stay_id}")["access"]["locks"]]


def history(server: LiveServer, stay_id: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = call(server, "GET", f"/v1/reservations/{stay_id}/access-events")["data"]
    return data


def open_alerts(server: LiveServer, kind: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = call(server, "GET", f"/v1/alerts?kind={kind}&status=open")["data"]
    return data


@pytest.fixture(scope="module")
def house(serving: LiveServer) -> dict[str, Any]:
    prop = call(serving, "POST", "/v1/properties", {"name": "Harbour", "timezone": "Europe/Lisbon"}, 201)
    path = f"/v1/properties/{prop['id']}"
    room = call(serving, "POST", f"{path}/locks", {"name": "Room 7"}, 201)
    gate = call(serving, "POST", f"{path}/locks", {"name": "Garden gate"}, 201)
    unit = call(serving, "POST", f"{path}/units", {"name": "Room 7", "lock_ids": [room["id"]]}, 201)
    other = call(serving, "POST", f"{path}/units", {"name": "Shed", "lock_ids": [gate["id"]]}, 201)
    return {"property": prop, "room": room["id"], "gate": gate["id"], "unit": unit["id"], "shed": other["id"]}


def stay_now(server: LiveServer, house: dict[str, Any], status: str = "IN_HOUSE") -> dict[str, Any]:
    today = datetime.now(UTC).date()
    body = {
        "property_id": house["property"]["id"],
        "unit_id": house["unit"],
        "status": status,
        "check_in": (today - timedelta(days=1)).isoformat(),
        "check_out": (today + timedelta(days=2)).isoformat(),
    }
    stay: dict[str, Any] = call(server, "POST", "/v1/reservations", body, 201)
    eventually(lambda: lock_states(server, stay["id"]) == ["programmed"], "programming")
    return stay


def test_a_guest_s_key_in_shows_on_the_stay_within_seconds(serving: LiveServer, house: dict[str, Any]) -> None:
    stay = stay_now(serving, house)
    assert call(serving, "GET", f"/v1/reservations/{stay['id']}")["access"]["first_used_at"] is None
    pin = stay["access"]["pin"]  # an admin key reads it
    assert keypad(serving, house["room"], pin) == "granted"

    [event] = eventually(lambda: history(serving, stay["id"]), "the key-in on the stay")
    assert (event["result"], event["attribution"], event["source"]) == ("granted", "in_window", "poll")
    assert event["lock_id"] == house["room"]
    assert event["credential"]["type"] == "access_code"
    assert event["credential"]["id"] is not None
    assert event["reservation_id"] == stay["id"]
    assert pin not in str(event)
    access = call(serving, "GET", f"/v1/reservations/{stay['id']}")["access"]
    assert access["first_used_at"] == event["occurred_at"]


def test_five_wrong_codes_raise_one_alert(serving: LiveServer, house: dict[str, Any]) -> None:
    answers = [keypad(serving, house["gate"], code) for code in GUESSES]
    assert answers == ["denied"] * 4 + ["lockout"]
    [alert] = eventually(lambda: open_alerts(serving, "repeated_wrong_codes"), "the wrong-codes alert")
    assert alert["subject"] == {"type": "lock", "id": house["gate"]}
    assert alert["severity"] == "warning"
    assert "Garden gate" in alert["message"]
    time.sleep(3)  # a few polls later: still one alert
    assert len(open_alerts(serving, "repeated_wrong_codes")) == 1


def test_a_canceled_stay_s_code_tried_raises_revoked_code_tried(serving: LiveServer, house: dict[str, Any]) -> None:
    canceled = stay_now(serving, house, status="CONFIRMED")  # its window is open: on the door now
    call(serving, "PATCH", f"/v1/reservations/{canceled['id']}", {"status": "CANCELED"})
    eventually(lambda: lock_states(serving, canceled["id"]) == ["removed"], "removal")
    assert keypad(serving, house["room"], canceled["access"]["pin"]) == "denied"

    [alert] = eventually(lambda: open_alerts(serving, "revoked_code_tried"), "the revoked-code alert")
    assert alert["subject"] == {"type": "reservation", "id": canceled["id"]}
    assert "Room 7" in alert["message"]
    assert canceled["access"]["pin"] not in alert["message"]
    [event] = history(serving, canceled["id"])
    assert (event["result"], event["attribution"]) == ("denied", "revoked")
