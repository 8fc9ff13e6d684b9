"""Signed push endpoints for door providers' access events (being built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["provider-events"])
