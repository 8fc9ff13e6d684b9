"""/v1/webhooks: outgoing webhook subscriptions (being built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["webhooks"])
