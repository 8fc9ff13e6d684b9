"""One provider instance per provider name and settings, shared by the worker's threads."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

from doorpin.adapters.db.models import Lock
from doorpin.adapters.locks import registry
from doorpin.adapters.locks.base import LockProvider, LockRef


class ProviderPool:
    def __init__(
        self,
        defaults: Mapping[str, Mapping[str, Any]] | None = None,
        factories: Mapping[str, registry.ProviderFactory] | None = None,
    ) -> None:
        self._defaults = {name: dict(values) for name, values in (defaults or {}).items()}
        # Installed providers by default; tests may hand in a fake under a provider's name.
        self._factories = dict(factories) if factories is not None else None
        self._providers: dict[tuple[str, str], LockProvider] = {}
        self._prepared: set[tuple[str, str]] = set()
        self._guard = threading.Lock()

    def settings_for(self, lock: Lock) -> dict[str, Any]:
        return {**self._defaults.get(lock.provider, {}), **(lock.settings or {})}

    def provider_for(self, lock: Lock) -> LockProvider:
        settings = self.settings_for(lock)
        key = (lock.provider, json.dumps(settings, sort_keys=True, default=str))
        with self._guard:
            provider = self._providers.get(key)
            if provider is None:
                if self._factories is not None and lock.provider in self._factories:
                    provider = self._factories[lock.provider](settings)
                else:
                    provider = registry.create(lock.provider, settings)
                self._providers[key] = provider
            return provider

    def ref_for(self, lock: Lock) -> LockRef:
        settings = self.settings_for(lock)
        return LockRef(
            lock_id=lock.id,
            device_id=str(settings.get("device_id") or lock.id),
            settings=settings,
            native_scheduling=bool(lock.capabilities.get("native_scheduling")),
        )

    def prepare(self, lock: Lock) -> None:
        """Let a provider set up a device once per lock and capabilities (simulated hubs only)."""
        key = (lock.id, json.dumps(lock.capabilities, sort_keys=True, default=str))
        with self._guard:
            if key in self._prepared:
                return
            self._prepared.add(key)
        ensure = getattr(self.provider_for(lock), "ensure_device", None)
        if ensure is not None:
            ensure(self.ref_for(lock), lock.capabilities)

    def close(self) -> None:
        with self._guard:
            for provider in self._providers.values():
                provider.close()
            self._providers.clear()
