"""Shapes shared by every endpoint: the error envelope, list pages, input types."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

T = TypeVar("T")


class StrictInput(BaseModel):
    """Request bodies refuse unknown fields: a typo must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class ErrorDetail(BaseModel):
    code: str = Field(examples=["pin_invalid_format"])
    message: str
    field: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class Page(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None


# Far enough inside datetime's 1-9999 that moving an instant between zones never overflows.
_WHEN_YEARS = range(1970, 9000)


def _parse_when(value: Any) -> date | datetime:
    # Only ISO 8601 strings: pydantic would otherwise read a number as a Unix timestamp.
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 date or datetime string, e.g. 2026-10-25 or 2026-10-25T15:00:00+01:00")
    text = value.strip()
    parsed = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    if parsed.year not in _WHEN_YEARS:
        raise ValueError(f"the year must be between {_WHEN_YEARS.start} and {_WHEN_YEARS.stop - 1}")
    return parsed


# A property-local date (combined with the check-in/out time), a naive local datetime, or an
# aware datetime (API.md, "Conventions").
When = Annotated[
    date | datetime,
    BeforeValidator(_parse_when),
    WithJsonSchema(
        {
            "type": "string",
            "description": "A property-local date (2026-10-25), a naive local datetime, or a datetime with offset.",
            "examples": ["2026-10-25", "2026-10-25T15:00:00+01:00"],
        }
    ),
]

Name = Annotated[str, Field(min_length=1, max_length=200)]
Id = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z]+_[0-9a-z]+$")]

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "Malformed request (invalid_json)",
        401: "Missing or invalid API key (unauthenticated)",
        403: "The key lacks a scope (forbidden)",
        404: "No such resource in this account (not_found)",
        409: "Conflict with the current state",
        413: "Request body too large (payload_too_large)",
        422: "Invalid input",
        429: "Too many requests (rate_limited)",
        503: "A lock or its hub did not answer (lock_unreachable)",
    }.items()
}
