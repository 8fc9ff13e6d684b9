"""PIN format, strength and generation rules (doorpin.domain.pins)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorpin.domain.code_policy import CodePolicy, WeakPinPolicy
from doorpin.domain.errors import DomainError
from doorpin.domain.pins import (
    COMMON_PINS,
    GENERATION_ATTEMPTS,
    AccessWarning,
    allowed_pin_lengths,
    check_strength,
    generate_pin,
    validate_pin_format,
    weakness,
)

ANY_LENGTH = range(4, 9)


class ScriptedRandom(secrets.SystemRandom):
    """A SystemRandom whose `randrange` answers from a script: lets a test choose the draws."""

    def __init__(self, values: list[int]) -> None:
        super().__init__()
        self._values: Iterator[int] = iter(values)
        self.calls = 0

    def randrange(self, *args: object, **kwargs: object) -> int:
        self.calls += 1
        return next(self._values)


# --- format -------------------------------------------------------------------------------


@pytest.mark.parametrize("pin", ["1234", "012345", "98765432", "0000", "47291"])
def test_doorflow_examples_pass_the_format_check(pin: str) -> None:
    validate_pin_format(pin, ANY_LENGTH)  # raises if refused


@pytest.mark.parametrize(
    "pin",
    [
        "123",  # too short
        "123456789",  # too long
        "12AB",
        "1234 ",
        " 1234",
        "12 34",
        "",
        "١٢٣٤",  # Arabic-Indic digits: str.isdigit() is True
        "۱۲۳۴",  # Extended Arabic-Indic (Persian)
        "１２３４",  # full-width digits
        "²³⁴⁵",  # superscripts: str.isdigit() is True
        "-1234",
        "+1234",
        "1234\n",
        "12.34",
        "1_234",
    ],
)
def test_malformed_pins_fail_the_format_check(pin: str) -> None:
    with pytest.raises(DomainError) as caught:
        validate_pin_format(pin, ANY_LENGTH)
    assert caught.value.code == "pin_invalid_format"
    assert caught.value.field == "pin"
    assert caught.value.message


def test_unicode_digits_really_do_fool_isdigit() -> None:
    # The reason the format check cannot be str.isdigit(); guards against "simplifying" it.
    assert all(s.isdigit() for s in ["١٢٣٤", "１２３４", "²³⁴⁵"])
    assert int("١٢٣٤") == 1234


def test_non_string_pin_is_a_format_error() -> None:
    with pytest.raises(DomainError) as caught:
        validate_pin_format(1234, ANY_LENGTH)  # type: ignore[arg-type]
    assert caught.value.code == "pin_invalid_format"


def test_length_must_be_one_every_lock_accepts() -> None:
    validate_pin_format("123456", {6})
    with pytest.raises(DomainError) as caught:
        validate_pin_format("1234", {6, 8})
    assert caught.value.code == "pin_invalid_format"
    assert "6 or 8 digits" in caught.value.message


def test_lengths_outside_4_to_8_are_never_allowed() -> None:
    with pytest.raises(DomainError):
        validate_pin_format("123", {3, 4})
    with pytest.raises(DomainError):
        validate_pin_format("123456789", range(1, 12))


def test_no_common_length_is_a_format_error() -> None:
    with pytest.raises(DomainError) as caught:
        validate_pin_format("1234", set())
    assert caught.value.code == "pin_invalid_format"
    assert "No PIN length" in caught.value.message


def test_allowed_pin_lengths_intersects_lock_capabilities() -> None:
    assert allowed_pin_lengths([]) == frozenset({4, 5, 6, 7, 8})
    assert allowed_pin_lengths([None, [4, 5, 6], (6, 7)]) == frozenset({6})
    assert allowed_pin_lengths([[]]) == frozenset({4, 5, 6, 7, 8})
    assert allowed_pin_lengths([[2, 3, 4, 10]]) == frozenset({4})
    assert allowed_pin_lengths([[4], [6]]) == frozenset()


@given(st.text(alphabet="0123456789 +-.١٢٣４²x", min_size=4, max_size=12))
def test_format_error_messages_never_contain_the_pin(pin: str) -> None:
    if len(pin) == 6 and all(c in "0123456789" for c in pin):
        validate_pin_format(pin, {6})
        return
    with pytest.raises(DomainError) as caught:
        validate_pin_format(pin, {6})
    assert pin not in caught.value.message
    assert pin not in str(caught.value)


@given(st.text(alphabet="0123456789", min_size=4, max_size=8))
def test_ascii_digit_strings_of_allowed_length_always_pass(pin: str) -> None:
    validate_pin_format(pin, ANY_LENGTH)


# --- weakness -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pin", "reason"),
    [
        ("0000", "repeated_digit"),
        ("777777", "repeated_digit"),
        ("99999999", "repeated_digit"),
        ("1234", "sequence"),
        ("987654", "sequence"),
        ("012345", "sequence"),
        ("98765432", "sequence"),
        ("3456", "sequence"),
        ("56789", "sequence"),
        ("1212", "repeated_pattern"),
        ("123123", "repeated_pattern"),
        ("121212", "repeated_pattern"),
        ("12341234", "repeated_pattern"),
        ("4747", "repeated_pattern"),
        ("1122", "common"),
        ("6969", "repeated_pattern"),
        ("1004", "common"),
        ("2580", "common"),
        ("112233", "common"),
        ("159753", "common"),
        ("147258", "common"),
        ("1984", "common"),  # a year
        ("1900", "common"),
        ("2099", "common"),
        ("8675309", "common"),
    ],
)
def test_weak_pins_and_why(pin: str, reason: str) -> None:
    assert weakness(pin) == reason


@pytest.mark.parametrize(
    "pin",
    ["8068", "7063", "047291", "90123", "8901", "8902", "2100", "1899", "19845", "58213947"],
)
def test_strong_pins(pin: str) -> None:
    # 8901/90123 wrap around 9→0, which is not a run; 2100/1899 are not 19xx/20xx years.
    assert weakness(pin) is None


def test_datagenetics_top_20_are_all_weak() -> None:
    top = "1234 1111 0000 1212 7777 1004 2000 4444 2222 6969 9999 3333 5555 6666 1122 1313"
    top += " 8888 4321 2001 1010"
    assert all(weakness(pin) is not None for pin in top.split())
    assert set(top.split()) <= COMMON_PINS


def test_common_list_holds_only_valid_pins() -> None:
    assert len([p for p in COMMON_PINS if len(p) == 4]) >= 100
    for pin in COMMON_PINS:
        validate_pin_format(pin, ANY_LENGTH)


def test_years_are_common_only_for_four_digit_codes() -> None:
    assert weakness("1987") == "common"
    assert weakness("198734") is None


def test_weakness_refuses_unvalidated_input() -> None:
    with pytest.raises(ValueError, match="validate") as caught:
        weakness("١٢٣٤")
    assert "١٢٣٤" not in str(caught.value)


@given(st.integers(4, 8), st.integers(0, 9))
def test_any_repeated_digit_is_weak(length: int, digit: int) -> None:
    assert weakness(str(digit) * length) == "repeated_digit"


@given(st.integers(4, 8), st.integers(0, 9), st.sampled_from([1, -1]))
def test_any_run_without_wrapping_is_a_sequence(length: int, start: int, step: int) -> None:
    end = start + step * (length - 1)
    if not 0 <= end <= 9:
        return
    pin = "".join(str(start + step * i) for i in range(length))
    assert weakness(pin) == "sequence"


@given(st.text(alphabet="0123456789", min_size=1, max_size=4), st.integers(2, 8))
def test_any_whole_repetition_is_weak(block: str, times: int) -> None:
    pin = block * times
    if not 4 <= len(pin) <= 8:
        return
    assert weakness(pin) is not None


# --- strength under the policy --------------------------------------------------------------


def test_weak_pin_is_rejected_under_reject() -> None:
    with pytest.raises(DomainError) as caught:
        check_strength("1234", CodePolicy(weak_pins=WeakPinPolicy.REJECT))
    assert caught.value.code == "pin_too_weak"
    assert caught.value.field == "pin"
    assert "1234" not in caught.value.message


def test_weak_pin_is_a_warning_under_warn() -> None:
    warnings = check_strength("98765432", CodePolicy(weak_pins=WeakPinPolicy.WARN))
    assert len(warnings) == 1
    assert warnings[0].code == "pin_weak"
    assert "98765432" not in warnings[0].message
    assert isinstance(warnings[0], AccessWarning)


@pytest.mark.parametrize("policy", [CodePolicy(), CodePolicy(weak_pins=WeakPinPolicy.WARN)])
def test_strong_pin_has_no_warning(policy: CodePolicy) -> None:
    assert check_strength("047291", policy) == []


@given(st.sampled_from(sorted(COMMON_PINS)))
def test_strength_messages_never_contain_the_pin(pin: str) -> None:
    warnings = check_strength(pin, CodePolicy(weak_pins=WeakPinPolicy.WARN))
    assert warnings
    assert all(pin not in w.message for w in warnings)
    with pytest.raises(DomainError) as caught:
        check_strength(pin, CodePolicy())
    assert pin not in str(caught.value)


# --- generation ---------------------------------------------------------------------------


@given(st.integers(4, 8))
def test_generated_pins_are_ascii_digits_of_the_length_and_never_weak(length: int) -> None:
    pin = generate_pin(length)
    assert len(pin) == length
    assert all(c in "0123456789" for c in pin)
    validate_pin_format(pin, {length})
    assert weakness(pin) is None


def test_generated_pins_have_leading_zeros_sometimes() -> None:
    # P(no leading zero in 2000 draws) = 0.9**2000 ≈ 1e-92.
    pins = [generate_pin(4) for _ in range(2000)]
    assert any(pin.startswith("0") for pin in pins)


def test_generated_pins_vary() -> None:
    assert len({generate_pin(6) for _ in range(50)}) > 45


@given(st.integers(4, 8).flatmap(lambda n: st.tuples(st.just(n), st.lists(st.integers(0, 10**n - 1), max_size=20))))
def test_generation_redraws_every_weak_candidate(case: tuple[int, list[int]]) -> None:
    length, draws = case
    strong = int("4729183"[: length - 1] + "6")  # not weak for any length 4..8
    rng = ScriptedRandom([*draws, strong])
    pin = generate_pin(length, rng=rng)
    assert weakness(pin) is None
    assert len(pin) == length
    first_strong = next((f"{d:0{length}d}" for d in draws if weakness(f"{d:0{length}d}") is None), None)
    assert pin == (first_strong or f"{strong:0{length}d}")


def test_generation_pads_small_draws_with_leading_zeros() -> None:
    assert generate_pin(6, rng=ScriptedRandom([4729])) == "004729"


def test_generation_skips_pins_the_caller_must_avoid() -> None:
    rng = ScriptedRandom([472918, 583920, 693041])
    taken = {"472918", "583920"}
    assert generate_pin(6, rng=rng, avoid=taken.__contains__) == "693041"
    assert rng.calls == 3


def test_generation_gives_up_instead_of_looping_forever() -> None:
    calls = 0

    def everything_taken(pin: str) -> bool:
        nonlocal calls
        calls += 1
        return True

    with pytest.raises(DomainError) as caught:
        generate_pin(4, avoid=everything_taken)
    assert caught.value.code == "code_space_exhausted"
    assert 0 < calls <= GENERATION_ATTEMPTS


@pytest.mark.parametrize("length", [3, 9, 0, True])
def test_generation_length_must_be_4_to_8(length: int) -> None:
    with pytest.raises(ValueError, match="between 4 and 8"):
        generate_pin(length)
