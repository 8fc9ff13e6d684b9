"""Accounts and their API keys: created once, shown once, stored only as a hash."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorpin.adapters.db.models import Account, ApiKey, Property
from doorpin.domain.errors import DomainError
from doorpin.domain.scopes import Scope, effective_scopes
from doorpin.ids import has_prefix, new_id
from doorpin.keyring import Keyring
from doorpin.services.clock import Clock
from doorpin.services.pagination import Page, paginate
from doorpin.services.principal import Principal, not_found

TOKEN_PREFIX = "dpk"  # noqa: S105 - a public marker, not a secret


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    token: str  # the secret: shown once, never stored


def _unauthenticated(message: str = "missing or invalid API key") -> DomainError:
    return DomainError("unauthenticated", message)


def _issue_key(
    session: Session,
    keyring: Keyring,
    clock: Clock,
    account_id: str,
    name: str,
    scopes: Iterable[Scope],
    property_ids: list[str] | None,
    created_by: str | None,
) -> IssuedKey:
    key_id = new_id("key")
    secret = secrets.token_urlsafe(32)
    row = ApiKey(
        account_id=account_id,
        id=key_id,
        name=name,
        secret_hash=keyring.hash_api_secret(secret),
        scopes=sorted({s.value for s in scopes}),
        property_ids=property_ids,
        created_at=clock.now(),
        revoked_at=None,
        created_by_key_id=created_by,
    )
    session.add(row)
    session.flush()
    return IssuedKey(row, f"{TOKEN_PREFIX}_{key_id}_{secret}")


def create_account(session: Session, keyring: Keyring, clock: Clock, name: str) -> tuple[Account, IssuedKey]:
    name = name.strip()
    if not name or len(name) > 200:
        raise DomainError("validation_error", "account name must be 1-200 characters", "name")
    account = Account(id=new_id("acct"), name=name, created_at=clock.now())
    session.add(account)
    session.flush()
    issued = _issue_key(session, keyring, clock, account.id, "first admin key", [Scope.ADMIN], None, None)
    return account, issued


def authenticate(session: Session, keyring: Keyring, token: str) -> Principal:
    """The principal behind a bearer token, compared in constant time; any failure is alike."""
    parts = token.split("_")
    if len(parts) < 4 or parts[0] != TOKEN_PREFIX:
        raise _unauthenticated()
    key_id = f"{parts[1]}_{parts[2]}"
    secret = "_".join(parts[3:])
    if not has_prefix(key_id, "key"):
        raise _unauthenticated()
    row = session.scalars(select(ApiKey).where(ApiKey.id == key_id)).first()
    expected = row.secret_hash if row is not None else "0" * 64
    matches = hmac.compare_digest(keyring.hash_api_secret(secret), expected)
    if row is None or not matches or row.revoked_at is not None:
        raise _unauthenticated()
    return Principal(
        account_id=row.account_id,
        key_id=row.id,
        scopes=effective_scopes(Scope(s) for s in row.scopes),
        property_ids=frozenset(row.property_ids) if row.property_ids is not None else None,
    )


def create_api_key(
    session: Session,
    keyring: Keyring,
    clock: Clock,
    principal: Principal,
    name: str,
    scopes: list[Scope],
    property_ids: list[str] | None,
) -> IssuedKey:
    principal.require(Scope.ADMIN)
    if property_ids is not None:
        property_ids = sorted(set(property_ids))
        found = set(
            session.scalars(
                select(Property.id).where(Property.account_id == principal.account_id, Property.id.in_(property_ids))
            )
        )
        missing = [p for p in property_ids if p not in found]
        if missing:
            raise DomainError("validation_error", f"unknown property id {missing[0]!r}", "property_ids")
        if principal.property_ids is not None and not set(property_ids) <= principal.property_ids:
            raise DomainError("forbidden", "a key cannot grant properties it does not reach")
    elif principal.property_ids is not None:
        raise DomainError("forbidden", "a key limited to some properties cannot create an unlimited key")
    return _issue_key(session, keyring, clock, principal.account_id, name, scopes, property_ids, principal.key_id)


def list_api_keys(session: Session, principal: Principal, limit: int, cursor: str | None) -> Page[ApiKey]:
    principal.require(Scope.ADMIN)
    query = select(ApiKey).where(ApiKey.account_id == principal.account_id)
    return paginate(session, query, ApiKey.id, limit, cursor)


def revoke_api_key(session: Session, clock: Clock, principal: Principal, key_id: str) -> ApiKey:
    principal.require(Scope.ADMIN)
    row = session.get(ApiKey, (principal.account_id, key_id))
    if row is None:
        raise not_found("API key")
    if row.revoked_at is None:
        row.revoked_at = clock.now()
    return row
