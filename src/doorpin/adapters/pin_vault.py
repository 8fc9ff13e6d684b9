"""PINs at rest: AES-GCM under a key derived from the service secret.

The associated data binds a ciphertext to its account and code, so a ciphertext copied onto
another row does not decrypt. Equality never needs decryption: compare fingerprints.
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from doorpin.domain.fingerprints import lock_fingerprint, pin_fingerprint
from doorpin.keyring import Keyring

_VERSION = b"\x01"


class PinVault:
    def __init__(self, keyring: Keyring) -> None:
        self._aead = AESGCM(keyring.pin_encryption)
        self._fingerprint_key = keyring.pin_fingerprint

    @staticmethod
    def _aad(account_id: str, code_id: str) -> bytes:
        return f"doorpin:pin:{account_id}:{code_id}".encode()

    def seal(self, pin: str, account_id: str, code_id: str) -> bytes:
        nonce = os.urandom(12)
        return _VERSION + nonce + self._aead.encrypt(nonce, pin.encode("ascii"), self._aad(account_id, code_id))

    def open(self, sealed: bytes, account_id: str, code_id: str) -> str:
        if sealed[:1] != _VERSION:
            raise ValueError("unknown PIN ciphertext version")
        nonce, body = sealed[1:13], sealed[13:]
        return self._aead.decrypt(nonce, body, self._aad(account_id, code_id)).decode("ascii")

    def seal_text(self, text: str, context: str) -> str:
        """Encrypt any text that may carry a PIN (a stored API response), as base64."""
        nonce = os.urandom(12)
        sealed = _VERSION + nonce + self._aead.encrypt(nonce, text.encode(), f"doorpin:text:{context}".encode())
        return base64.b64encode(sealed).decode("ascii")

    def open_text(self, sealed_b64: str, context: str) -> str:
        sealed = base64.b64decode(sealed_b64)
        if sealed[:1] != _VERSION:
            raise ValueError("unknown ciphertext version")
        return self._aead.decrypt(sealed[1:13], sealed[13:], f"doorpin:text:{context}".encode()).decode()

    def fingerprint(self, pin: str) -> str:
        return pin_fingerprint(self._fingerprint_key, pin)

    def lock_fingerprint(self, pin: str, unique_prefix_len: int | None) -> str:
        return lock_fingerprint(self._fingerprint_key, pin, unique_prefix_len)
