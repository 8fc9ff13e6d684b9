"""The keypad hub simulator over real HTTP: persistence across restarts (also after SIGKILL of
`doorpin simulate-locks`), keypad lockout, fault knobs, stats, and its error bodies."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from doorpin.adapters.locks.simulator import start_hub_in_thread

T0 = datetime(2026, 7, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def hub_url() -> Iterator[str]:
    running = start_hub_in_thread(seed=3)
    yield running.base_url
    running.stop()


@pytest.fixture
def http(hub_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hub_url, timeout=10) as client:
        yield client
        client.put("/clock", json={"offset_seconds": 0})


@pytest.fixture
def device(request: pytest.FixtureRequest) -> str:
    return f"dev-{request.node.name[:40]}-{os.getpid()}".replace("[", "-").replace("]", "")


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"], body
    return str(body["error"]["message"])


def counters(http: httpx.Client, device: str) -> dict[str, int]:
    stats = ok(http.get("/stats"))
    lock = stats["locks"].get(device, {"commands": 0, "counters": {}})
    return {"commands": lock["commands"], **lock["counters"]}


# -- persistence -----------------------------------------------------------------------------------


def test_a_restarted_hub_holds_the_same_locks_codes_events_and_faults(tmp_path: Path) -> None:
    state = tmp_path / "hub.sqlite"
    url, stop = start_hub_in_thread(state)
    try:
        with httpx.Client(base_url=url, timeout=10) as http:
            ok(http.put("/locks/front", json={"slots": 7, "code_lengths": [6], "native_scheduling": True}))
            window = {"starts_at": "2026-07-10T13:00:00+00:00", "ends_at": "2026-07-12T10:00:00+00:00"}
            assert ok(http.put("/locks/front/codes/claim-1", json={"pin": "482913", **window})) == {"slot": 1}
            assert ok(http.put("/locks/front/codes/claim-2", json={"pin": "730586"})) == {"slot": 2}
            ok(http.put("/clock", json={"now": "2026-07-11T09:00:00+00:00"}))
            assert ok(http.post("/locks/front/keypad", json={"code": "482913"}))["result"] == "granted"
            ok(http.put("/locks/back/faults", json={"offline": True, "error_rate": 0.25}))
            codes_before = ok(http.get("/locks/front/codes"))
            events_before = ok(http.get("/locks/front/events"))
    finally:
        stop()

    url, stop = start_hub_in_thread(state)
    try:
        with httpx.Client(base_url=url, timeout=10) as http:
            assert ok(http.get("/locks/front/codes")) == codes_before
            assert ok(http.get("/locks/front/events")) == events_before
            lock = ok(http.get("/locks/front"))
            assert (lock["slots"], lock["code_lengths"], lock["native_scheduling"]) == (7, [6], True)
            faults = ok(http.get("/locks/back/faults"))
            assert (faults["offline"], faults["error_rate"]) == (True, 0.25)
            now = datetime.fromisoformat(ok(http.get("/clock"))["now"])
            assert abs(now - datetime(2026, 7, 11, 9, tzinfo=UTC)) < timedelta(minutes=5), "the clock kept its offset"
            # new events continue after the old cursor: nothing is delivered twice
            assert ok(http.post("/locks/front/keypad", json={"code": "730586"}))["result"] == "granted"
            newer = ok(http.get("/locks/front/events", params={"after": events_before["cursor"]}))
            assert [e["code_ref"] for e in newer["events"]] == ["claim-2"]
    finally:
        stop()


def _start_cli(state: Path, log: Path) -> tuple[str, subprocess.Popen[str]]:
    command = [sys.executable, "-m", "doorpin.entrypoints.cli.main", "simulate-locks", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--state", str(state)],
        stdout=subprocess.PIPE,
        stderr=log.open("a"),
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        line = lines.get(timeout=30)
    except queue.Empty:
        process.kill()
        raise AssertionError(f"the hub did not start: {log.read_text()}") from None
    assert line.startswith("keypad hub listening on http://"), line
    return line.split()[4], process


def _wait_healthy(url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError("the hub did not answer /health")


def test_codes_survive_a_sigkill_of_doorpin_simulate_locks(tmp_path: Path) -> None:
    state, log = tmp_path / "hub.sqlite", tmp_path / "hub.log"
    url, process = _start_cli(state, log)
    try:
        _wait_healthy(url)
        with httpx.Client(base_url=url, timeout=10) as http:
            for n in range(5):
                ok(http.put(f"/locks/door-{n % 2}/codes/claim-{n}", json={"pin": f"48291{n}"}))
            ok(http.delete("/locks/door-0/codes/claim-2"))
            ok(http.post("/locks/door-1/keypad", json={"code": "482911"}))
            before = {door: ok(http.get(f"/locks/{door}/codes")) for door in ("door-0", "door-1")}
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL
    assert [c["ref"] for c in before["door-0"]] == ["claim-0", "claim-4"]

    url, process = _start_cli(state, log)
    try:
        _wait_healthy(url)
        with httpx.Client(base_url=url, timeout=10) as http:
            assert {door: ok(http.get(f"/locks/{door}/codes")) for door in ("door-0", "door-1")} == before
            events = ok(http.get("/locks/door-1/events"))["events"]
            assert [(e["result"], e["code_ref"]) for e in events] == [("granted", "claim-1")]
    finally:
        process.terminate()
        process.wait(timeout=10)


# -- keypad ----------------------------------------------------------------------------------------


def test_wrong_codes_within_the_window_lock_the_keypad_out(http: httpx.Client, device: str) -> None:
    ok(http.put(f"/locks/{device}", json={"lockout_after": 3, "lockout_window_seconds": 60, "lockout_seconds": 120}))
    ok(http.put(f"/locks/{device}/codes/claim-1", json={"pin": "482913"}))
    ok(http.put("/clock", json={"now": T0.isoformat()}))
    answers = [ok(http.post(f"/locks/{device}/keypad", json={"code": f"11112{n}"})) for n in range(3)]
    assert [(a["result"], a["reason"]) for a in answers] == [
        ("denied", "unknown_code"),
        ("denied", "unknown_code"),
        ("lockout", "too_many_wrong_codes"),
    ]
    lock = ok(http.get(f"/locks/{device}"))
    assert datetime.fromisoformat(lock["lockout_until"]) - T0 >= timedelta(seconds=119)
    ok(http.put("/clock", json={"now": (T0 + timedelta(seconds=100)).isoformat()}))
    assert ok(http.post(f"/locks/{device}/keypad", json={"code": "482913"}))["result"] == "lockout"
    ok(http.put("/clock", json={"now": (T0 + timedelta(seconds=125)).isoformat()}))
    assert ok(http.post(f"/locks/{device}/keypad", json={"code": "482913"}))["result"] == "granted"
    assert counters(http, device)["keypad_lockout"] == 2


def test_wrong_codes_spread_beyond_the_window_do_not_lock_out(http: httpx.Client, device: str) -> None:
    ok(http.put("/clock", json={"now": T0.isoformat()}))
    for n in range(4):
        assert ok(http.post(f"/locks/{device}/keypad", json={"code": f"99990{n}"}))["result"] == "denied"
    ok(http.put("/clock", json={"now": (T0 + timedelta(seconds=61)).isoformat()}))
    assert ok(http.post(f"/locks/{device}/keypad", json={"code": "999909"}))["result"] == "denied"


def test_a_known_code_outside_its_window_is_denied_and_named(http: httpx.Client, device: str) -> None:
    ok(http.put(f"/locks/{device}", json={"native_scheduling": True}))
    window = {"starts_at": (T0 + timedelta(hours=1)).isoformat(), "ends_at": (T0 + timedelta(hours=2)).isoformat()}
    ok(http.put(f"/locks/{device}/codes/claim-1", json={"pin": "482913", **window}))
    ok(http.put("/clock", json={"now": T0.isoformat()}))
    for _ in range(6):  # a guest trying early is not a guesser: no lockout
        answer = ok(http.post(f"/locks/{device}/keypad", json={"code": "482913"}))
        assert (answer["result"], answer["reason"]) == ("denied", "outside_window")
    event = ok(http.get(f"/locks/{device}/events"))["events"][-1]
    assert (event["result"], event["code_ref"], event["reason"]) == ("denied", "claim-1", "outside_window")


def test_events_page_with_limit_and_cursor(http: httpx.Client, device: str) -> None:
    for n in range(5):
        ok(http.post(f"/locks/{device}/keypad", json={"code": f"55550{n}"}))
    first = ok(http.get(f"/locks/{device}/events", params={"limit": 2}))
    assert [e["pin"] for e in first["events"]] == ["555500", "555501"]
    assert first["has_more"] is True
    rest = ok(http.get(f"/locks/{device}/events", params={"after": first["cursor"], "limit": 10}))
    assert [e["pin"] for e in rest["events"]] == ["555502", "555503", "555504"]
    assert rest["has_more"] is False
    assert ok(http.get(f"/locks/{device}/events", params={"after": rest["cursor"]}))["events"] == []
    error(http.get(f"/locks/{device}/events", params={"after": "not-a-cursor"}), 400, "invalid_request")


# -- fault knobs -----------------------------------------------------------------------------------


def test_latency_delays_every_command_within_its_bounds(http: httpx.Client, device: str) -> None:
    ok(http.put(f"/locks/{device}/faults", json={"latency_min_ms": 150, "latency_ms": 300}))
    elapsed = []
    for _ in range(4):
        started = time.monotonic()
        ok(http.get(f"/locks/{device}/codes"))
        elapsed.append(time.monotonic() - started)
    assert min(elapsed) >= 0.15, elapsed
    assert max(elapsed) < 5, elapsed


def test_error_rate_fails_about_that_share_of_commands_and_applies_none(http: httpx.Client, device: str) -> None:
    ok(http.put(f"/locks/{device}/faults", json={"error_rate": 0.5}))
    statuses = [http.get(f"/locks/{device}/codes") for _ in range(200)]
    failed = [r for r in statuses if r.status_code != 200]
    assert 50 <= len(failed) <= 150, len(failed)
    for response in failed:
        error(response, 503, "transient_error")
    ok(http.put(f"/locks/{device}/faults", json={"error_rate": 1.0}))
    for n in range(5):
        error(http.put(f"/locks/{device}/codes/claim-{n}", json={"pin": f"48291{n}"}), 503, "transient_error")
    ok(http.put(f"/locks/{device}/faults", json={}))
    assert ok(http.get(f"/locks/{device}/codes")) == []
    assert counters(http, device)["fault_error"] == len(failed) + 5


def test_offline_answers_device_offline_but_the_keypad_still_works(http: httpx.Client, device: str) -> None:
    ok(http.put(f"/locks/{device}/codes/claim-1", json={"pin": "482913"}))
    ok(http.put(f"/locks/{device}/faults", json={"offline": True, "latency_min_ms": 1000, "latency_ms": 1000}))
    started = time.monotonic()
    assert ok(http.post(f"/locks/{device}/keypad", json={"code": "482913"}))["result"] == "granted"
    assert time.monotonic() - started < 0.9, "the keypad at the door does not wait on network faults"
    ok(http.put(f"/locks/{device}/faults", json={"offline": True}))
    error(http.get(f"/locks/{device}/codes"), 503, "device_offline")
    error(http.delete(f"/locks/{device}/codes/claim-1"), 503, "device_offline")
    error(http.get(f"/locks/{device}/events"), 503, "device_offline")
    ok(http.delete(f"/locks/{device}/faults"))
    events = ok(http.get(f"/locks/{device}/events"))["events"]
    assert [e["result"] for e in events] == ["granted"], "events kept while offline arrive afterwards"


def test_a_rate_limited_answer_carries_retry_after(http: httpx.Client, device: str) -> None:
    ok(http.put(f"/locks/{device}/faults", json={"rate_limit": 2, "rate_limit_window_seconds": 30}))
    ok(http.get(f"/locks/{device}/codes"))
    ok(http.get(f"/locks/{device}/codes"))
    response = http.get(f"/locks/{device}/codes")
    error(response, 429, "rate_limited")
    assert 1 <= int(response.headers["Retry-After"]) <= 30


def test_memory_full_and_lies(http: httpx.Client, device: str) -> None:
    ok(http.put(f"/locks/{device}/codes/kept", json={"pin": "730586"}))
    ok(http.put(f"/locks/{device}/faults", json={"memory_full": True}))
    error(http.put(f"/locks/{device}/codes/claim-1", json={"pin": "482913"}), 507, "no_space_on_device")
    ok(http.put(f"/locks/{device}/faults", json={"lie_on_store": True, "lie_on_remove": True}))
    assert ok(http.put(f"/locks/{device}/codes/claim-1", json={"pin": "482913"})) == {"slot": 2}
    assert ok(http.delete(f"/locks/{device}/codes/kept")) == {"removed": True}
    assert [c["ref"] for c in ok(http.get(f"/locks/{device}/codes"))] == ["kept"]
    found = counters(http, device)
    assert (found["fault_memory_full"], found["fault_lie_on_store"], found["fault_lie_on_remove"]) == (1, 1, 1)


def test_unknown_fault_knobs_are_refused(http: httpx.Client, device: str) -> None:
    error(http.put(f"/locks/{device}/faults", json={"ofline": True}), 400, "invalid_request")
    error(http.put(f"/locks/{device}/faults", json={"error_rate": 2}), 400, "invalid_request")
    assert ok(http.get(f"/locks/{device}/faults"))["offline"] is False


# -- stats, config, errors -------------------------------------------------------------------------


def test_stats_count_commands_and_what_they_changed(http: httpx.Client, device: str) -> None:
    for _ in range(3):
        ok(http.put(f"/locks/{device}/codes/claim-1", json={"pin": "482913"}))
    ok(http.put(f"/locks/{device}/codes/claim-1", json={"pin": "482914"}))
    ok(http.delete(f"/locks/{device}/codes/claim-1"))
    ok(http.delete(f"/locks/{device}/codes/claim-1"))
    ok(http.get(f"/locks/{device}/codes"))
    ok(http.get(f"/locks/{device}/events"))
    found = counters(http, device)
    assert found == {
        "commands": 8,
        "program": 4,
        "program_applied": 2,
        "remove": 2,
        "remove_applied": 1,
        "list_codes": 1,
        "events": 1,
    }
    totals = ok(http.get("/stats"))
    assert totals["commands"] >= 8
    assert totals["counters"]["program"] >= 4


def test_error_bodies_name_the_refusal_without_the_pin(http: httpx.Client, device: str) -> None:
    ok(http.put(f"/locks/{device}", json={"slots": 1, "code_lengths": [6]}))
    ok(http.put(f"/locks/{device}/codes/claim-1", json={"pin": "482913"}))
    message = error(http.put(f"/locks/{device}/codes/claim-2", json={"pin": "482913"}), 409, "duplicate_code_on_device")
    assert "482913" not in message
    error(http.put(f"/locks/{device}/codes/claim-2", json={"pin": "730586"}), 507, "no_space_on_device")
    message = error(http.put(f"/locks/{device}/codes/claim-1", json={"pin": "4829"}), 422, "code_constraints_violated")
    assert "4829" not in message
    window = {"starts_at": T0.isoformat(), "ends_at": (T0 + timedelta(days=1)).isoformat()}
    error(http.put(f"/locks/{device}/codes/claim-1", json={"pin": "482913", **window}), 422, "scheduling_not_supported")
    error(http.put(f"/locks/{device}/codes/claim-1", json={"code": "482913"}), 400, "invalid_request")
    error(http.get("/no-such-thing"), 404, "not_found")
    error(http.put(f"/locks/{device}", json={"slots": 0}), 400, "invalid_request")
    assert ok(http.delete(f"/locks/{device}/codes/never-there")) == {"removed": False}


def test_a_lock_cannot_shrink_below_a_slot_in_use(http: httpx.Client, device: str) -> None:
    ok(http.put(f"/locks/{device}/codes/a", json={"pin": "111222"}))
    ok(http.put(f"/locks/{device}/codes/b", json={"pin": "333444"}))
    error(http.put(f"/locks/{device}", json={"slots": 1}), 409, "slots_in_use")
    ok(http.delete(f"/locks/{device}/codes/b"))
    assert ok(http.put(f"/locks/{device}", json={"slots": 1}))["free_slots"] == 0


def test_the_clock_can_be_set_or_offset(http: httpx.Client) -> None:
    now = datetime.fromisoformat(ok(http.put("/clock", json={"now": "2030-01-01T00:00:00Z"}))["now"])
    assert abs(now - datetime(2030, 1, 1, tzinfo=UTC)) < timedelta(seconds=5)
    moved = ok(http.put("/clock", json={"offset_seconds": -3600}))
    assert moved["offset_seconds"] == -3600
    assert abs(datetime.fromisoformat(moved["now"]) - (datetime.now(UTC) - timedelta(hours=1))) < timedelta(seconds=5)
    error(http.put("/clock", json={}), 400, "invalid_request")
