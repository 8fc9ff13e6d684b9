"""Provider endpoints: where a door provider (or hub) pushes its access events, one secret each.

An admin creates one per provider; its secret is shown once, in the creation response, and kept
sealed (AES-GCM) for verifying signatures. Deleting an endpoint revokes it at once: pushes to it
answer 401 from then on. Endpoints tell of every property of the account, so keys limited to
some properties cannot manage them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorpin.adapters.db.event_models import ProviderEndpoint
from doorpin.adapters.locks import registry
from doorpin.adapters.pin_vault import PinVault
from doorpin.domain.errors import DomainError
from doorpin.domain.scopes import Scope
from doorpin.ids import new_id
from doorpin.services import audit
from doorpin.services.clock import Clock
from doorpin.services.pagination import Page, paginate
from doorpin.services.principal import Principal, not_found

SECRET_PREFIX = "dpps_"  # noqa: S105 - a public marker (doorpin push secret), not a secret


@dataclass(frozen=True)
class CreatedEndpoint:
    row: ProviderEndpoint
    secret: str  # shown once, in the creation response


def _authorize(principal: Principal) -> None:
    principal.require_whole_account(
        Scope.ADMIN, "a key limited to some properties cannot manage provider endpoints: they serve every property"
    )


def create_endpoint(
    session: Session, vault: PinVault, clock: Clock, principal: Principal, provider: str
) -> CreatedEndpoint:
    _authorize(principal)
    installed = sorted(registry.available())
    if provider not in installed:
        raise DomainError("validation_error", f"provider must be one of: {', '.join(installed)}", "provider")
    now = clock.now()
    endpoint_id = new_id("pep")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    row = ProviderEndpoint(
        account_id=principal.account_id,
        id=endpoint_id,
        provider=provider,
        secret_sealed=vault.seal(secret, principal.account_id, endpoint_id),
        created_at=now,
        revoked_at=None,
    )
    session.add(row)
    audit.record(
        session,
        account_id=principal.account_id,
        at=now,
        actor_key_id=principal.key_id,
        action="provider_endpoint.created",
        subject_type="provider_endpoint",
        subject_id=endpoint_id,
        details={"provider": provider},
    )
    session.flush()
    return CreatedEndpoint(row, secret)


def list_endpoints(session: Session, principal: Principal, limit: int, cursor: str | None) -> Page[ProviderEndpoint]:
    _authorize(principal)
    query = select(ProviderEndpoint).where(ProviderEndpoint.account_id == principal.account_id)
    return paginate(session, query, ProviderEndpoint.id, limit, cursor)


def revoke_endpoint(session: Session, clock: Clock, principal: Principal, endpoint_id: str) -> ProviderEndpoint:
    """Revoke at once; revoking a revoked endpoint changes nothing. The row stays for the audit trail."""
    _authorize(principal)
    row = session.get(ProviderEndpoint, (principal.account_id, endpoint_id), with_for_update=True)
    if row is None:
        raise not_found("provider endpoint")
    if row.revoked_at is None:
        now = clock.now()
        row.revoked_at = now
        audit.record(
            session,
            account_id=principal.account_id,
            at=now,
            actor_key_id=principal.key_id,
            action="provider_endpoint.revoked",
            subject_type="provider_endpoint",
            subject_id=endpoint_id,
            details={"provider": row.provider},
        )
    return row


def secret_of(vault: PinVault, row: ProviderEndpoint) -> str:
    return vault.open(row.secret_sealed, row.account_id, row.id)
