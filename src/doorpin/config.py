"""Configuration from the environment (API.md, "Command line").

Invalid values stop start-up with one clear line (`ConfigError`), never a traceback.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "sqlite:///./doorpin.db"
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_LOG_FORMATS = ("text", "json")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable and the fix."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str | None
    smtp_url: str | None
    sms_url: str | None
    base_url: str
    log_level: str
    log_format: str
    keypad_hub_url: str | None = None
    sync_lease_seconds: float = 30.0
    # Outgoing webhooks: first retry delay (doubling after), and how long a failing URL is kept.
    webhook_retry_base_seconds: float = 30.0
    webhook_disable_after_hours: float = 72.0
    # How long finished webhook deliveries (and their attempts and events) are kept.
    webhook_retention_days: float = 30.0
    # How often the worker asks a polled lock provider for new access events.
    events_poll_seconds: float = 2.0
    # Proxies whose X-Forwarded-For is believed (addresses or networks); empty: none is.
    trusted_proxies: tuple[str, ...] = ()

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path | None:
        """The database file, or None for PostgreSQL and in-memory SQLite."""
        if not self.is_sqlite:
            return None
        path = self.database_url.split(":///", 1)[1] if ":///" in self.database_url else ""
        if not path or path == ":memory:":
            return None
        return Path(path)


def _url(env: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in schemes or not (parts.netloc or parts.path):
        raise ConfigError(
            f"{name} must be a URL starting with {' or '.join(s + '://' for s in schemes)}, got {parts.scheme or 'no scheme'}://…"
        )
    return value


def _seconds(
    env: Mapping[str, str], name: str, default: float, minimum: float = 1, unit: str = "seconds", maximum: float = 3600
) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of {unit}, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum:g} and {maximum:g} {unit}")
    return value


def _networks(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list of IP addresses or networks (`10.0.0.0/8`), normalised."""
    result = []
    for item in env.get(name, "").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            result.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ConfigError(
                f"{name} must list IP addresses or networks separated by commas (e.g. 127.0.0.1,10.0.0.0/8), "
                f"got {item!r}"
            ) from None
    return tuple(result)


def with_psycopg_driver(url: str) -> str:
    """psycopg 3 is our driver: accept the plain libpq form people paste (postgresql://…)."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    database_url = with_psycopg_driver(env.get("DOORPIN_DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL)
    if not (database_url.startswith(("sqlite:///", "postgresql+psycopg://"))):
        raise ConfigError(
            "DOORPIN_DATABASE_URL must start with sqlite:/// or postgresql+psycopg:// (e.g. sqlite:///./doorpin.db)"
        )
    secret_key = env.get("DOORPIN_SECRET_KEY", "").strip() or None
    if secret_key is not None and len(secret_key) < 32:
        raise ConfigError("DOORPIN_SECRET_KEY must be at least 32 characters (try: openssl rand -hex 32)")
    if secret_key is None and not database_url.startswith("sqlite"):
        raise ConfigError(
            "DOORPIN_SECRET_KEY is required with PostgreSQL: every process must share it "
            "(generate one with: openssl rand -hex 32)"
        )
    log_level = env.get("DOORPIN_LOG_LEVEL", "INFO").strip().upper() or "INFO"
    if log_level not in _LOG_LEVELS:
        raise ConfigError(f"DOORPIN_LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}")
    log_format = env.get("DOORPIN_LOG_FORMAT", "text").strip().lower() or "text"
    if log_format not in _LOG_FORMATS:
        raise ConfigError(f"DOORPIN_LOG_FORMAT must be one of {', '.join(_LOG_FORMATS)}")
    base_url = _url(env, "DOORPIN_BASE_URL", ("http", "https")) or "http://127.0.0.1:8000"
    return Settings(
        database_url=database_url,
        secret_key=secret_key,
        smtp_url=_url(env, "DOORPIN_SMTP_URL", ("smtp", "smtps")),
        sms_url=_url(env, "DOORPIN_SMS_URL", ("http", "https")),
        base_url=base_url.rstrip("/"),
        log_level=log_level,
        log_format=log_format,
        keypad_hub_url=_url(env, "DOORPIN_KEYPAD_HUB_URL", ("http", "https")),
        sync_lease_seconds=_seconds(env, "DOORPIN_SYNC_LEASE_SECONDS", 30.0),
        # A fraction of a second is allowed for the first retry, so tests and demos see retries at once.
        webhook_retry_base_seconds=_seconds(env, "DOORPIN_WEBHOOK_RETRY_BASE_SECONDS", 30.0, minimum=0.1),
        webhook_disable_after_hours=_seconds(env, "DOORPIN_WEBHOOK_DISABLE_AFTER_HOURS", 72.0, unit="hours"),
        webhook_retention_days=_seconds(env, "DOORPIN_WEBHOOK_RETENTION_DAYS", 30.0, unit="days", maximum=3650),
        events_poll_seconds=_seconds(env, "DOORPIN_EVENTS_POLL_SECONDS", 2.0),
        trusted_proxies=_networks(env, "DOORPIN_TRUSTED_PROXIES"),
    )
