"""API key scopes and what each one grants."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Scope(StrEnum):
    ADMIN = "admin"
    WRITE = "write"
    READ = "read"
    PINS = "pins"
    DOOR_PROVIDER = "door_provider"


# What holding a scope implies. `admin` is everything; writing implies reading; a key that
# may see or set PINs needs to read the stays they belong to.
_IMPLIES: dict[Scope, frozenset[Scope]] = {
    Scope.ADMIN: frozenset(Scope),
    Scope.WRITE: frozenset({Scope.WRITE, Scope.READ}),
    Scope.READ: frozenset({Scope.READ}),
    Scope.PINS: frozenset({Scope.PINS, Scope.READ}),
    Scope.DOOR_PROVIDER: frozenset({Scope.DOOR_PROVIDER, Scope.READ}),
}


def effective_scopes(granted: Iterable[Scope]) -> frozenset[Scope]:
    result: set[Scope] = set()
    for scope in granted:
        result |= _IMPLIES[scope]
    return frozenset(result)


def may_see_pins(granted: Iterable[Scope]) -> bool:
    """Keys without admin, pins or door_provider see PINs masked."""
    return bool(effective_scopes(granted) & {Scope.PINS, Scope.DOOR_PROVIDER})
