"""Identifiers: typed prefixes, fixed length, strictly increasing within a process."""

from __future__ import annotations

import threading

import pytest

from doorpin.ids import has_prefix, new_id


def test_ids_carry_their_type_and_a_fixed_length() -> None:
    value = new_id("res")
    assert has_prefix(value, "res")
    assert not has_prefix(value, "prop")


def test_unknown_prefix_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown id prefix"):
        new_id("nope")


def test_ids_increase_strictly_even_within_one_millisecond() -> None:
    ids = [new_id("res") for _ in range(20_000)]  # many share a millisecond
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_ids_from_many_threads_are_unique_and_each_thread_sees_them_increase() -> None:
    per_thread: list[list[str]] = [[] for _ in range(4)]

    def draw(bucket: list[str]) -> None:
        bucket.extend(new_id("lc") for _ in range(5_000))

    threads = [threading.Thread(target=draw, args=(bucket,)) for bucket in per_thread]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [value for bucket in per_thread for value in bucket]
    assert len(set(everything)) == len(everything)
    assert all(bucket == sorted(bucket) for bucket in per_thread)
