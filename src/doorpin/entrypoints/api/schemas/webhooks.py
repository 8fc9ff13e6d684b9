"""Bodies of /v1/webhooks: subscriptions, and their delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from doorpin.domain.event_types import EVENT_TYPES
from doorpin.domain.webhooks import MAX_URL_LENGTH
from doorpin.entrypoints.api.schemas.common import StrictInput

EventPattern = Annotated[str, Field(min_length=1, max_length=64, examples=["reservation.pin_changed", "access.*"])]


class WebhookCreate(StrictInput):
    url: str = Field(
        min_length=1,
        max_length=MAX_URL_LENGTH,
        description="http:// or https://, no user name or password; redirects are not followed.",
        examples=["https://pms.example/hooks/doorpin"],
    )
    events: list[EventPattern] = Field(
        min_length=1,
        max_length=50,
        description=f"Event types ({', '.join(EVENT_TYPES)}), a family such as `access.*`, or `*`.",
    )
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=200,
        pattern=r"^[!-~]+$",
        description="Signs every delivery (printable ASCII, no spaces). Generated (whsec_…) when absent.",
    )
    description: str | None = Field(default=None, max_length=500, description="Your own note on this endpoint.")


class WebhookOut(BaseModel):
    id: str = Field(examples=["wh_01jd0000000000000000000000"])
    url: str
    description: str | None
    events: list[str]
    status: Literal["active", "disabled"] = Field(
        description="disabled: every delivery failed for too long; nothing is sent until it is enabled again."
    )
    created_at: datetime
    updated_at: datetime
    failing_since: datetime | None = Field(description="The first failed attempt since the last success.")
    disabled_at: datetime | None
    disabled_reason: str | None


class WebhookCreated(WebhookOut):
    secret: str = Field(description="Signs every delivery. Shown only in this response; doorpin keeps it encrypted.")


class WebhookAttemptOut(BaseModel):
    id: str
    attempted_at: datetime
    status_code: int | None = Field(description="The receiver's HTTP status; null when it did not answer.")
    error: str | None = Field(description="Why the attempt failed (at most 200 characters); null on a 2xx.")
    duration_ms: int


class WebhookDeliveryOut(BaseModel):
    id: str
    event_id: str = Field(description="The body's `id`: the same on every attempt.")
    event_type: str
    status: Literal["pending", "delivered", "canceled"]
    attempt_count: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    attempts: list[WebhookAttemptOut] = Field(description="Every attempt, oldest first.")
