"""Door providers push access events to a signed endpoint: admins make and revoke endpoints; a
push is believed only when signed with the endpoint's secret, fresh and never seen before; its
events reach only the endpoint's account's locks of that provider."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from doorpin.adapters.db.event_models import AccessEvent
from doorpin.adapters.signing import signature
from doorpin.bootstrap import AppServices
from doorpin.domain.scopes import Scope
from tests.support.access import Building, building
from tests.support.api import Tenant
from tests.support.clock import FakeClock
from tests.support.resources import assert_error, count_rows, create_lock, create_property, db_state, ok

DOCS = Path(__file__).resolve().parents[2] / "docs" / "access-events.md"


@pytest.fixture
def house(tenant: Tenant) -> Building:
    return building(tenant, timezone="UTC")


@pytest.fixture
def endpoint(tenant: Tenant) -> dict[str, Any]:
    created: dict[str, Any] = ok(tenant.post("/v1/provider-endpoints", {"provider": "keypad"}), 201)
    return created


class Pusher:
    def __init__(self, client: TestClient, clock: FakeClock, endpoint: dict[str, Any]) -> None:
        self.client, self.clock, self.endpoint = client, clock, endpoint

    def signed(self, body: Any, *, secret: str | None = None, at: datetime | None = None) -> tuple[bytes, str]:
        raw = json.dumps(body).encode()
        when = int((at or self.clock.now()).timestamp())
        return raw, signature(secret or self.endpoint["secret"], raw, when)

    def send(self, raw: bytes, header: str | None, endpoint_id: str | None = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if header is not None:
            headers["Doorpin-Signature"] = header
        return self.client.post(
            f"/v1/provider-events/{endpoint_id or self.endpoint['id']}", content=raw, headers=headers
        )

    def push(self, body: Any, **signing: Any) -> Any:
        return self.send(*self.signed(body, **signing))


@pytest.fixture
def pusher(client: TestClient, clock: FakeClock, endpoint: dict[str, Any]) -> Pusher:
    return Pusher(client, clock, endpoint)


def event(lock_id: str, event_id: str, at: datetime, result: str = "granted", **extra: Any) -> dict[str, Any]:
    return {"lock_id": lock_id, "id": event_id, "occurred_at": at.isoformat(), "result": result, **extra}


def stored(tenant: Tenant, services: AppServices) -> list[AccessEvent]:
    with services.db.reader() as session:
        query = select(AccessEvent).where(AccessEvent.account_id == tenant.account_id)
        return list(session.scalars(query.order_by(AccessEvent.occurred_at)))


def history(tenant: Tenant, reservation_id: str) -> list[Any]:
    data: list[Any] = ok(tenant.get(f"/v1/reservations/{reservation_id}/access-events"))["data"]
    return data


def test_an_admin_makes_an_endpoint_whose_secret_is_shown_once_and_kept_sealed(
    tenant: Tenant, endpoint: dict[str, Any], services: AppServices
) -> None:
    assert endpoint["id"].startswith("pep_")
    assert endpoint["provider"] == "keypad"
    assert endpoint["url"].endswith(f"/v1/provider-events/{endpoint['id']}")
    assert endpoint["secret"].startswith("dpps_")
    assert endpoint["revoked_at"] is None
    listed = ok(tenant.get("/v1/provider-endpoints"))["data"]
    assert [item["id"] for item in listed] == [endpoint["id"]]
    assert "secret" not in listed[0]
    assert endpoint["secret"] not in json.dumps(db_state(services))
    audit = ok(tenant.get("/v1/events?type=audit.provider_endpoint&limit=10"))["data"]
    assert [item["type"] for item in audit] == ["audit.provider_endpoint.created"]


def test_endpoints_are_for_whole_account_admins(
    tenant: Tenant, other_tenant: Tenant, endpoint: dict[str, Any], house: Building
) -> None:
    writer = tenant.key_with(Scope.WRITE)
    assert_error(writer.post("/v1/provider-endpoints", {"provider": "keypad"}), 403, "forbidden")
    assert_error(writer.get("/v1/provider-endpoints"), 403, "forbidden")
    limited = tenant.key_with(Scope.ADMIN, property_ids=[house.id])
    assert_error(limited.post("/v1/provider-endpoints", {"provider": "keypad"}), 403, "forbidden")
    assert_error(other_tenant.delete(f"/v1/provider-endpoints/{endpoint['id']}"), 404, "not_found")
    assert ok(other_tenant.get("/v1/provider-endpoints"))["data"] == []
    assert_error(
        tenant.post("/v1/provider-endpoints", {"provider": "smoke_signals"}), 422, "validation_error", "provider"
    )


def test_a_signed_push_is_stored_and_attributed(
    tenant: Tenant, house: Building, pusher: Pusher, clock: FakeClock, services: AppServices
) -> None:
    stay = ok(
        tenant.post(
            "/v1/reservations",
            {
                "property_id": house.id,
                "unit_id": house.unit_a["id"],
                "check_in": (clock.now() - timedelta(hours=1)).isoformat(),
                "check_out": (clock.now() + timedelta(days=2)).isoformat(),
            },
        ),
        201,
    )
    pin, door = stay["access"]["pin"], house.door_a["id"]
    at = clock.now() - timedelta(minutes=1)
    body = {
        "events": [
            event(door, "hub-1", at, pin=pin),
            {  # named by the provider's device id (a lock without one is known by doorpin's id)
                "device_id": house.entrance["id"],
                "id": "hub-2",
                "occurred_at": (at + timedelta(seconds=5)).isoformat(),
                "result": "denied",
                "pin": "000111",
                "reason": "unknown_code",
            },
        ]
    }
    answer = ok(pusher.push(body))
    assert answer == {"received": 2, "stored": 2, "duplicates": 0, "rejected": []}
    [entered] = history(tenant, stay["id"])
    assert (entered["source"], entered["attribution"], entered["lock_id"]) == ("provider_webhook", "in_window", door)
    assert entered["provider_event_id"] == "hub-1"
    rows = stored(tenant, services)
    assert [(row.lock_id, row.result, row.reason) for row in rows] == [
        (door, "granted", None),
        (house.entrance["id"], "denied", "unknown_code"),
    ]
    assert pin not in json.dumps(answer)
    # The provider sends the same events again in a new request: not a replay, but nothing new.
    assert ok(pusher.push(body, at=clock.now() + timedelta(seconds=1))) == {
        "received": 2,
        "stored": 0,
        "duplicates": 2,
        "rejected": [],
    }


def test_refused_pushes_are_401_and_say_why(
    tenant: Tenant, house: Building, pusher: Pusher, clock: FakeClock, services: AppServices
) -> None:
    body = {"events": [event(house.door_a["id"], "e-1", clock.now())]}
    raw, header = pusher.signed(body)

    forged = pusher.signed(body, secret="dpps_not-the-secret")[1]
    assert "match" in assert_error(pusher.send(raw, forged), 401, "unauthenticated")["message"]
    assert "missing" in assert_error(pusher.send(raw, None), 401, "unauthenticated")["message"]
    assert "t=" in assert_error(pusher.send(raw, "v1=abc"), 401, "unauthenticated")["message"]
    stale = pusher.signed(body, at=clock.now() - timedelta(seconds=301))[1]
    assert "old" in assert_error(pusher.send(raw, stale), 401, "unauthenticated")["message"]
    ahead = pusher.signed(body, at=clock.now() + timedelta(seconds=301))[1]
    assert "ahead" in assert_error(pusher.send(raw, ahead), 401, "unauthenticated")["message"]
    tampered = json.dumps({"events": [event(house.door_b["id"], "e-1", clock.now())]}).encode()
    assert_error(pusher.send(tampered, header), 401, "unauthenticated")
    assert_error(pusher.send(raw, header, endpoint_id="pep_01m88a1n1x0w9958qxsq71dp63"), 401, "unauthenticated")
    assert count_rows(services, "access_events") == 0
    assert count_rows(services, "push_receipts") == 0

    assert ok(pusher.send(raw, header))["stored"] == 1
    replay = assert_error(pusher.send(raw, header), 401, "unauthenticated")
    assert "replay" in replay["message"]
    assert count_rows(services, "access_events") == 1


def test_a_revoked_endpoint_answers_401(tenant: Tenant, house: Building, pusher: Pusher, clock: FakeClock) -> None:
    body = {"events": [event(house.door_a["id"], "e-1", clock.now())]}
    revoked = ok(tenant.delete(f"/v1/provider-endpoints/{pusher.endpoint['id']}"))
    assert revoked["revoked_at"] is not None
    assert ok(tenant.delete(f"/v1/provider-endpoints/{pusher.endpoint['id']}"))["revoked_at"] == revoked["revoked_at"]
    assert "revoked" in assert_error(pusher.push(body), 401, "unauthenticated")["message"]


def test_events_reach_only_the_endpoint_s_account_and_provider(
    tenant: Tenant, other_tenant: Tenant, house: Building, pusher: Pusher, clock: FakeClock, services: AppServices
) -> None:
    theirs = building(other_tenant, timezone="UTC")
    offline = create_lock(tenant, create_property(tenant, "Casa", door_provider="offline_pin")["id"], "Gate")
    now = clock.now()
    body = {
        "events": [
            event(theirs.door_a["id"], "x-1", now),
            event(offline["id"], "x-2", now),
            {"device_id": "no-such-device", "id": "x-3", "occurred_at": now.isoformat(), "result": "denied"},
            event(house.door_a["id"], "x-4", now),
        ]
    }
    answer = ok(pusher.push(body))
    assert (answer["received"], answer["stored"], answer["duplicates"]) == (4, 1, 0)
    assert [(item["index"], item["id"], item["code"]) for item in answer["rejected"]] == [
        (0, "x-1", "unknown_lock"),
        (1, "x-2", "unknown_lock"),
        (2, "x-3", "unknown_lock"),
    ]
    assert [row.provider_event_id for row in stored(tenant, services)] == ["x-4"]
    assert stored(other_tenant, services) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "events"),
        ({"events": [{"id": "e", "occurred_at": "2026-06-01T12:00:00Z", "result": "granted"}]}, "events.0"),
        (
            {"events": [{"lock_id": "lock_x", "id": "e", "occurred_at": "2026-06-01T12:00:00Z", "result": "open"}]},
            "events.0.result",
        ),
        (
            {"events": [{"lock_id": "lock_x", "id": "", "occurred_at": "2026-06-01T12:00:00Z", "result": "denied"}]},
            "events.0.id",
        ),
        (
            {"events": [{"lock_id": "lock_x", "id": "e", "occurred_at": "yesterday", "result": "denied"}]},
            "events.0.occurred_at",
        ),
        (
            {
                "events": [
                    {"lock_id": "lock_x", "id": "e", "occurred_at": "0001-01-01T00:00:00+01:00", "result": "denied"}
                ]
            },
            "events.0.occurred_at",
        ),
    ],
)
def test_a_signed_push_with_a_bad_body_is_422_and_stores_nothing(
    pusher: Pusher, services: AppServices, body: dict[str, Any], field: str
) -> None:
    error = assert_error(pusher.push(body), 422, "validation_error")
    assert error.get("field") == field
    assert count_rows(services, "access_events") == 0
    assert count_rows(services, "push_receipts") == 0


def test_old_receipts_are_pruned(house: Building, pusher: Pusher, clock: FakeClock, services: AppServices) -> None:
    for n in range(3):
        ok(pusher.push({"events": [event(house.door_a["id"], f"p-{n}", clock.now())]}))
        clock.advance(seconds=1)
    assert count_rows(services, "push_receipts") == 3
    clock.advance(minutes=20)
    ok(pusher.push({"events": []}))
    assert count_rows(services, "push_receipts") == 1


def test_the_signing_code_published_in_the_docs_is_accepted(
    house: Building, pusher: Pusher, clock: FakeClock, services: AppServices
) -> None:
    text = DOCS.read_text(encoding="utf-8")
    snippet = re.search(r"^```python\n(.*?)^```", text[text.index("<!-- sign-snippet") :], re.DOTALL | re.MULTILINE)
    assert snippet is not None
    namespace: dict[str, Any] = {}
    exec(compile(snippet.group(1), str(DOCS), "exec"), namespace)
    clock.set(datetime.now(UTC))  # the snippet signs with the real time
    body, headers = namespace["signed_request"](
        pusher.endpoint["secret"], [event(house.door_a["id"], "d-1", clock.now())]
    )
    answer = pusher.client.post(f"/v1/provider-events/{pusher.endpoint['id']}", content=body, headers=headers)
    assert ok(answer)["stored"] == 1
