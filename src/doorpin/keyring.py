"""The service's secret key and the purpose-bound keys derived from it.

One master secret (`DOORPIN_SECRET_KEY`, or a 0600 key file beside the SQLite database) is
stretched with HKDF into independent keys, so a leak of one derived key (say, API-key
hashes) says nothing about the others (PIN encryption).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from doorpin.config import ConfigError, Settings


def _derive(master: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"doorpin:" + purpose.encode()).derive(master)


@dataclass(frozen=True)
class Keyring:
    master: bytes

    @cached_property
    def api_key_hmac(self) -> bytes:
        return _derive(self.master, "api-key-hash")

    @cached_property
    def pin_fingerprint(self) -> bytes:
        return _derive(self.master, "pin-fingerprint")

    @cached_property
    def pin_encryption(self) -> bytes:
        return _derive(self.master, "pin-encryption")

    @cached_property
    def webhook_signing(self) -> bytes:
        return _derive(self.master, "webhook-secret-encryption")

    def hash_api_secret(self, secret: str) -> str:
        return hmac.new(self.api_key_hmac, secret.encode(), hashlib.sha256).hexdigest()


def _key_file_for(settings: Settings) -> Path:
    db_path = settings.sqlite_path
    if db_path is None:
        raise ConfigError("DOORPIN_SECRET_KEY is required when the database is not a SQLite file")
    return db_path.with_name(db_path.name + ".key")


def load_keyring(settings: Settings, create: bool = True) -> Keyring:
    """The configured key, else the key file beside the SQLite database (created 0600 if asked)."""
    if settings.secret_key is not None:
        return Keyring(settings.secret_key.encode())
    path = _key_file_for(settings)
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise ConfigError(f"{path} is readable by others (mode {mode:o}); run: chmod 600 {path}")
        value = path.read_text().strip()
        if len(value) < 32:
            raise ConfigError(f"{path} does not hold a valid key (at least 32 characters)")
        return Keyring(value.encode())
    if not create:
        raise ConfigError(f"no DOORPIN_SECRET_KEY and no key file at {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return load_keyring(settings, create=False)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return Keyring(value.encode())
