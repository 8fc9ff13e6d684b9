"""Wiring: settings -> database, keys, clock -> the application's services."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from doorpin.adapters.db import migrate
from doorpin.adapters.db.engine import Database
from doorpin.adapters.pin_vault import PinVault
from doorpin.config import ConfigError, Settings
from doorpin.keyring import Keyring, load_keyring
from doorpin.services.clock import Clock, SystemClock


@dataclass(frozen=True)
class AppServices:
    """What every entrypoint needs: the database, the keys and the clock."""

    db: Database
    keyring: Keyring
    clock: Clock
    # Defaults per lock provider (e.g. {"keypad": {"hub_url": ...}}); a lock's own settings win.
    provider_settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    sync_lease_seconds: float = 30.0
    webhook_retry_base_seconds: float = 30.0
    webhook_disable_after_hours: float = 72.0
    webhook_retention_days: float = 30.0  # finished deliveries, their attempts and events
    events_poll_seconds: float = 2.0
    # Proxies whose X-Forwarded-For names the client (DOORPIN_TRUSTED_PROXIES); empty: none.
    trusted_proxies: tuple[str, ...] = ()
    # Guest messages: each channel's sender is built from its URL (None: not configured).
    smtp_url: str | None = None
    sms_url: str | None = None
    base_url: str | None = None  # where guests and the messaging gateway reach this service

    @cached_property
    def vault(self) -> PinVault:
        return PinVault(self.keyring)


class SchemaOutOfDateError(ConfigError):
    pass


def build_services(settings: Settings, clock: Clock | None = None, check_schema: bool = True) -> AppServices:
    db = Database.from_url(settings.database_url)
    if check_schema and not migrate.is_current(db.engine):
        db.dispose()
        raise SchemaOutOfDateError("the database schema is out of date: run `doorpin db upgrade` first")
    providers: dict[str, Mapping[str, Any]] = {}
    if settings.keypad_hub_url:
        providers["keypad"] = {"hub_url": settings.keypad_hub_url}
    return AppServices(
        db=db,
        keyring=load_keyring(settings),
        clock=clock or SystemClock(),
        provider_settings=providers,
        sync_lease_seconds=settings.sync_lease_seconds,
        webhook_retry_base_seconds=settings.webhook_retry_base_seconds,
        webhook_disable_after_hours=settings.webhook_disable_after_hours,
        webhook_retention_days=settings.webhook_retention_days,
        events_poll_seconds=settings.events_poll_seconds,
        trusted_proxies=settings.trusted_proxies,
        smtp_url=settings.smtp_url,
        sms_url=settings.sms_url,
        base_url=settings.base_url,
    )
