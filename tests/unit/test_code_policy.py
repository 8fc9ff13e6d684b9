"""The property's code policy (doorpin.domain.code_policy) and the stay access window."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorpin.domain.access_windows import stay_access_window
from doorpin.domain.code_policy import (
    MAX_PIN_LENGTH,
    MIN_PIN_LENGTH,
    CodePolicy,
    PinScope,
    WeakPinPolicy,
)
from doorpin.domain.errors import DomainError


def test_defaults_match_the_api_contract() -> None:
    policy = CodePolicy()
    assert policy.length == 6
    assert policy.pin_scope is PinScope.RESERVATION
    assert policy.reuse_cooldown_hours == 72
    assert policy.reuse_cooldown == timedelta(hours=72)
    assert policy.weak_pins is WeakPinPolicy.REJECT
    assert policy.activate_before_minutes == 0
    assert policy.expire_after_minutes == 0
    assert policy.refuse_guess_probability == 0.01
    assert policy.warn_guess_probability == 0.001
    assert (MIN_PIN_LENGTH, MAX_PIN_LENGTH) == (4, 8)


def test_policy_is_immutable() -> None:
    policy = CodePolicy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.length = 4  # type: ignore[misc]


def test_enum_fields_accept_their_string_values() -> None:
    policy = CodePolicy(pin_scope="unit", weak_pins="warn")  # type: ignore[arg-type]
    assert policy.pin_scope is PinScope.UNIT
    assert policy.weak_pins is WeakPinPolicy.WARN
    assert policy == CodePolicy(pin_scope=PinScope.UNIT, weak_pins=WeakPinPolicy.WARN)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"length": 3}, "length"),
        ({"length": 9}, "length"),
        ({"length": 6.0}, "length"),
        ({"length": True}, "length"),
        ({"length": "6"}, "length"),
        ({"pin_scope": "property"}, "pin_scope"),
        ({"pin_scope": None}, "pin_scope"),
        ({"reuse_cooldown_hours": -1}, "reuse_cooldown_hours"),
        ({"reuse_cooldown_hours": 8761}, "reuse_cooldown_hours"),
        ({"weak_pins": "ignore"}, "weak_pins"),
        ({"activate_before_minutes": -5}, "activate_before_minutes"),
        ({"activate_before_minutes": 1441}, "activate_before_minutes"),
        ({"expire_after_minutes": 1441}, "expire_after_minutes"),
        ({"refuse_guess_probability": 0}, "refuse_guess_probability"),
        ({"refuse_guess_probability": 1.5}, "refuse_guess_probability"),
        ({"refuse_guess_probability": math.nan}, "refuse_guess_probability"),
        ({"refuse_guess_probability": "0.01"}, "refuse_guess_probability"),
        ({"warn_guess_probability": -0.1}, "warn_guess_probability"),
        ({"warn_guess_probability": 0.05}, "warn_guess_probability"),  # above refuse
    ],
)
def test_out_of_range_values_are_validation_errors(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(DomainError) as caught:
        CodePolicy(**changes)
    assert caught.value.code == "validation_error"
    assert caught.value.field == f"code_policy.{field}"
    assert caught.value.message


@pytest.mark.parametrize(
    "changes",
    [
        {"length": 4},
        {"length": 8},
        {"reuse_cooldown_hours": 0},
        {"reuse_cooldown_hours": 8760},
        {"activate_before_minutes": 1440, "expire_after_minutes": 1440},
        {"refuse_guess_probability": 1, "warn_guess_probability": 1},
    ],
)
def test_boundary_values_are_accepted(changes: dict[str, Any]) -> None:
    policy = CodePolicy(**changes)
    for name, value in changes.items():
        assert getattr(policy, name) == value


def test_integer_probabilities_become_floats() -> None:
    policy = CodePolicy(refuse_guess_probability=1)
    assert isinstance(policy.refuse_guess_probability, float)


def test_mapping_round_trip() -> None:
    policy = CodePolicy(length=8, pin_scope=PinScope.UNIT, reuse_cooldown_hours=0)
    data = policy.to_mapping()
    assert data["pin_scope"] == "unit"
    assert type(data["pin_scope"]) is str
    assert data["weak_pins"] == "reject"
    assert CodePolicy.from_mapping(data) == policy


def test_from_mapping_fills_defaults_and_rejects_unknown_keys() -> None:
    assert CodePolicy.from_mapping({"length": 4}) == CodePolicy(length=4)
    with pytest.raises(DomainError) as caught:
        CodePolicy.from_mapping({"lenght": 4})
    assert caught.value.code == "validation_error"
    assert caught.value.field == "code_policy.lenght"


@given(
    st.integers(4, 8),
    st.sampled_from(PinScope),
    st.integers(0, 8760),
    st.sampled_from(WeakPinPolicy),
    st.integers(0, 1440),
    st.integers(0, 1440),
)
def test_every_valid_policy_round_trips(
    length: int, scope: PinScope, cooldown: int, weak: WeakPinPolicy, before: int, after: int
) -> None:
    policy = CodePolicy(length, scope, cooldown, weak, before, after)
    assert CodePolicy.from_mapping(policy.to_mapping()) == policy


# --- the stay's access window -------------------------------------------------------------


def test_window_is_the_stay_without_margins() -> None:
    check_in = datetime(2026, 10, 24, 13, 0, tzinfo=UTC)
    check_out = datetime(2026, 10, 26, 10, 0, tzinfo=UTC)
    assert stay_access_window(check_in, check_out, CodePolicy()) == (check_in, check_out)


def test_window_applies_both_margins() -> None:
    policy = CodePolicy(activate_before_minutes=30, expire_after_minutes=90)
    check_in = datetime(2026, 10, 24, 13, 0, tzinfo=UTC)
    check_out = datetime(2026, 10, 26, 10, 0, tzinfo=UTC)
    assert stay_access_window(check_in, check_out, policy) == (
        datetime(2026, 10, 24, 12, 30, tzinfo=UTC),
        datetime(2026, 10, 26, 11, 30, tzinfo=UTC),
    )


def test_margins_are_elapsed_minutes_across_a_dst_change() -> None:
    # Europe/Berlin falls back at 03:00 CEST → 02:00 CET on 2026-10-25.
    berlin = ZoneInfo("Europe/Berlin")
    check_in = datetime(2026, 10, 24, 15, 0, tzinfo=berlin)
    check_out = datetime(2026, 10, 25, 1, 30, tzinfo=berlin)  # 23:30 UTC, before the change
    policy = CodePolicy(expire_after_minutes=120)
    start, end = stay_access_window(check_in, check_out, policy)
    assert start == datetime(2026, 10, 24, 13, 0, tzinfo=UTC)
    # Wall-clock arithmetic would say 03:30 CET (02:30 UTC): three real hours, not two.
    assert end == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert end - check_out == timedelta(minutes=120)
    assert start.utcoffset() == timedelta(0)
    assert end.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused() -> None:
    aware = datetime(2026, 10, 24, 13, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        stay_access_window(datetime(2026, 10, 24, 13, 0), aware, CodePolicy())
    with pytest.raises(ValueError, match="timezone-aware"):
        stay_access_window(aware, datetime(2026, 10, 26, 10, 0), CodePolicy())


def test_check_out_must_be_after_check_in() -> None:
    moment = datetime(2026, 10, 24, 13, 0, tzinfo=UTC)
    with pytest.raises(DomainError) as caught:
        stay_access_window(moment, moment, CodePolicy(expire_after_minutes=60))
    assert caught.value.code == "invalid_window"


@given(
    st.datetimes(timezones=st.just(UTC)),
    st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=400)),
    st.integers(0, 1440),
    st.integers(0, 1440),
)
def test_window_always_contains_the_stay(check_in: datetime, stay: timedelta, before: int, after: int) -> None:
    if check_in.year < 2 or check_in.year > 9000:
        return
    check_out = check_in + stay
    policy = CodePolicy(activate_before_minutes=before, expire_after_minutes=after)
    start, end = stay_access_window(check_in, check_out, policy)
    assert start <= check_in < check_out <= end
    assert check_in - start == timedelta(minutes=before)
    assert end - check_out == timedelta(minutes=after)
