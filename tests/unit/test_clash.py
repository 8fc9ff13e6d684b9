"""The clash rule and code-space limits (doorpin.domain.clash)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from doorpin.domain.clash import (
    CodeClaim,
    clashes,
    guess_probability,
    max_active_codes,
    space_verdict,
    windows_overlap,
)
from doorpin.domain.code_policy import CodePolicy

KEY = b"k" * 32
T0 = datetime(2026, 10, 24, 13, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
NO_PREFIX: dict[str, int | None] = {}


def claim(
    pin: str,
    locks: set[str],
    start_h: float | None,
    end_h: float | None,
    prefix_lens: tuple[int, ...] = (),
) -> CodeClaim:
    return CodeClaim.for_pin(
        KEY,
        pin,
        locks,
        None if start_h is None else T0 + start_h * HOUR,
        None if end_h is None else T0 + end_h * HOUR,
        prefix_lens,
    )


# --- the examples ---------------------------------------------------------------------------


def test_same_pin_same_lock_overlapping_windows_clash() -> None:
    a = claim("047291", {"lock_a"}, 0, 48)
    b = claim("047291", {"lock_a", "lock_b"}, 24, 72)
    assert clashes(a, b, timedelta(0), NO_PREFIX)


def test_different_pins_do_not_clash() -> None:
    a = claim("047291", {"lock_a"}, 0, 48)
    b = claim("047292", {"lock_a"}, 0, 48)
    assert not clashes(a, b, timedelta(hours=72), NO_PREFIX)


def test_no_shared_lock_no_clash() -> None:
    a = claim("047291", {"unit_1_door"}, 0, 48)
    b = claim("047291", {"unit_2_door"}, 0, 48)
    assert not clashes(a, b, timedelta(hours=72), NO_PREFIX)


def test_common_entrance_makes_codes_of_different_units_clash() -> None:
    a = claim("047291", {"unit_1_door", "entrance"}, 0, 48)
    b = claim("047291", {"unit_2_door", "entrance"}, 0, 48)
    assert clashes(a, b, timedelta(0), NO_PREFIX)


def test_touching_windows_without_cooldown_do_not_clash() -> None:
    a = claim("047291", {"lock_a"}, 0, 48)
    b = claim("047291", {"lock_a"}, 48, 96)
    assert not clashes(a, b, timedelta(0), NO_PREFIX)
    assert not clashes(b, a, timedelta(0), NO_PREFIX)


def test_cooldown_extends_each_window_at_its_end() -> None:
    a = claim("047291", {"lock_a"}, 0, 48)
    b = claim("047291", {"lock_a"}, 60, 96)  # starts 12 h after a ends
    assert not clashes(a, b, timedelta(hours=12), NO_PREFIX)  # a+12h ends exactly as b starts
    assert clashes(a, b, timedelta(hours=12, seconds=1), NO_PREFIX)
    assert clashes(b, a, timedelta(hours=72), NO_PREFIX)


def test_windows_beyond_the_cooldown_do_not_clash() -> None:
    a = claim("047291", {"lock_a"}, 0, 48)
    b = claim("047291", {"lock_a"}, 48 + 73, 200)
    assert not clashes(a, b, timedelta(hours=72), NO_PREFIX)


def test_unbounded_windows() -> None:
    staff = claim("047291", {"lock_a"}, None, None)  # a staff code with no start or end
    later = claim("047291", {"lock_a"}, 10_000, 10_048)
    assert clashes(staff, later, timedelta(0), NO_PREFIX)
    ended = claim("047291", {"lock_a"}, None, 0)
    assert not clashes(ended, later, timedelta(hours=72), NO_PREFIX)
    starts_late = claim("047291", {"lock_a"}, 20_000, None)
    assert not clashes(starts_late, later, timedelta(hours=72), NO_PREFIX)


def test_prefix_lock_clashes_on_equal_prefixes() -> None:
    a = claim("047291", {"keypad"}, 0, 48, prefix_lens=(4,))
    b = claim("047255", {"keypad"}, 0, 48, prefix_lens=(4,))
    assert clashes(a, b, timedelta(0), {"keypad": 4})
    assert not clashes(a, b, timedelta(0), {"keypad": None})
    assert not clashes(a, b, timedelta(0), NO_PREFIX)
    c = claim("047391", {"keypad"}, 0, 48, prefix_lens=(4,))
    assert not clashes(a, c, timedelta(0), {"keypad": 4})


def test_prefix_rule_spans_code_lengths() -> None:
    four = claim("0472", {"keypad"}, 0, 48, prefix_lens=(4,))
    six = claim("047291", {"keypad"}, 0, 48, prefix_lens=(4,))
    assert clashes(four, six, timedelta(0), {"keypad": 4})
    assert clashes(six, four, timedelta(0), {"keypad": 4})


def test_prefix_rule_applies_only_on_the_lock_that_declares_it() -> None:
    a = claim("047291", {"keypad", "entrance"}, 0, 48, prefix_lens=(4,))
    b = claim("047255", {"entrance"}, 0, 48, prefix_lens=(4,))
    assert not clashes(a, b, timedelta(0), {"keypad": 4, "entrance": None})
    assert clashes(a, b, timedelta(0), {"keypad": 4, "entrance": 4})


def test_pin_shorter_than_the_prefix_is_compared_whole() -> None:
    four = claim("0472", {"keypad"}, 0, 48, prefix_lens=(6,))
    six = claim("047291", {"keypad"}, 0, 48, prefix_lens=(6,))
    also_four = claim("0472", {"keypad"}, 0, 48, prefix_lens=(6,))
    assert not clashes(four, six, timedelta(0), {"keypad": 6})
    assert clashes(four, also_four, timedelta(0), {"keypad": 6})


def test_prefix_rule_still_needs_overlap() -> None:
    a = claim("047291", {"keypad"}, 0, 48, prefix_lens=(4,))
    b = claim("047255", {"keypad"}, 48, 96, prefix_lens=(4,))
    assert not clashes(a, b, timedelta(0), {"keypad": 4})


def test_missing_prefix_fingerprint_is_an_error_not_a_silent_pass() -> None:
    a = claim("047291", {"keypad"}, 0, 48)
    b = claim("047255", {"keypad"}, 0, 48, prefix_lens=(4,))
    with pytest.raises(ValueError, match="prefix fingerprint"):
        clashes(a, b, timedelta(0), {"keypad": 4})


def test_claims_refuse_naive_or_reversed_windows() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CodeClaim(frozenset({"l"}), datetime(2026, 1, 1), None, "fp")
    with pytest.raises(ValueError, match="before"):
        CodeClaim(frozenset({"l"}), T0, T0 - HOUR, "fp")


def test_empty_window_overlaps_nothing_unless_a_cooldown_extends_it() -> None:
    empty = claim("047291", {"lock_a"}, 10, 10)
    around = claim("047291", {"lock_a"}, 0, 48)
    assert not clashes(empty, around, timedelta(0), NO_PREFIX)
    assert not clashes(around, empty, timedelta(0), NO_PREFIX)
    assert clashes(empty, around, timedelta(hours=1), NO_PREFIX)


def test_negative_cooldown_is_refused() -> None:
    a = claim("047291", {"lock_a"}, 0, 48)
    with pytest.raises(ValueError, match="cooldown"):
        windows_overlap(a, a, timedelta(hours=-1))


def test_claim_holds_no_plaintext() -> None:
    a = claim("047291", {"lock_a"}, 0, 48, prefix_lens=(4, 6))
    assert "047291" not in repr(a)
    assert set(a.prefix_fingerprints) == {4, 6}


# --- properties -------------------------------------------------------------------------------

lock_sets = st.frozensets(st.sampled_from(["l1", "l2", "l3", "entrance"]), min_size=1)
pins = st.sampled_from(["047291", "047255", "0472", "583920", "58392011"])
hours = st.integers(-100, 300)
prefix_maps = st.fixed_dictionaries(
    {}, optional={lock: st.sampled_from([None, 4, 5, 6]) for lock in ["l1", "l2", "l3"]}
)


@st.composite
def claims(draw: st.DrawFn) -> CodeClaim:
    start = draw(st.none() | hours)
    length = draw(st.none() | st.integers(1, 200))
    end = None if length is None else (start if start is not None else 0) + length
    return claim(draw(pins), set(draw(lock_sets)), start, end, prefix_lens=(4, 5, 6))


@given(claims(), claims(), st.integers(0, 100), prefix_maps)
def test_clash_is_symmetric(a: CodeClaim, b: CodeClaim, cooldown_h: int, prefixes: dict[str, int | None]) -> None:
    cooldown = timedelta(hours=cooldown_h)
    assert clashes(a, b, cooldown, prefixes) == clashes(b, a, cooldown, prefixes)


@given(claims(), claims(), st.integers(0, 100), prefix_maps)
def test_no_shared_lock_never_clashes(
    a: CodeClaim, b: CodeClaim, cooldown_h: int, prefixes: dict[str, int | None]
) -> None:
    b = CodeClaim(
        a.lock_ids ^ frozenset({"l1", "l2", "l3", "entrance"}),
        b.valid_from,
        b.valid_until,
        b.fingerprint,
        b.prefix_fingerprints,
    )
    assume(b.lock_ids)
    assert not clashes(a, b, timedelta(hours=cooldown_h), prefixes)


@given(claims(), st.integers(0, 100), st.integers(0, 100), prefix_maps)
def test_windows_apart_by_more_than_the_cooldown_never_clash(
    a: CodeClaim, cooldown_h: int, gap_h: int, prefixes: dict[str, int | None]
) -> None:
    assume(a.valid_until is not None)
    assert a.valid_until is not None
    cooldown = timedelta(hours=cooldown_h)
    start = a.valid_until + cooldown + timedelta(hours=gap_h)
    b = CodeClaim(a.lock_ids, start, start + HOUR, a.fingerprint, a.prefix_fingerprints)
    assert not clashes(a, b, cooldown, prefixes)
    # ... while the same code slightly inside the cooldown does clash.
    early = CodeClaim(a.lock_ids, start - timedelta(hours=gap_h, seconds=1), None, a.fingerprint, {})
    assert clashes(a, early, cooldown, prefixes)


@given(claims(), st.integers(0, 100))
def test_a_code_clashes_with_itself(a: CodeClaim, cooldown_h: int) -> None:
    assert clashes(a, a, timedelta(hours=cooldown_h), {})


# --- code space ---------------------------------------------------------------------------


def test_guess_probability() -> None:
    assert guess_probability(0, 4) == 0
    assert guess_probability(100, 4) == 0.01
    assert guess_probability(1, 6) == 1e-6
    with pytest.raises(ValueError, match="negative"):
        guess_probability(-1, 4)


def test_space_verdict_thresholds_are_exclusive() -> None:
    policy = CodePolicy()  # refuse above 1 %, warn above 0.1 %
    assert space_verdict(10, 4, policy) == "ok"  # exactly 0.1 %
    assert space_verdict(11, 4, policy) == "warn"
    assert space_verdict(100, 4, policy) == "warn"  # exactly 1 %
    assert space_verdict(101, 4, policy) == "refuse"
    assert space_verdict(101, 6, policy) == "ok"
    assert space_verdict(10_001, 6, policy) == "refuse"


def test_space_verdict_follows_the_policy() -> None:
    strict = CodePolicy(refuse_guess_probability=0.001, warn_guess_probability=0.0001)
    assert space_verdict(11, 4, strict) == "refuse"
    assert space_verdict(2, 4, strict) == "warn"
    assert space_verdict(1, 4, strict) == "ok"


@pytest.mark.parametrize(("length", "expected"), [(4, 100), (5, 1000), (6, 10_000), (8, 1_000_000)])
def test_max_active_codes(length: int, expected: int) -> None:
    policy = CodePolicy()
    assert max_active_codes(length, policy) == expected
    assert space_verdict(expected, length, policy) != "refuse"
    assert space_verdict(expected + 1, length, policy) == "refuse"


@given(
    st.integers(4, 8),
    st.floats(1e-8, 1.0, allow_nan=False),
)
def test_max_active_codes_is_the_refusal_boundary(length: int, refuse: float) -> None:
    policy = CodePolicy(refuse_guess_probability=refuse, warn_guess_probability=refuse)
    n = max_active_codes(length, policy)
    assert space_verdict(n + 1, length, policy) == "refuse"
    assert n == 0 or space_verdict(n, length, policy) != "refuse"
