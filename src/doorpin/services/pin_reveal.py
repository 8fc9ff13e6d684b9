"""Showing a PIN to an API caller: in clear (and audited) for keys that may see PINs, else masked."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from doorpin.adapters.db.access_models import AccessCode
from doorpin.adapters.pin_vault import PinVault
from doorpin.services import audit
from doorpin.services.principal import Principal

MASK = "••••••"


def shown_pin(
    session: Session,
    vault: PinVault,
    caller: Principal,
    code: AccessCode,
    *,
    at: datetime,
    subject_type: str,
    subject_id: str,
    details: Mapping[str, Any] | None = None,
) -> str:
    if not caller.sees_pins:
        return MASK
    audit.record(
        session,
        account_id=code.account_id,
        at=at,
        actor_key_id=caller.key_id,
        action="pin.revealed",
        subject_type=subject_type,
        subject_id=subject_id,
        property_id=code.property_id,
        details=details,
    )
    return vault.open(code.pin_ciphertext, code.account_id, code.id)
