"""/v1/alerts: open alerts, closed by an operator (being built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["alerts"])
