"""Lock providers by name, found through the `doorpin.lock_providers` entry-point group."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any

from doorpin.adapters.locks.base import LockProvider

GROUP = "doorpin.lock_providers"

ProviderFactory = Callable[[Mapping[str, Any]], LockProvider]


def available() -> dict[str, ProviderFactory]:
    """Every installed provider factory by name; a factory takes the provider's settings."""
    return {ep.name: ep.load() for ep in entry_points(group=GROUP)}


def create(name: str, settings: Mapping[str, Any]) -> LockProvider:
    factories = available()
    if name not in factories:
        raise LookupError(f"no lock provider named {name!r} (installed: {', '.join(sorted(factories)) or 'none'})")
    return factories[name](settings)
