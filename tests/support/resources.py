"""Helpers for API integration tests: create resources, check error bodies, snapshot the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, text

from doorpin.bootstrap import AppServices
from tests.support.api import Tenant

ERROR_KEYS = {"code", "message", "field"}


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """The response is `status` with exactly `{"error": {"code", "message"[, "field"]}}` and this code."""
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text, response.text
    assert 'File "' not in response.text, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert {"code", "message"} <= set(error) <= ERROR_KEYS, error
    assert error["code"] == code, error
    assert isinstance(error["message"], str), error
    assert error["message"], error
    if "field" in error:
        assert isinstance(error["field"], str), error
        assert error["field"], error
    if field is not None:
        assert error.get("field") == field, error
    return dict(error)


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def create_property(tenant: Tenant, name: str = "Alfama", timezone: str = "Europe/Lisbon", **extra: Any) -> Any:
    return ok(tenant.post("/v1/properties", {"name": name, "timezone": timezone, **extra}), 201)


def create_lock(tenant: Tenant, property_id: str, name: str = "Front door", **extra: Any) -> Any:
    return ok(tenant.post(f"/v1/properties/{property_id}/locks", {"name": name, **extra}), 201)


def create_unit(tenant: Tenant, property_id: str, name: str = "Room 1", **extra: Any) -> Any:
    return ok(tenant.post(f"/v1/properties/{property_id}/units", {"name": name, **extra}), 201)


def create_reservation(
    tenant: Tenant,
    property_id: str,
    check_in: str = "2026-07-10",
    check_out: str = "2026-07-12",
    **extra: Any,
) -> Any:
    body = {"property_id": property_id, "check_in": check_in, "check_out": check_out, **extra}
    return ok(tenant.post("/v1/reservations", body), 201)


def walk(tenant: Tenant, path: str, limit: int) -> list[Any]:
    """Every item of a list endpoint, following next_cursor page by page."""
    items: list[Any] = []
    cursor: str | None = None
    separator = "&" if "?" in path else "?"
    for _ in range(1000):
        url = f"{path}{separator}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        page = ok(tenant.get(url))
        assert set(page) == {"data", "next_cursor"}, page
        assert len(page["data"]) <= limit
        items.extend(page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
        assert page["data"], "a page with a next_cursor must not be empty"
    raise AssertionError("pagination did not end")


def db_state(services: AppServices) -> dict[str, list[str]]:
    """Every row of every table (as sorted reprs): compare two snapshots to prove nothing was written."""
    engine = services.db.engine
    tables = sorted(t for t in inspect(engine).get_table_names() if t != "alembic_version")
    state: dict[str, list[str]] = {}
    with engine.connect() as connection:
        for table in tables:
            rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
            state[table] = sorted(repr(tuple(row)) for row in rows)
    return state


def count_rows(services: AppServices, table: str) -> int:
    assert table.isidentifier()
    with services.db.engine.connect() as connection:
        return int(connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one())
