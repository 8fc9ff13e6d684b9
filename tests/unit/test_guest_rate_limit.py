"""The guest pages' rate limiter and how it tells clients apart."""

from __future__ import annotations

import threading

import pytest

from doorpin.entrypoints.web.rate_limit import (
    TokenBucketLimiter,
    bucket_key,
    client_address,
    parse_networks,
)


class Ticker:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def scope(peer: str, *forwarded: str) -> dict[str, object]:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return {"type": "http", "client": (peer, 51234), "headers": headers}


def test_a_burst_is_allowed_then_refused_with_retry_after() -> None:
    ticker = Ticker()
    limiter = TokenBucketLimiter(capacity=5, per_minute=6, clock=ticker)
    assert all(limiter.take("a").allowed for _ in range(5))
    refused = limiter.take("a")
    assert not refused.allowed
    assert refused.retry_after == 10  # one token at 6 a minute
    assert limiter.take("b").allowed, "another key has its own bucket"


def test_tokens_come_back_at_the_configured_rate_up_to_capacity() -> None:
    ticker = Ticker()
    limiter = TokenBucketLimiter(capacity=3, per_minute=60, clock=ticker)
    for _ in range(3):
        assert limiter.take("a").allowed
    assert not limiter.take("a").allowed
    ticker.now += 1.0
    assert limiter.take("a").allowed
    assert not limiter.take("a").allowed
    ticker.now += 3600
    assert [limiter.take("a").allowed for _ in range(4)] == [True, True, True, False], "capped at capacity"


def test_a_refused_request_takes_nothing() -> None:
    ticker = Ticker()
    limiter = TokenBucketLimiter(capacity=1, per_minute=60, clock=ticker)
    assert limiter.take("a").allowed
    for _ in range(50):
        assert not limiter.take("a").allowed
    ticker.now += 1.0
    assert limiter.take("a").allowed, "hammering while refused must not push the wait further out"


def test_failures_charge_extra_and_may_run_into_debt_bounded_by_capacity() -> None:
    ticker = Ticker()
    limiter = TokenBucketLimiter(capacity=30, per_minute=20, clock=ticker)
    allowed = 0
    for _ in range(100):
        if not limiter.take("guesser").allowed:
            break
        allowed += 1
        limiter.charge("guesser", 9)
    assert allowed == 3, "three failed lookups use up a burst of 30"
    for _ in range(20):
        limiter.charge("guesser", 9)
    refused = limiter.take("guesser")
    assert not refused.allowed
    assert refused.retry_after == 93, "debt stops at minus the capacity: 31 tokens at 20 a minute"


def test_the_least_recently_seen_keys_are_forgotten_beyond_max_keys() -> None:
    ticker = Ticker()
    limiter = TokenBucketLimiter(capacity=1, per_minute=1, max_keys=3, clock=ticker)
    for key in ("a", "b", "c"):
        assert limiter.take(key).allowed
    assert not limiter.take("a").allowed  # "a" is now the most recently seen
    assert limiter.take("d").allowed  # evicts "b", the least recently seen
    assert len(limiter) == 3
    assert not limiter.take("a").allowed, "a key still tracked keeps its empty bucket"
    assert limiter.take("b").allowed, "an evicted key starts over with a full bucket"


def test_concurrent_takes_never_hand_out_more_than_the_bucket_holds() -> None:
    limiter = TokenBucketLimiter(capacity=100, per_minute=0.001)
    results: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            decision = limiter.take("shared")
            with lock:
                results.append(decision.allowed)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 100
    assert len(results) == 400


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        TokenBucketLimiter(capacity=0)
    with pytest.raises(ValueError):
        TokenBucketLimiter(per_minute=0)


def test_x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() -> None:
    assert client_address(scope("203.0.113.7", "198.51.100.1")) == "203.0.113.7"
    trusted = parse_networks(["10.0.0.0/8"])
    assert client_address(scope("203.0.113.7", "198.51.100.1"), trusted) == "203.0.113.7"
    assert client_address(scope("10.1.2.3", "198.51.100.1"), trusted) == "198.51.100.1"


def test_only_hops_vouched_for_by_trusted_proxies_count() -> None:
    trusted = parse_networks(["10.0.0.0/8", "127.0.0.1"])
    # The client wrote "1.1.1.1" itself; the outer proxy 10.0.0.2 saw 198.51.100.1 connect.
    assert client_address(scope("127.0.0.1", "1.1.1.1, 198.51.100.1, 10.0.0.2"), trusted) == "198.51.100.1"
    # Several headers are one list, in order.
    assert client_address(scope("127.0.0.1", "1.1.1.1", "198.51.100.9"), trusted) == "198.51.100.9"
    # Only proxies in the chain: the leftmost one is the best we know.
    assert client_address(scope("127.0.0.1", "10.0.0.9, 10.0.0.2"), trusted) == "10.0.0.9"
    # No header at all: the proxy itself.
    assert client_address(scope("127.0.0.1"), trusted) == "127.0.0.1"


def test_clients_without_an_address_share_one_key() -> None:
    assert client_address({"type": "http", "headers": []}) == "unknown"


def test_ipv6_clients_are_limited_per_64_and_mapped_ipv4_as_ipv4() -> None:
    assert bucket_key("2001:db8:1:2:aaaa::1") == bucket_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert bucket_key("2001:db8:1:3::1") != bucket_key("2001:db8:1:2::1")
    assert bucket_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert bucket_key("192.0.2.1") == "192.0.2.1"
    assert bucket_key("testclient") == "testclient"
