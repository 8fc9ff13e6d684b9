from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from doorpin.domain.scopes import Scope
from doorpin.entrypoints.api.schemas.common import Id, Name, StrictInput


class ApiKeyCreate(StrictInput):
    name: Name
    scopes: list[Scope] = Field(min_length=1, max_length=5)
    property_ids: list[Id] | None = Field(default=None, min_length=1, max_length=500)


class ApiKeyOut(BaseModel):
    id: str
    name: str
    scopes: list[Scope]
    property_ids: list[str] | None
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    api_key: str = Field(description="The secret. Shown only in this response; doorpin stores only a hash.")
