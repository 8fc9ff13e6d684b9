"""What is particular to the `keypad` provider (the shared behaviour is in the contract suite):
its registration, where it finds the hub, transport failures, and that PINs stay out of logs."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from doorpin.adapters.locks import registry
from doorpin.adapters.locks.base import (
    CodeSpec,
    DeviceEvents,
    Done,
    ErrorCode,
    LockProvider,
    LockRef,
    PermanentFailure,
    RetryLater,
)
from doorpin.adapters.locks.keypad import KeypadProvider, _retry_after
from doorpin.adapters.locks.simulator import HubClient, start_hub_in_thread

PIN = "482913"


@pytest.fixture(scope="module")
def hub_url() -> Iterator[str]:
    running = start_hub_in_thread()
    yield running.base_url
    running.stop()


@pytest.fixture
def closed_port_url() -> str:
    """A local address where nothing listens: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_it_is_registered_as_keypad(hub_url: str) -> None:
    provider = registry.create("keypad", {"hub_url": hub_url})
    try:
        assert isinstance(provider, KeypadProvider)
        assert isinstance(provider, LockProvider)
        assert provider.name == "keypad"
        assert isinstance(provider.program(LockRef("l1", "reg-dev"), CodeSpec("claim-1", PIN)), Done)
    finally:
        provider.close()


def test_an_unreachable_hub_is_a_device_offline(closed_port_url: str) -> None:
    provider = KeypadProvider({"hub_url": closed_port_url, "timeout_seconds": 2})
    lock = LockRef("l1", "dev")
    outcomes = [
        provider.program(lock, CodeSpec("claim-1", PIN)),
        provider.remove(lock, "claim-1"),
        provider.list_codes(lock),
        provider.fetch_events(lock, "7"),
    ]
    provider.close()
    for outcome in outcomes:
        assert isinstance(outcome, RetryLater), outcome
        assert outcome.code == ErrorCode.DEVICE_OFFLINE


def test_the_lock_settings_name_the_hub_when_the_provider_does_not(hub_url: str) -> None:
    provider = KeypadProvider({})
    lonely = provider.program(LockRef("l1", "where-dev"), CodeSpec("claim-1", PIN))
    assert isinstance(lonely, PermanentFailure), lonely
    assert lonely.code == ErrorCode.PROVIDER_ERROR
    located = LockRef("l1", "where-dev", settings={"hub_url": hub_url})
    assert provider.program(located, CodeSpec("claim-1", PIN)) == Done(1)
    listed = provider.list_codes(located)
    assert not isinstance(listed, RetryLater)
    assert [code.ref for code in listed] == ["claim-1"]
    provider.close()


def test_a_request_the_hub_does_not_understand_is_permanent(hub_url: str) -> None:
    provider = KeypadProvider({"hub_url": hub_url})
    outcome = provider.program(LockRef("l1", "dev/with/slashes"), CodeSpec("claim-1", PIN))
    assert isinstance(outcome, PermanentFailure), outcome
    assert outcome.code == ErrorCode.PROVIDER_ERROR
    assert "404" in outcome.message
    read = provider.list_codes(LockRef("l1", "dev/with/slashes"))
    assert isinstance(read, RetryLater), "reads have no permanent outcome in the port"
    assert read.code == ErrorCode.PROVIDER_ERROR
    provider.close()


def test_naive_windows_are_taken_as_utc(hub_url: str) -> None:
    with HubClient(hub_url) as hub:
        hub.configure_lock("naive-dev", native_scheduling=True)
    provider = KeypadProvider({"hub_url": hub_url})
    lock = LockRef("l1", "naive-dev", native_scheduling=True)
    starts = datetime(2026, 7, 10, 13, 0)
    assert isinstance(provider.program(lock, CodeSpec("claim-1", PIN, starts, starts + timedelta(days=2))), Done)
    listed = provider.list_codes(lock)
    assert not isinstance(listed, RetryLater)
    assert listed[0].starts_at == datetime(2026, 7, 10, 13, 0, tzinfo=UTC)
    provider.close()


def test_pins_never_reach_the_logs(hub_url: str, closed_port_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    hub = HubClient(hub_url)
    hub.configure_lock("log-dev", slots=1, code_lengths=(6,))
    provider = KeypadProvider({"hub_url": hub_url})
    unreachable = KeypadProvider({"hub_url": closed_port_url})
    lock = LockRef("l1", "log-dev")
    outcomes = [
        provider.program(lock, CodeSpec("claim-1", PIN)),
        provider.program(lock, CodeSpec("claim-2", PIN)),  # duplicate
        provider.program(lock, CodeSpec("claim-3", "730586")),  # full
        provider.program(lock, CodeSpec("claim-4", "7305")),  # wrong length
        unreachable.program(lock, CodeSpec("claim-5", "551903")),
    ]
    hub.keypad("log-dev", PIN)
    fetched = provider.fetch_events(lock, None)
    for closing in (provider, unreachable, hub):
        closing.close()
    assert isinstance(fetched, DeviceEvents)
    assert [e.pin for e in fetched.events] == [PIN], "the device reports the digits entered"
    assert [type(o).__name__ for o in outcomes] == [
        "Done",
        "PermanentFailure",
        "PermanentFailure",
        "PermanentFailure",
        "RetryLater",
    ]
    assert any("log-dev" in record.getMessage() or "l1" in record.getMessage() for record in caplog.records)
    for secret in (PIN, "730586", "7305", "551903"):
        assert secret not in caplog.text
        for outcome in outcomes:
            assert isinstance(outcome, Done) or secret not in outcome.message


@pytest.mark.parametrize(
    ("header", "expected"),
    [("3", 3.0), ("0.5", 0.5), ("-4", 0.0), (None, None), ("soon", None)],
)
def test_retry_after_in_seconds(header: str | None, expected: float | None) -> None:
    assert _retry_after(header) == expected


def test_retry_after_as_an_http_date() -> None:
    seconds = _retry_after(format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True))
    assert seconds is not None
    assert 80 <= seconds <= 91
