"""Racing requests: each thread has its own client on the same app and database, released together."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from doorpin.bootstrap import AppServices
from tests.support.api import Tenant
from tests.support.resources import count_rows, create_property, create_unit, ok

ROUNDS = 4


def race(tenant: Tenant, calls: list[Callable[[TestClient], Any]]) -> list[Any]:
    """Run each call on its own thread and client, all released by one barrier; their responses."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            with TestClient(tenant.client.app, raise_server_exceptions=False) as client:
                barrier.wait(timeout=30)
                results[index] = calls[index](client)
        except BaseException as exc:  # surfaced below, on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a racing request hung"
    assert not errors, errors
    return results


def _post(tenant: Tenant, path: str, body: Any, key: str | None = None) -> Callable[[TestClient], Any]:
    headers = {**tenant.auth, **({"Idempotency-Key": key} if key else {})}
    return lambda client: client.post(path, json=body, headers=headers)


@pytest.fixture
def prop(tenant: Tenant) -> Any:
    return create_property(tenant, "Race Court", timezone="Europe/Berlin")


@pytest.mark.parametrize("with_unit", [False, True], ids=["no-unit", "unit"])
def test_twin_posts_with_one_idempotency_key_create_one_stay(
    tenant: Tenant, services: AppServices, prop: Any, with_unit: bool
) -> None:
    unit = create_unit(tenant, prop["id"]) if with_unit else None
    for round_ in range(ROUNDS):
        body = {"property_id": prop["id"], "check_in": f"2026-07-{10 + round_}", "check_out": f"2026-07-{20 + round_}"}
        if unit is not None:
            body["unit_id"] = unit["id"]
        twins = race(tenant, [_post(tenant, "/v1/reservations", body, key=f"twin-{round_}")] * 3)
        assert [r.status_code for r in twins] == [201, 201, 201], [r.text for r in twins]
        assert twins[0].json() == twins[1].json() == twins[2].json()
        assert count_rows(services, "reservations") == round_ + 1
    assert count_rows(services, "idempotency_records") == ROUNDS
    assert len(ok(tenant.get(f"/v1/reservations?property_id={prop['id']}"))["data"]) == ROUNDS


def test_twin_posts_with_one_key_and_different_bodies(tenant: Tenant, services: AppServices, prop: Any) -> None:
    for round_ in range(ROUNDS):
        bodies = [
            {"property_id": prop["id"], "check_in": "2026-07-10", "check_out": f"2026-07-{12 + i}"} for i in range(2)
        ]
        answers = race(tenant, [_post(tenant, "/v1/reservations", b, key=f"mixed-{round_}") for b in bodies])
        statuses = sorted(r.status_code for r in answers)
        assert statuses == [201, 409], [r.text for r in answers]
        loser = next(r for r in answers if r.status_code == 409)
        assert loser.json()["error"]["code"] == "idempotency_key_reused"
        assert count_rows(services, "reservations") == round_ + 1


@pytest.mark.parametrize("keys", [False, True], ids=["no-keys", "different-keys"])
def test_twin_posts_with_one_external_ref_store_one_stay(
    tenant: Tenant, services: AppServices, prop: Any, keys: bool
) -> None:
    for round_ in range(ROUNDS):
        body = {
            "property_id": prop["id"],
            "external_ref": f"PMS-{round_}",
            "check_in": "2026-07-10",
            "check_out": "2026-07-12",
        }
        calls = [_post(tenant, "/v1/reservations", body, key=f"ref-{round_}-{i}" if keys else None) for i in range(2)]
        answers = race(tenant, calls)
        assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
        loser = next(r for r in answers if r.status_code == 409)
        assert loser.json()["error"] == {
            "code": "duplicate_external_ref",
            "message": loser.json()["error"]["message"],
            "field": "external_ref",
        }
        assert count_rows(services, "reservations") == round_ + 1
        matches = ok(tenant.get(f"/v1/reservations?external_ref=PMS-{round_}"))["data"]
        assert len(matches) == 1
    # Only the winners' answers are remembered; the losers' keys stay free.
    assert count_rows(services, "idempotency_records") == (ROUNDS if keys else 0)


def test_parallel_creations_of_different_things_all_succeed(tenant: Tenant, services: AppServices, prop: Any) -> None:
    calls = [
        _post(
            tenant, "/v1/reservations", {"property_id": prop["id"], "check_in": "2026-07-10", "check_out": "2026-07-12"}
        )
        for _ in range(4)
    ] + [_post(tenant, f"/v1/properties/{prop['id']}/units", {"name": f"U{i}"}) for i in range(2)]
    answers = race(tenant, calls)
    assert [r.status_code for r in answers] == [201] * 6, [r.text for r in answers]
    assert count_rows(services, "reservations") == 4
    assert count_rows(services, "units") == 2
