"""Webhook rules without I/O: URLs, event patterns, the body's bytes, backoff and disabling."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorpin.domain.errors import DomainError
from doorpin.domain.event_types import EVENT_TYPES
from doorpin.domain.webhooks import (
    MAX_RETRY_DELAY,
    check_events,
    check_url,
    event_body,
    retry_delay,
    short_error,
    should_disable,
)

AT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "url",
    [
        "https://pms.example/hooks/doorpin",
        "http://127.0.0.1:8080/x?y=1",
        "https://[2001:db8::1]/hooks",
        "https://pms.example./hooks#frag",
        "https://a.b.c.example:443",
        "https://pms.example/" + "a" * 1980,
    ],
)
def test_usable_urls_are_accepted(url: str) -> None:
    assert check_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "",
        "ftp://pms.example/",
        "https://user:pw@pms.example/",
        "https://user@pms.example/",
        "https://pms.example/" + "a" * 1981,
        "https:///path",
        "https://pms.example:0x50/",
        "https://pms.example:70000/",
        "https://[zz::1]/",
        "https://-bad-.example/",
        "https://pms.exämple/",
        "https://pms.example/\n",
        "https://pms .example/",
        "//pms.example/",
        "mailto:ops@pms.example",
    ],
)
def test_unusable_urls_are_refused(url: str) -> None:
    with pytest.raises(DomainError) as error:
        check_url(url)
    assert (error.value.code, error.value.field) == ("validation_error", "url")


def _verdict(url: str) -> str | None:
    """The URL back when it is accepted, else the field the refusal names."""
    try:
        return check_url(url)
    except DomainError as error:
        return error.field


@given(st.text(max_size=300))
def test_no_text_makes_the_url_check_crash(url: str) -> None:
    assert _verdict(url) in (url, "url")


def test_event_patterns() -> None:
    assert check_events(["access.*", "*", "access.*", "alert.raised"]) == ["access.*", "*", "alert.raised"]
    assert check_events(list(EVENT_TYPES)) == list(EVENT_TYPES)
    for bad in ([], ["access"], ["nope.*"], ["reservation.created"], ["*.*"]):
        with pytest.raises(DomainError) as error:
            check_events(bad)
        assert error.value.field == "events"


def test_the_body_is_the_same_bytes_whatever_the_key_order() -> None:
    one = event_body("evt_1", "access.granted", AT, {"b": 1, "a": {"y": "ü", "x": None}})
    two = event_body("evt_1", "access.granted", AT, {"a": {"x": None, "y": "ü"}, "b": 1})
    assert one == two
    assert one.isascii()
    assert json.loads(one) == {
        "id": "evt_1",
        "type": "access.granted",
        "created_at": "2026-06-01T12:00:00+00:00",
        "data": {"a": {"x": None, "y": "ü"}, "b": 1},
    }


def test_backoff_doubles_from_the_base_up_to_six_hours() -> None:
    no_jitter = random.Random()
    no_jitter.uniform = lambda low, high: high  # type: ignore[method-assign]
    delays = [retry_delay(n, 30, no_jitter) for n in range(1, 14)]
    assert delays[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert delays[9] == timedelta(seconds=30 * 2**9)
    assert delays[10:] == [MAX_RETRY_DELAY] * 3
    assert retry_delay(10_000, 30, no_jitter) == MAX_RETRY_DELAY


@given(st.integers(min_value=1, max_value=60), st.floats(min_value=0.1, max_value=3600), st.randoms())
def test_backoff_never_exceeds_the_cap_and_never_shrinks(attempt: int, base: float, rng: random.Random) -> None:
    delay = retry_delay(attempt, base, rng)
    nominal = min(MAX_RETRY_DELAY.total_seconds(), base * 2 ** (attempt - 1))
    assert nominal * 0.8 - 1e-6 <= delay.total_seconds() <= nominal + 1e-6
    if nominal * 2 <= MAX_RETRY_DELAY.total_seconds():
        assert retry_delay(attempt + 1, base, rng) > delay  # jitter never undoes the doubling


def test_disable_after_the_configured_time_of_failures() -> None:
    after = timedelta(hours=72)
    assert not should_disable(None, AT, after)
    assert not should_disable(AT, AT + after - timedelta(seconds=1), after)
    assert should_disable(AT, AT + after, after)


def test_errors_are_one_short_line() -> None:
    assert short_error("a\nb\tc") == "a b c"
    long = short_error("x" * 1000)
    assert len(long) == 200
    assert long.endswith("…")
