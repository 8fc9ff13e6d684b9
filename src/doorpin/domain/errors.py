"""Errors the domain raises; each carries a stable code that the API maps to a status."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(eq=False)
class DomainError(Exception):
    code: str
    message: str
    field: str | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
