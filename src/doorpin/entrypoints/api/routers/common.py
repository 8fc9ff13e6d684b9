"""Query parameters shared by list endpoints."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Query

from doorpin.services.pagination import DEFAULT_LIMIT, MAX_LIMIT


@dataclass(frozen=True)
class ListParams:
    limit: int
    cursor: str | None


def list_params(
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Page size (max 500)."),
    cursor: str | None = Query(None, max_length=200, description="next_cursor of the previous page."),
) -> ListParams:
    return ListParams(limit, cursor)
