"""Keyed PIN fingerprints (doorpin.domain.fingerprints)."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorpin.domain.fingerprints import lock_fingerprint, pin_fingerprint, prefix_fingerprint

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
pins = st.text(alphabet="0123456789", min_size=4, max_size=8)


def test_full_fingerprint_is_hex_hmac_sha256_of_the_digits() -> None:
    expected = hmac.new(KEY, b"047291", hashlib.sha256).hexdigest()
    assert pin_fingerprint(KEY, "047291") == expected
    assert len(expected) == 64


def test_prefix_fingerprint_is_domain_separated() -> None:
    expected = hmac.new(KEY, b"prefix:4:0472", hashlib.sha256).hexdigest()
    assert prefix_fingerprint(KEY, "047291", 4) == expected
    # The 4-digit prefix of one code never matches the full fingerprint of the 4-digit code.
    assert prefix_fingerprint(KEY, "047291", 4) != pin_fingerprint(KEY, "0472")


def test_fingerprint_does_not_contain_the_pin() -> None:
    assert "047291" not in pin_fingerprint(KEY, "047291")


def test_leading_zeros_matter() -> None:
    assert pin_fingerprint(KEY, "0123") != pin_fingerprint(KEY, "123")
    assert pin_fingerprint(KEY, "04729") != pin_fingerprint(KEY, "4729")


@given(pins, pins)
def test_equal_fingerprints_iff_equal_pins(a: str, b: str) -> None:
    assert (pin_fingerprint(KEY, a) == pin_fingerprint(KEY, b)) == (a == b)


@given(pins, pins, st.integers(1, 4))
def test_equal_prefix_fingerprints_iff_equal_prefixes(a: str, b: str, n: int) -> None:
    assert (prefix_fingerprint(KEY, a, n) == prefix_fingerprint(KEY, b, n)) == (a[:n] == b[:n])


@given(pins)
def test_fingerprints_depend_on_the_key(pin: str) -> None:
    assert pin_fingerprint(KEY, pin) != pin_fingerprint(OTHER_KEY, pin)
    assert prefix_fingerprint(KEY, pin, 4) != prefix_fingerprint(OTHER_KEY, pin, 4)


@given(pins, st.integers(1, 8))
def test_prefix_fingerprints_never_equal_full_ones(pin: str, n: int) -> None:
    if n > len(pin):
        return
    assert prefix_fingerprint(KEY, pin, n) != pin_fingerprint(KEY, pin[:n])


@pytest.mark.parametrize("prefix_len", [0, -1, 7])
def test_prefix_len_must_fit_the_pin(prefix_len: int) -> None:
    with pytest.raises(ValueError, match="prefix_len"):
        prefix_fingerprint(KEY, "047291", prefix_len)


@pytest.mark.parametrize("pin", ["", "١٢٣٤", "12 34", "-1234"])
def test_only_ascii_digits_are_fingerprinted(pin: str) -> None:
    with pytest.raises(ValueError, match="ASCII digits") as caught:
        pin_fingerprint(KEY, pin)
    assert pin == "" or pin not in str(caught.value)


@pytest.mark.parametrize("key", [b"", b"short", "a string key of sufficient size"])
def test_weak_or_wrong_keys_are_refused(key: bytes) -> None:
    with pytest.raises(ValueError, match="key"):
        pin_fingerprint(key, "047291")


def test_lock_fingerprint_by_lock_kind() -> None:
    assert lock_fingerprint(KEY, "047291", None) == pin_fingerprint(KEY, "047291")
    assert lock_fingerprint(KEY, "047291", 4) == prefix_fingerprint(KEY, "047291", 4)
    # On a prefix-4 lock, a 6-digit code and the 4-digit code equal to its prefix collide.
    assert lock_fingerprint(KEY, "047291", 4) == lock_fingerprint(KEY, "0472", 4)
    # A PIN shorter than the prefix is compared whole.
    assert lock_fingerprint(KEY, "0472", 6) == prefix_fingerprint(KEY, "0472", 4)
    assert lock_fingerprint(KEY, "0472", 6) != lock_fingerprint(KEY, "047291", 6)
