"""Rate limits for the guest pages: a token bucket per client address, kept in this process.

Every address has a bucket holding up to `capacity` tokens, refilled at `per_minute` tokens a
minute. A request takes one token; a request for a token that leads nowhere (unknown, expired or
revoked) is charged `failure_cost` in all, and may put the bucket into debt (down to minus its
capacity), so guessing is throttled hard while a guest reloading their page never notices.

Each process limits on its own: with several API processes behind a load balancer, an address
may get up to that many times the rate. With 256-bit guest tokens the limit is about keeping
scanners and scrapers cheap to serve, not about the tokens' secrecy, so that is good enough.

The client address is the ASGI peer (`scope["client"]`). `X-Forwarded-For` is believed only
when the peer is one of the trusted proxies (DOORPIN_TRUSTED_PROXIES), and then only up to the
first hop that is not itself a trusted proxy. IPv6 clients are limited per /64 network, since
one host usually holds a whole /64.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from starlette.types import Scope

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Defaults for /g/…: a burst of 30 page views, then 20 a minute; a failed lookup costs 10, so
# an address guessing tokens gets 3 guesses and then one every 30 seconds.
CAPACITY = 30.0
PER_MINUTE = 20.0
FAILURE_COST = 10.0
MAX_ADDRESSES = 20_000


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int  # whole seconds until the request would be allowed; 0 when allowed


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBucketLimiter:
    """Thread-safe token buckets by key; the least recently seen keys are forgotten beyond `max_keys`."""

    def __init__(
        self,
        capacity: float = CAPACITY,
        per_minute: float = PER_MINUTE,
        max_keys: int = MAX_ADDRESSES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if capacity < 1 or per_minute <= 0 or max_keys < 1:
            raise ValueError("capacity must be at least 1, per_minute positive, max_keys at least 1")
        self.capacity = capacity
        self.rate = per_minute / 60.0  # tokens per second
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def _bucket(self, key: str) -> _Bucket:
        """The key's bucket, refilled up to now (a new key starts full). Call with the lock held."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(self.capacity, now)
            self._buckets[key] = bucket
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(self.capacity, bucket.tokens + elapsed * self.rate)
            bucket.updated = now
        return bucket

    def take(self, key: str, cost: float = 1.0) -> Decision:
        """Take `cost` tokens if the bucket holds them; otherwise refuse and take nothing."""
        with self._lock:
            bucket = self._bucket(key)
            if bucket.tokens >= cost:
                bucket.tokens -= cost
                return Decision(True, 0)
            return Decision(False, max(1, math.ceil((cost - bucket.tokens) / self.rate)))

    def charge(self, key: str, cost: float) -> None:
        """Take `cost` more tokens after the fact (a failed lookup), going into debt if need be."""
        with self._lock:
            bucket = self._bucket(key)
            bucket.tokens = max(-self.capacity, bucket.tokens - cost)

    def __len__(self) -> int:
        return len(self._buckets)


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)


def _address(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress | None, proxies: tuple[IPNetwork, ...]) -> bool:
    return address is not None and any(address.version == net.version and address in net for net in proxies)


def client_address(scope: Scope, trusted_proxies: tuple[IPNetwork, ...] = ()) -> str:
    """Who sent the request: the peer, or the forwarded client when the peer is a trusted proxy."""
    client = scope.get("client")
    peer = str(client[0]) if client else "unknown"
    if not trusted_proxies or not _trusted(_address(peer), trusted_proxies):
        return peer
    hops: list[str] = []
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-for":
            hops.extend(part.strip() for part in value.decode("latin-1").split(","))
    # Right to left: each trusted proxy vouches for the hop before it; the first hop that is not
    # a trusted proxy is the client. Anything further left was written by the client itself.
    for hop in reversed([h for h in hops if h]):
        if not _trusted(_address(hop), trusted_proxies):
            return hop
        peer = hop
    return peer


def bucket_key(address: str) -> str:
    """The rate-limit key of an address: IPv4 as is, IPv6 by its /64, anything else verbatim."""
    parsed = _address(address)
    if parsed is None:
        return address[:100]
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)
