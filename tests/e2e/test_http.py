"""The served HTTP surface: operations endpoints, OpenAPI, request ids, errors and logs."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.server import LiveServer, fresh_database, running_server, secret_key_for

pytestmark = pytest.mark.e2e

SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
RAW_ID = re.compile(r"\b(acct|key|prop|unit|lock|res|ac|evt)_[0-9a-z]{8,}")

# API.md's table, as (method, path template) with every path parameter written `{}`.
CONTRACT_OPERATIONS = {
    ("post", "/v1/api-keys"),
    ("get", "/v1/api-keys"),
    ("delete", "/v1/api-keys/{}"),
    ("post", "/v1/properties"),
    ("get", "/v1/properties"),
    ("get", "/v1/properties/{}"),
    ("patch", "/v1/properties/{}"),
    ("post", "/v1/properties/{}/units"),
    ("get", "/v1/properties/{}/units"),
    ("post", "/v1/properties/{}/locks"),
    ("get", "/v1/properties/{}/locks"),
    ("get", "/v1/units/{}"),
    ("patch", "/v1/units/{}"),
    ("get", "/v1/locks/{}"),
    ("patch", "/v1/locks/{}"),
    ("post", "/v1/reservations"),
    ("get", "/v1/reservations"),
    ("get", "/v1/reservations/{}"),
    ("patch", "/v1/reservations/{}"),
}


def _stay(server: LiveServer) -> dict[str, Any]:
    prop = server.request("POST", "/v1/properties", json={"name": "Metrics", "timezone": "Europe/Lisbon"}).json()
    stay = server.request(
        "POST",
        "/v1/reservations",
        json={"property_id": prop["id"], "check_in": "2026-10-24", "check_out": "2026-10-26"},
    )
    assert stay.status_code == 201, stay.text
    return dict(stay.json())


def test_liveness_and_readiness(live_server: LiveServer) -> None:
    health = live_server.http.get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    ready = live_server.http.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ok"


def test_openapi_document_lists_every_v1_operation_of_the_contract(live_server: LiveServer) -> None:
    response = live_server.http.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    document = response.json()
    assert document["openapi"].startswith("3.")
    served = {
        (method, re.sub(r"\{[^}]+\}", "{}", path))
        for path, operations in document["paths"].items()
        for method in operations
    }
    missing = sorted(CONTRACT_OPERATIONS - served)
    assert not missing, f"API.md operations missing from /openapi.json: {missing}"
    filters = {p["name"] for p in document["paths"]["/v1/reservations"]["get"]["parameters"]}
    assert {"property_id", "status", "unit_id", "arriving_on", "external_ref", "limit", "cursor"} <= filters


def test_docs_page_is_html(live_server: LiveServer) -> None:
    response = live_server.http.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text.lower()
    assert "/openapi.json" in response.text


def test_metrics_are_prometheus_text_labelled_by_route_template(live_server: LiveServer) -> None:
    stay = _stay(live_server)
    assert live_server.request("GET", f"/v1/reservations/{stay['id']}").status_code == 200
    assert live_server.request("GET", "/v1/reservations/res_0000000000000000000000000").status_code == 404
    assert live_server.http.get(f"/v1/no-such-thing/{stay['id']}").status_code == 404
    as_curl_sends_it = {"Content-Type": "application/x-www-form-urlencoded"}  # curl -d '{"...": ...}'
    patched = live_server.request(
        "PATCH", f"/v1/reservations/{stay['id']}", content=b'{"status": "IN_HOUSE"}', headers=as_curl_sends_it
    )
    assert patched.status_code == 200, patched.text

    response = live_server.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    metrics = response.text
    assert "# TYPE doorpin_http_requests_total counter" in metrics
    routes = set(re.findall(r'doorpin_http_requests_total\{[^}]*route="([^"]*)"', metrics))
    assert "/v1/reservations/{reservation_id}" in routes
    assert "/v1/reservations" in routes
    # A body sent as a form (curl -d) is read as JSON; it is still counted under its route.
    assert re.search(r'method="PATCH",route="/v1/reservations/\{reservation_id\}",status="200"', metrics), metrics
    for route in routes:
        assert route == "unmatched" or route.startswith("/"), route
        assert not RAW_ID.search(route), f"a raw id in a metric label: {route}"
    assert stay["id"] not in metrics


REQUESTS = [
    ("GET", "/healthz", {}),
    ("GET", "/readyz", {}),
    ("GET", "/metrics", {}),
    ("GET", "/openapi.json", {}),
    ("GET", "/docs", {}),
    ("GET", "/v1/properties", {}),  # 401: no key
    ("GET", "/v1/nowhere", {}),  # 404
    ("DELETE", "/v1/properties", {}),  # 405
    ("POST", "/v1/properties", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}),  # 400
    ("POST", "/v1/properties", {"content": b"x" * (1024 * 1024 + 1)}),  # 413
]


@pytest.mark.parametrize(("method", "path", "extra"), REQUESTS, ids=[f"{m} {p}" for m, p, _ in REQUESTS])
def test_every_response_carries_a_request_id(
    live_server: LiveServer, method: str, path: str, extra: dict[str, Any]
) -> None:
    response = live_server.http.request(method, path, **extra)
    assert SANE_REQUEST_ID.match(response.headers.get("x-request-id", "")), response.headers
    echoed = live_server.http.request(
        method, path, **{**extra, "headers": {**extra.get("headers", {}), "X-Request-ID": "pms-42.retry_1"}}
    )
    assert echoed.headers["x-request-id"] == "pms-42.retry_1"
    assert echoed.status_code == response.status_code


@pytest.mark.parametrize("incoming", ["has spaces", "x" * 65, "semi;colon", "é-accent", ""])
def test_an_insane_incoming_request_id_is_replaced(live_server: LiveServer, incoming: str) -> None:
    response = live_server.http.get("/healthz", headers={"X-Request-ID": incoming.encode()})
    request_id = response.headers["x-request-id"]
    assert request_id != incoming
    assert SANE_REQUEST_ID.match(request_id)
    assert live_server.http.get("/healthz").headers["x-request-id"] != request_id


def _log_records(server: LiveServer, wanted: str, timeout: float = 5.0) -> list[dict[str, Any]]:
    """Every JSON log line once one carries `wanted` as its request id (the line follows the response)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in server.log_text().splitlines() if line.strip()]
        records = []
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                pytest.fail(f"a log line that is not JSON: {line!r}")
            assert isinstance(record, dict), line
            records.append(record)
        if any(r.get("request_id") == wanted for r in records) or time.monotonic() > deadline:
            return records
        time.sleep(0.05)


def test_json_logs_are_one_object_per_line_with_request_ids_and_no_credentials(live_server: LiveServer) -> None:
    request_id = f"e2e-log-{time.monotonic_ns()}"
    response = live_server.request("GET", "/v1/properties", headers={"X-Request-ID": request_id})
    assert response.status_code == 200
    refused = live_server.request(
        "GET", "/v1/properties", headers={"X-Request-ID": request_id + "-x", "Authorization": "Bearer dpk_key_0_wrong"}
    )
    assert refused.status_code == 401

    records = _log_records(live_server, request_id + "-x")
    for record in records:
        assert {"ts", "level", "logger", "message", "request_id"} <= set(record), record
    mine = [r for r in records if r["request_id"] == request_id]
    assert mine, f"no log line with request id {request_id}"
    assert any(r.get("route") == "/v1/properties" and r.get("status") == 200 for r in mine), mine
    log = live_server.log_text()
    assert live_server.admin_key not in log
    assert live_server.admin_key.rsplit("_", 1)[-1] not in log
    assert "dpk_key_0_wrong" not in log
    assert "Bearer" not in log


def test_a_500_carries_a_request_id_and_no_traceback(backend: str, tmp_path: Path) -> None:
    with (
        fresh_database(backend, tmp_path) as url,
        running_server(backend, url, tmp_path, secret_key=secret_key_for(backend)) as server,
    ):
        stay = _stay(server)
        # Break the database under the running server: the table of stays disappears.
        engine = create_engine(url)
        try:
            with engine.begin() as connection:
                connection.execute(text("ALTER TABLE reservations RENAME TO reservations_gone"))
        finally:
            engine.dispose()

        response = server.request("GET", f"/v1/reservations/{stay['id']}", headers={"X-Request-ID": "e2e-boom-1"})
        assert response.status_code == 500, response.text
        assert response.headers["x-request-id"] == "e2e-boom-1"
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        assert set(body) == {"error"}, body
        assert body["error"]["code"] == "internal_error", body
        for leak in ("Traceback", 'File "', "sqlalchemy", "sqlite", "psycopg", "reservations", "SELECT"):
            assert leak.lower() not in response.text.lower(), response.text
        assert server.http.get("/healthz").status_code == 200

        deadline = time.monotonic() + 5
        while "unhandled error" not in server.log_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        log = server.log_text()
        error_lines = [line for line in log.splitlines() if "unhandled error" in line]
        assert error_lines, log
        # The operator finds the details by the id the client saw, under the route template.
        assert "[e2e-boom-1]" in error_lines[0], error_lines
        assert "/v1/reservations/{reservation_id}" in error_lines[0], error_lines
        assert stay["id"] not in error_lines[0]
        assert "Traceback" in log
    assert server.process.returncode == 0, f"serve did not stop cleanly on SIGTERM:\n{server.log_text()}"


def test_unknown_paths_and_methods_answer_with_the_error_envelope(live_server: LiveServer) -> None:
    for response, code in (
        (live_server.http.get("/v1/nowhere"), "not_found"),
        (live_server.http.delete("/v1/properties"), "method_not_allowed"),
        (live_server.http.get("/v1/properties"), "unauthenticated"),
        (
            live_server.request("POST", "/v1/properties", content=b"{", headers={"Content-Type": "application/json"}),
            "invalid_json",
        ),
    ):
        assert response.headers["content-type"].startswith("application/json"), response.headers
        assert response.json()["error"]["code"] == code, response.text
