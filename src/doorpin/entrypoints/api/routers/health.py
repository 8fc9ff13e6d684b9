"""Liveness, readiness and metrics."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text

from doorpin.adapters.db import migrate
from doorpin.bootstrap import AppServices
from doorpin.entrypoints.api.context import services

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    detail: str | None = None


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
def readyz(app: AppServices = Depends(services)) -> Response:
    """The database answers and its schema is the one this code expects."""
    try:
        with app.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = migrate.is_current(app.db.engine)
    except Exception:  # any database failure means "not ready", never a 500
        return JSONResponse(
            Health(status="unavailable", detail="database unreachable").model_dump(),
            status_code=503,
        )
    if not current:
        return JSONResponse(
            Health(status="unavailable", detail="schema out of date: run `doorpin db upgrade`").model_dump(),
            status_code=503,
        )
    return JSONResponse(Health(status="ok").model_dump())


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics() -> Response:
    """Prometheus text format."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
