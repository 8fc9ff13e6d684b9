"""Units and locks of a property, and which doors each unit opens.

A lock linked to units is a unit door; a lock linked to none is a common door (the entrance)
that every stay of the property opens.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorpin.adapters.db.models import Lock, Unit, UnitLock
from doorpin.domain.errors import DomainError
from doorpin.domain.scopes import Scope
from doorpin.ids import new_id
from doorpin.services.clock import Clock
from doorpin.services.pagination import Page, paginate
from doorpin.services.principal import Principal, not_found
from doorpin.services.properties import DOOR_PROVIDERS, get_property


def default_capabilities(provider: str) -> dict[str, Any]:
    return {
        "code_lengths": [4, 5, 6, 7, 8],
        "max_codes": 250,
        "native_scheduling": False,
        "unique_prefix_len": None,
        "offline": provider == "timecode",
    }


def _require_settings_scope(principal: Principal) -> None:
    # Connection settings make doorpin's worker call a URL: only admins may choose where, so a
    # leaked write key cannot aim the service at internal hosts.
    if Scope.ADMIN not in principal.scopes:
        raise DomainError("forbidden", "changing a lock's connection settings needs the admin scope", "settings")


def get_unit(session: Session, principal: Principal, unit_id: str, field: str | None = None) -> Unit:
    row = session.get(Unit, (principal.account_id, unit_id))
    if row is None or not principal.reaches(row.property_id):
        raise not_found("unit", field)
    return row


def get_lock(session: Session, principal: Principal, lock_id: str, field: str | None = None) -> Lock:
    row = session.get(Lock, (principal.account_id, lock_id))
    if row is None or not principal.reaches(row.property_id):
        raise not_found("lock", field)
    return row


def _same_property_ids(
    session: Session,
    model: type[Unit] | type[Lock],
    account_id: str,
    property_id: str,
    ids: Iterable[str],
    field: str,
) -> list[str]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    found = set(
        session.scalars(
            select(model.id).where(
                model.account_id == account_id,
                model.property_id == property_id,
                model.id.in_(wanted),
            )
        )
    )
    for value in wanted:
        if value not in found:
            raise DomainError(
                "validation_error",
                f"{value!r} is not a {model.__tablename__[:-1]} of this property",
                field,
            )
    return wanted


def create_unit(
    session: Session,
    clock: Clock,
    principal: Principal,
    property_id: str,
    name: str,
    lock_ids: list[str],
) -> Unit:
    principal.require(Scope.WRITE)
    prop = get_property(session, principal, property_id)
    locks = _same_property_ids(session, Lock, prop.account_id, prop.id, lock_ids, "lock_ids")
    now = clock.now()
    unit = Unit(
        account_id=prop.account_id,
        id=new_id("unit"),
        property_id=prop.id,
        name=name,
        created_at=now,
        updated_at=now,
    )
    unit.lock_links = [UnitLock(account_id=prop.account_id, unit_id=unit.id, lock_id=lock_id) for lock_id in locks]
    session.add(unit)
    session.flush()
    return unit


def update_unit(session: Session, clock: Clock, principal: Principal, unit_id: str, changes: Mapping[str, Any]) -> Unit:
    principal.require(Scope.WRITE)
    unit = get_unit(session, principal, unit_id)
    if changes.get("name") is not None:
        unit.name = changes["name"]
    if changes.get("lock_ids") is not None:
        locks = _same_property_ids(session, Lock, unit.account_id, unit.property_id, changes["lock_ids"], "lock_ids")
        keep = {link.lock_id: link for link in unit.lock_links}
        unit.lock_links = [
            keep.get(lock_id) or UnitLock(account_id=unit.account_id, unit_id=unit.id, lock_id=lock_id)
            for lock_id in locks
        ]
    unit.updated_at = clock.now()
    session.flush()
    return unit


def list_units(session: Session, principal: Principal, property_id: str, limit: int, cursor: str | None) -> Page[Unit]:
    principal.require(Scope.READ)
    prop = get_property(session, principal, property_id)
    query = select(Unit).where(Unit.account_id == prop.account_id, Unit.property_id == prop.id)
    return paginate(session, query, Unit.id, limit, cursor)


def create_lock(
    session: Session, clock: Clock, principal: Principal, property_id: str, data: Mapping[str, Any]
) -> Lock:
    principal.require(Scope.WRITE)
    if data.get("settings"):
        _require_settings_scope(principal)
    prop = get_property(session, principal, property_id)
    provider = data.get("provider") or prop.door_provider
    if provider not in DOOR_PROVIDERS:
        raise DomainError("validation_error", f"provider must be one of {', '.join(DOOR_PROVIDERS)}", "provider")
    units = _same_property_ids(session, Unit, prop.account_id, prop.id, data.get("unit_ids") or [], "unit_ids")
    now = clock.now()
    lock = Lock(
        account_id=prop.account_id,
        id=new_id("lock"),
        property_id=prop.id,
        name=data["name"],
        provider=provider,
        capabilities={**default_capabilities(provider), **(data.get("capabilities") or {})},
        settings=dict(data.get("settings") or {}),
        created_at=now,
        updated_at=now,
    )
    lock.unit_links = [UnitLock(account_id=prop.account_id, unit_id=unit_id, lock_id=lock.id) for unit_id in units]
    session.add(lock)
    session.flush()
    return lock


def update_lock(session: Session, clock: Clock, principal: Principal, lock_id: str, changes: Mapping[str, Any]) -> Lock:
    principal.require(Scope.WRITE)
    lock = get_lock(session, principal, lock_id)
    if changes.get("name") is not None:
        lock.name = changes["name"]
    if changes.get("capabilities"):
        lock.capabilities = {**lock.capabilities, **changes["capabilities"]}
    if changes.get("settings"):
        _require_settings_scope(principal)
        lock.settings = {**lock.settings, **changes["settings"]}
    if changes.get("unit_ids") is not None:
        units = _same_property_ids(session, Unit, lock.account_id, lock.property_id, changes["unit_ids"], "unit_ids")
        keep = {link.unit_id: link for link in lock.unit_links}
        lock.unit_links = [
            keep.get(unit_id) or UnitLock(account_id=lock.account_id, unit_id=unit_id, lock_id=lock.id)
            for unit_id in units
        ]
    lock.updated_at = clock.now()
    session.flush()
    return lock


def list_locks(session: Session, principal: Principal, property_id: str, limit: int, cursor: str | None) -> Page[Lock]:
    principal.require(Scope.READ)
    prop = get_property(session, principal, property_id)
    query = select(Lock).where(Lock.account_id == prop.account_id, Lock.property_id == prop.id)
    return paginate(session, query, Lock.id, limit, cursor)
