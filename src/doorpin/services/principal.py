"""Who is calling: the account and the scopes and properties their API key reaches."""

from __future__ import annotations

from dataclasses import dataclass

from doorpin.domain.errors import DomainError
from doorpin.domain.scopes import Scope, may_see_pins


@dataclass(frozen=True)
class Principal:
    account_id: str
    key_id: str
    scopes: frozenset[Scope]  # effective scopes, implications included
    property_ids: frozenset[str] | None  # None: every property of the account

    def require(self, scope: Scope) -> None:
        if scope not in self.scopes:
            raise DomainError("forbidden", f"this API key lacks the {scope.value!r} scope")

    def reaches(self, property_id: str) -> bool:
        return self.property_ids is None or property_id in self.property_ids

    def require_whole_account(self, scope: Scope, refusal: str) -> None:
        """`scope`, on a key that reaches every property: for things that serve the whole account
        (webhook subscriptions, provider endpoints). `refusal` says why a limited key may not."""
        self.require(scope)
        if self.property_ids is not None:
            raise DomainError("forbidden", refusal)

    @property
    def sees_pins(self) -> bool:
        return may_see_pins(self.scopes)


def not_found(kind: str, field: str | None = None) -> DomainError:
    return DomainError("not_found", f"no such {kind}", field)
