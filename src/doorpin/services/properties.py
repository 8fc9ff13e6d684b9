"""Properties: the time zone, check-in/out times, code policy and delivery settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorpin.adapters.db.models import Property
from doorpin.domain.errors import DomainError
from doorpin.domain.local_time import load_timezone, parse_time_of_day
from doorpin.domain.scopes import Scope
from doorpin.ids import new_id
from doorpin.services.clock import Clock
from doorpin.services.pagination import Page, paginate
from doorpin.services.principal import Principal, not_found

DOOR_PROVIDERS = ("keypad", "offline_pin", "timecode", "ttlock")


def default_code_policy(door_provider: str) -> dict[str, Any]:
    # LIKE MAGIC style: an offline_pin door system holds one PIN per unit, as a physical door.
    return {
        "length": 6,
        "pin_scope": "unit" if door_provider == "offline_pin" else "reservation",
        "reuse_cooldown_hours": 72,
        "weak_pins": "reject",
        "activate_before_minutes": 0,
        "expire_after_minutes": 0,
    }


def default_delivery() -> dict[str, Any]:
    return {"send_before_hours": 48, "channels": ["email"], "language": "en"}


def get_property(session: Session, principal: Principal, property_id: str, field: str | None = None) -> Property:
    row = session.get(Property, (principal.account_id, property_id))
    if row is None or not principal.reaches(property_id):
        raise not_found("property", field)
    return row


def _check_settings(data: Mapping[str, Any]) -> None:
    if "timezone" in data:
        load_timezone(data["timezone"])
    for field in ("check_in_time", "check_out_time"):
        if field in data:
            parse_time_of_day(data[field], field)
    if data.get("door_provider") is not None and data["door_provider"] not in DOOR_PROVIDERS:
        raise DomainError(
            "validation_error",
            f"door_provider must be one of {', '.join(DOOR_PROVIDERS)}",
            "door_provider",
        )


def create_property(session: Session, clock: Clock, principal: Principal, data: Mapping[str, Any]) -> Property:
    principal.require(Scope.WRITE)
    if principal.property_ids is not None:
        raise DomainError("forbidden", "a key limited to some properties cannot create properties")
    _check_settings(data)
    provider = data.get("door_provider") or "keypad"
    now = clock.now()
    row = Property(
        account_id=principal.account_id,
        id=new_id("prop"),
        name=data["name"],
        timezone=data["timezone"],
        door_provider=provider,
        check_in_time=data.get("check_in_time") or "15:00",
        check_out_time=data.get("check_out_time") or "11:00",
        code_policy={**default_code_policy(provider), **(data.get("code_policy") or {})},
        delivery={**default_delivery(), **(data.get("delivery") or {})},
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def update_property(
    session: Session,
    clock: Clock,
    principal: Principal,
    property_id: str,
    changes: Mapping[str, Any],
) -> Property:
    principal.require(Scope.WRITE)
    row = get_property(session, principal, property_id)
    _check_settings(changes)
    for field in ("name", "timezone", "door_provider", "check_in_time", "check_out_time"):
        if changes.get(field) is not None:
            setattr(row, field, changes[field])
    if changes.get("code_policy"):
        row.code_policy = {**row.code_policy, **changes["code_policy"]}
    if changes.get("delivery"):
        row.delivery = {**row.delivery, **changes["delivery"]}
    row.updated_at = clock.now()
    session.flush()
    return row


def list_properties(session: Session, principal: Principal, limit: int, cursor: str | None) -> Page[Property]:
    principal.require(Scope.READ)
    query = select(Property).where(Property.account_id == principal.account_id)
    if principal.property_ids is not None:
        query = query.where(Property.id.in_(sorted(principal.property_ids)))
    return paginate(session, query, Property.id, limit, cursor)
