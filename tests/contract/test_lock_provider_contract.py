"""The lock-provider contract: one suite, run on every implementation of `LockProvider`.

`keypad` runs against a real hub over HTTP (a uvicorn thread on a free port, state in SQLite);
`fake` is the in-memory provider other tests use. Both must behave the same way here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from doorpin.adapters.locks.base import (
    CodeSpec,
    DeviceCode,
    DeviceEvents,
    Done,
    ErrorCode,
    LockProvider,
    LockRef,
    PermanentFailure,
    RetryLater,
)
from doorpin.adapters.locks.simulator import start_hub_in_thread
from tests.support.lock_harness import FakeHarness, KeypadHarness, LockHarness

PIN = "482913"
OTHER_PIN = "730586"
T0 = datetime(2026, 7, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def hub_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    state: Path = tmp_path_factory.mktemp("hub") / "hub.sqlite"
    running = start_hub_in_thread(state, seed=11)
    yield running.base_url
    running.stop()


@pytest.fixture(params=["keypad", "fake"])
def harness(request: pytest.FixtureRequest) -> Iterator[LockHarness]:
    made: LockHarness
    made = KeypadHarness(request.getfixturevalue("hub_url")) if request.param == "keypad" else FakeHarness()
    yield made
    made.close()


def read_back(provider: LockProvider, lock: LockRef) -> dict[str | None, DeviceCode]:
    listed = provider.list_codes(lock)
    assert not isinstance(listed, RetryLater), listed
    return {code.ref: code for code in listed}


def events(provider: LockProvider, lock: LockRef, cursor: str | None = None) -> DeviceEvents:
    fetched = provider.fetch_events(lock, cursor)
    assert isinstance(fetched, DeviceEvents), fetched
    return fetched


def test_it_is_a_lock_provider(harness: LockHarness) -> None:
    assert isinstance(harness.provider, LockProvider)
    assert harness.provider.name


def test_program_answers_done_with_a_slot_and_read_back_shows_it(harness: LockHarness) -> None:
    lock = harness.new_lock()
    outcome = harness.provider.program(lock, CodeSpec("claim-1", PIN))
    assert isinstance(outcome, Done), outcome
    assert outcome.slot == 1
    codes = read_back(harness.provider, lock)
    assert set(codes) == {"claim-1"}
    assert codes["claim-1"].pin == PIN
    assert codes["claim-1"].slot == outcome.slot


def test_programming_the_same_ref_twice_takes_one_slot(harness: LockHarness) -> None:
    lock = harness.new_lock()
    first = harness.provider.program(lock, CodeSpec("claim-1", PIN))
    second = harness.provider.program(lock, CodeSpec("claim-1", PIN))
    assert isinstance(first, Done)
    assert second == first
    assert [code.slot for code in read_back(harness.provider, lock).values()] == [first.slot]


def test_reprogramming_a_ref_changes_it_in_place(harness: LockHarness) -> None:
    lock = harness.new_lock()
    harness.provider.program(lock, CodeSpec("claim-0", "111999"))
    first = harness.provider.program(lock, CodeSpec("claim-1", PIN))
    again = harness.provider.program(lock, CodeSpec("claim-1", OTHER_PIN))
    assert isinstance(first, Done)
    assert again == Done(first.slot)
    codes = read_back(harness.provider, lock)
    assert len(codes) == 2
    assert (codes["claim-1"].pin, codes["claim-1"].slot) == (OTHER_PIN, first.slot)
    # the old digits are free again
    assert isinstance(harness.provider.program(lock, CodeSpec("claim-2", PIN)), Done)


def test_the_same_pin_under_another_ref_is_a_duplicate(harness: LockHarness) -> None:
    lock = harness.new_lock()
    harness.provider.program(lock, CodeSpec("claim-1", PIN))
    outcome = harness.provider.program(lock, CodeSpec("claim-2", PIN))
    assert isinstance(outcome, PermanentFailure), outcome
    assert outcome.code == ErrorCode.DUPLICATE_CODE_ON_DEVICE
    assert PIN not in outcome.message
    assert set(read_back(harness.provider, lock)) == {"claim-1"}


def test_a_full_lock_has_no_space_until_a_code_is_removed(harness: LockHarness) -> None:
    lock = harness.new_lock(slots=2)
    assert harness.provider.program(lock, CodeSpec("a", "1111")) == Done(1)
    assert harness.provider.program(lock, CodeSpec("b", "2222")) == Done(2)
    outcome = harness.provider.program(lock, CodeSpec("c", "3333"))
    assert isinstance(outcome, PermanentFailure), outcome
    assert outcome.code == ErrorCode.NO_SPACE_ON_DEVICE
    assert harness.provider.program(lock, CodeSpec("b", "2222")) == Done(2), "a code already there is not new"
    assert harness.provider.remove(lock, "a") == Done()
    assert harness.provider.program(lock, CodeSpec("c", "3333")) == Done(1)
    assert set(read_back(harness.provider, lock)) == {"b", "c"}


@pytest.mark.parametrize("pin", ["1234", "1234567", "12a456", "١٢٣٤٥٦", "123 45", ""])
def test_codes_the_lock_cannot_take_violate_its_constraints(harness: LockHarness, pin: str) -> None:
    lock = harness.new_lock(code_lengths=(6,))
    outcome = harness.provider.program(lock, CodeSpec("claim-1", pin))
    assert isinstance(outcome, PermanentFailure), outcome
    assert outcome.code == ErrorCode.CODE_CONSTRAINTS_VIOLATED
    assert read_back(harness.provider, lock) == {}


def test_remove_takes_the_code_off_and_an_absent_code_is_done(harness: LockHarness) -> None:
    lock = harness.new_lock()
    harness.provider.program(lock, CodeSpec("claim-1", PIN))
    harness.provider.program(lock, CodeSpec("claim-2", OTHER_PIN))
    assert harness.provider.remove(lock, "claim-1") == Done()
    assert set(read_back(harness.provider, lock)) == {"claim-2"}
    assert harness.provider.remove(lock, "claim-1") == Done()
    assert harness.provider.remove(lock, "never-there") == Done()
    assert harness.keypad(lock, PIN) == "denied"


def test_an_offline_lock_asks_to_retry_and_changes_nothing(harness: LockHarness) -> None:
    lock = harness.new_lock()
    harness.provider.program(lock, CodeSpec("kept", OTHER_PIN))
    harness.set_faults(lock, offline=True)
    outcomes = [
        harness.provider.program(lock, CodeSpec("claim-1", PIN)),
        harness.provider.remove(lock, "kept"),
        harness.provider.list_codes(lock),
        harness.provider.fetch_events(lock, None),
    ]
    for outcome in outcomes:
        assert isinstance(outcome, RetryLater), outcome
        assert outcome.code == ErrorCode.DEVICE_OFFLINE
    harness.set_faults(lock)
    assert set(read_back(harness.provider, lock)) == {"kept"}
    assert isinstance(harness.provider.program(lock, CodeSpec("claim-1", PIN)), Done)


def test_offline_until_ends_by_the_lock_clock(harness: LockHarness) -> None:
    lock = harness.new_lock()
    harness.set_clock(T0)
    harness.set_faults(lock, offline_until=T0 + timedelta(hours=1))
    outcome = harness.provider.program(lock, CodeSpec("claim-1", PIN))
    assert isinstance(outcome, RetryLater)
    assert outcome.code == ErrorCode.DEVICE_OFFLINE
    harness.set_clock(T0 + timedelta(hours=1, minutes=1))
    assert isinstance(harness.provider.program(lock, CodeSpec("claim-1", PIN)), Done)


def test_an_error_on_every_command_retries_and_applies_nothing(harness: LockHarness) -> None:
    lock = harness.new_lock()
    harness.set_faults(lock, error_rate=1.0)
    for _ in range(3):
        outcome = harness.provider.program(lock, CodeSpec("claim-1", PIN))
        assert isinstance(outcome, RetryLater), outcome
        assert outcome.code == ErrorCode.PROVIDER_ERROR
    harness.set_faults(lock)
    assert read_back(harness.provider, lock) == {}


def test_a_lost_reply_asks_to_retry_but_the_code_is_on_the_lock(harness: LockHarness) -> None:
    lock = harness.new_lock()
    harness.set_faults(lock, lost_reply_rate=1.0)
    outcome = harness.provider.program(lock, CodeSpec("claim-1", PIN))
    assert isinstance(outcome, RetryLater), outcome
    assert outcome.code == ErrorCode.PROVIDER_ERROR
    harness.set_faults(lock)
    assert set(read_back(harness.provider, lock)) == {"claim-1"}
    retried = harness.provider.program(lock, CodeSpec("claim-1", PIN))
    assert retried == Done(1), "the retry lands in the same slot"
    assert len(read_back(harness.provider, lock)) == 1


def test_a_lock_that_lies_on_store_is_caught_by_read_back(harness: LockHarness) -> None:
    lock = harness.new_lock()
    harness.set_faults(lock, lie_on_store=True)
    assert isinstance(harness.provider.program(lock, CodeSpec("claim-1", PIN)), Done)
    assert "claim-1" not in read_back(harness.provider, lock)
    assert harness.keypad(lock, PIN) == "denied"


def test_a_lock_that_lies_on_remove_is_caught_by_read_back(harness: LockHarness) -> None:
    lock = harness.new_lock()
    harness.provider.program(lock, CodeSpec("claim-1", PIN))
    harness.set_faults(lock, lie_on_remove=True)
    assert harness.provider.remove(lock, "claim-1") == Done()
    assert "claim-1" in read_back(harness.provider, lock)
    assert harness.keypad(lock, PIN) == "granted"


def test_a_full_memory_refuses_new_codes_only(harness: LockHarness) -> None:
    lock = harness.new_lock()
    harness.provider.program(lock, CodeSpec("claim-1", PIN))
    harness.set_faults(lock, memory_full=True)
    outcome = harness.provider.program(lock, CodeSpec("claim-2", OTHER_PIN))
    assert isinstance(outcome, PermanentFailure), outcome
    assert outcome.code == ErrorCode.NO_SPACE_ON_DEVICE
    assert harness.provider.program(lock, CodeSpec("claim-1", PIN)) == Done(1)


def test_a_rate_limited_lock_says_when_to_retry(harness: LockHarness) -> None:
    lock = harness.new_lock()
    harness.set_faults(lock, rate_limit=1, rate_limit_window_seconds=60)
    assert isinstance(harness.provider.program(lock, CodeSpec("claim-1", PIN)), Done)
    outcome = harness.provider.program(lock, CodeSpec("claim-2", OTHER_PIN))
    assert isinstance(outcome, RetryLater), outcome
    assert outcome.code == ErrorCode.RATE_LIMITED
    assert outcome.retry_after is not None
    assert 1 <= outcome.retry_after <= 60


def test_a_slow_lock_times_out(harness: LockHarness) -> None:
    lock = harness.new_lock()
    harness.set_faults(lock, latency_min_ms=3000, latency_ms=3000)
    provider = harness.with_timeout(0.3)
    started = time.monotonic()
    outcome = provider.list_codes(lock)
    elapsed = time.monotonic() - started
    assert isinstance(outcome, RetryLater), outcome
    assert outcome.code == ErrorCode.TIMEOUT
    assert elapsed < 2.5, "the provider gave up at its timeout instead of waiting for the lock"


def test_key_ins_become_events_attributed_to_the_code(harness: LockHarness) -> None:
    lock = harness.new_lock()
    harness.provider.program(lock, CodeSpec("claim-1", PIN))
    start = events(harness.provider, lock)
    assert start.events == []
    assert harness.keypad(lock, PIN) == "granted"
    assert harness.keypad(lock, "000000") == "denied"
    first = events(harness.provider, lock, start.cursor)
    assert [(e.result, e.code_ref, e.pin) for e in first.events] == [
        ("granted", "claim-1", PIN),
        ("denied", None, "000000"),
    ]
    assert len({e.event_id for e in first.events}) == 2
    assert first.events[0].occurred_at.tzinfo is not None
    assert first.cursor is not None
    assert events(harness.provider, lock, first.cursor).events == []
    assert harness.keypad(lock, PIN) == "granted"
    newer = events(harness.provider, lock, first.cursor)
    assert [(e.result, e.code_ref) for e in newer.events] == [("granted", "claim-1")]
    assert newer.events[0].event_id not in {e.event_id for e in first.events}
    # the whole history is still there from the beginning
    assert len(events(harness.provider, lock).events) == 3


def test_native_scheduling_opens_only_inside_the_window(harness: LockHarness) -> None:
    lock = harness.new_lock(native_scheduling=True)
    harness.set_clock(T0)
    window = CodeSpec("claim-1", PIN, starts_at=T0 + timedelta(hours=1), ends_at=T0 + timedelta(hours=2))
    assert isinstance(harness.provider.program(lock, window), Done)
    held = read_back(harness.provider, lock)["claim-1"]
    assert (held.starts_at, held.ends_at) == (window.starts_at, window.ends_at)
    assert harness.keypad(lock, PIN) == "denied"
    harness.set_clock(T0 + timedelta(minutes=90))
    assert harness.keypad(lock, PIN) == "granted"
    harness.set_clock(T0 + timedelta(hours=3))
    assert harness.keypad(lock, PIN) == "denied"
    results = [(e.result, e.code_ref) for e in events(harness.provider, lock).events]
    assert results == [("denied", "claim-1"), ("granted", "claim-1"), ("denied", "claim-1")]


def test_reprogramming_a_native_code_moves_its_window_in_place(harness: LockHarness) -> None:
    lock = harness.new_lock(native_scheduling=True)
    first = CodeSpec("claim-1", PIN, starts_at=T0, ends_at=T0 + timedelta(days=1))
    moved = CodeSpec("claim-1", PIN, starts_at=T0 + timedelta(days=18), ends_at=T0 + timedelta(days=19))
    slot = harness.provider.program(lock, first)
    assert isinstance(slot, Done)
    assert harness.provider.program(lock, moved) == slot
    held = read_back(harness.provider, lock)
    assert list(held) == ["claim-1"]
    assert (held["claim-1"].starts_at, held["claim-1"].ends_at, held["claim-1"].slot) == (
        moved.starts_at,
        moved.ends_at,
        slot.slot,
    )
    harness.set_clock(T0 + timedelta(hours=1))
    assert harness.keypad(lock, PIN) == "denied", "the old window is gone"


def test_locks_without_native_scheduling_are_not_sent_a_window(harness: LockHarness) -> None:
    lock = harness.new_lock(native_scheduling=False)
    harness.set_clock(T0)
    spec = CodeSpec("claim-1", PIN, starts_at=T0 + timedelta(days=1), ends_at=T0 + timedelta(days=2))
    assert isinstance(harness.provider.program(lock, spec), Done)
    held = read_back(harness.provider, lock)["claim-1"]
    assert (held.starts_at, held.ends_at) == (None, None)
    assert harness.keypad(lock, PIN) == "granted", "the reconciler owns the window of such locks"


def test_a_window_for_a_lock_that_cannot_keep_one_is_not_supported(harness: LockHarness) -> None:
    device = harness.new_lock(native_scheduling=False)
    believed_native = LockRef(device.lock_id, device.device_id, native_scheduling=True)
    spec = CodeSpec("claim-1", PIN, starts_at=T0, ends_at=T0 + timedelta(days=1))
    outcome = harness.provider.program(believed_native, spec)
    assert isinstance(outcome, PermanentFailure), outcome
    assert outcome.code == ErrorCode.NOT_SUPPORTED
    assert read_back(harness.provider, device) == {}


def test_repeated_wrong_codes_lock_the_keypad_out_for_a_while(harness: LockHarness) -> None:
    lock = harness.new_lock()
    harness.provider.program(lock, CodeSpec("claim-1", PIN))
    harness.set_clock(T0)
    answers = [harness.keypad(lock, f"00000{n}") for n in range(5)]
    assert answers == ["denied"] * 4 + ["lockout"]
    assert harness.keypad(lock, PIN) == "lockout", "even the right code waits out the lockout"
    harness.set_clock(T0 + timedelta(seconds=61))
    assert harness.keypad(lock, PIN) == "granted"
    results = [e.result for e in events(harness.provider, lock).events]
    assert results == ["denied"] * 4 + ["lockout", "lockout", "granted"]


def test_events_carry_the_lock_s_reason(harness: LockHarness) -> None:
    lock = harness.new_lock(native_scheduling=True)
    harness.set_clock(T0)
    later = CodeSpec("claim-1", PIN, starts_at=T0 + timedelta(hours=1), ends_at=T0 + timedelta(hours=2))
    assert isinstance(harness.provider.program(lock, later), Done)
    harness.keypad(lock, PIN)  # a known code, outside its window
    harness.set_clock(T0 + timedelta(minutes=90))
    harness.keypad(lock, PIN)
    for n in range(5):
        harness.keypad(lock, f"90000{n}")
    harness.keypad(lock, PIN)  # while locked out
    fetched = events(harness.provider, lock)
    assert [(e.result, e.code_ref, e.reason) for e in fetched.events] == [
        ("denied", "claim-1", "outside_window"),
        ("granted", "claim-1", None),
        *[("denied", None, "unknown_code")] * 4,
        ("lockout", None, "too_many_wrong_codes"),
        ("lockout", None, "locked_out"),
    ]
    assert fetched.has_more is False
