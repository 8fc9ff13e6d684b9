"""GET /v1/reservations/{id}/access-events (being built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["access-events"])
