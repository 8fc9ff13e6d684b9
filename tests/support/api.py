"""An in-process API client bound to one account, for integration tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from doorpin.bootstrap import AppServices
from doorpin.domain.scopes import Scope
from doorpin.services import accounts


@dataclass
class Tenant:
    """An account and a client holding its admin key."""

    account_id: str
    token: str
    client: TestClient

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, headers={**self.auth, **kwargs.pop("headers", {})}, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.client.post(path, json=json, headers={**self.auth, **kwargs.pop("headers", {})}, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.client.patch(path, json=json, headers={**self.auth, **kwargs.pop("headers", {})}, **kwargs)

    def put(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.client.put(path, json=json, headers={**self.auth, **kwargs.pop("headers", {})}, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.client.delete(path, headers={**self.auth, **kwargs.pop("headers", {})}, **kwargs)

    def key_with(self, *scopes: Scope, property_ids: list[str] | None = None) -> Tenant:
        """Another client of the same account holding a key with just these scopes."""
        body: dict[str, Any] = {"name": "test key", "scopes": [s.value for s in scopes]}
        if property_ids is not None:
            body["property_ids"] = property_ids
        response = self.post("/v1/api-keys", body)
        assert response.status_code == 201, response.text
        return Tenant(self.account_id, response.json()["api_key"], self.client)


def new_tenant(services: AppServices, client: TestClient, name: str = "acme") -> Tenant:
    with services.db.transaction() as session:
        account, issued = accounts.create_account(session, services.keyring, services.clock, name)
    return Tenant(account.id, issued.token, client)


def error_code(response: Any) -> str:
    body = response.json()
    assert set(body) == {"error"}, body
    return str(body["error"]["code"])
