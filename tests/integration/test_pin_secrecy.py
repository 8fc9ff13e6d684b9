"""PINs at rest: never in clear in the database, its WAL, stored API answers or the audit trail.

The PINs here are 8 digits long: a random 8-digit string turning up by chance inside the hex of
a hash or the base64 of a ciphertext is too unlikely to make these tests flaky.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import JSON, String, Text, inspect, text

from doorpin.bootstrap import AppServices
from tests.support.access import building, pin_of, put_pin, stay
from tests.support.api import Tenant
from tests.support.resources import count_rows, ok

EIGHT = {"code_policy": {"length": 8}}
CUSTOM_STAY_PIN = "58204716"
CUSTOM_UNIT_PIN = "69315827"
CUSTOM_CODE_PIN = "47162093"
IDEMPOTENT_PIN = "83057261"
MARKER = "Zebulon Quartermaine"  # stored in clear: proves the searches below look where the data is


def populate(tenant: Tenant) -> set[str]:
    """Stays, unit PINs and codes of every origin; every PIN that ever existed, as read by admin."""
    pins: set[str] = set()
    house = building(tenant, **EIGHT)
    first = stay(tenant, house.id, house.unit_a["id"])
    second = stay(tenant, house.id, house.unit_b["id"])
    pins |= {pin_of(tenant, first["id"]) or "", pin_of(tenant, second["id"]) or ""}
    pins.add(ok(put_pin(tenant, first["id"], "******"))["access"]["pin"])  # the replaced one is in pins already
    ok(put_pin(tenant, second["id"], CUSTOM_STAY_PIN))
    headers = {"Idempotency-Key": "put-pin-1"}
    path = f"/v1/reservations/{first['id']}/pin"
    ok(tenant.put(path, {"pin": IDEMPOTENT_PIN}, headers=headers))
    replayed = tenant.put(path, {"pin": IDEMPOTENT_PIN}, headers=headers)
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    assert replayed.json()["access"]["pin"] == IDEMPOTENT_PIN

    body = {
        "property_id": house.id,
        "unit_id": house.unit_b["id"],
        "check_in": "2026-08-01",
        "check_out": "2026-08-03",
        "guest": {"name": MARKER},
    }
    created = ok(tenant.post("/v1/reservations", body, headers={"Idempotency-Key": "post-stay-1"}), 201)
    pins.add(created["access"]["pin"])

    shared = building(tenant, code_policy={"length": 8, "pin_scope": "unit"})
    unit_stays = [stay(tenant, shared.id, shared.unit_a["id"]) for _ in range(2)]
    pins.add(pin_of(tenant, unit_stays[0]["id"]) or "")
    ok(put_pin(tenant, unit_stays[1]["id"], CUSTOM_UNIT_PIN))
    ok(tenant.patch(f"/v1/reservations/{unit_stays[0]['id']}", {"status": "CANCELED"}))

    code_body = {"property_id": house.id, "kind": "staff", "name": "Staff", "unit_ids": [house.unit_a["id"]]}
    pins.add(ok(tenant.post("/v1/access-codes", code_body), 201)["pin"])
    custom = {**code_body, "kind": "backup", "pin": CUSTOM_CODE_PIN}
    ok(tenant.post("/v1/access-codes", custom, headers={"Idempotency-Key": "post-code-1"}), 201)
    rotating = ok(tenant.post("/v1/access-codes", {**code_body, "rotate_every_days": 1}), 201)
    pins.add(rotating["pin"])
    ok(tenant.delete(f"/v1/access-codes/{rotating['id']}"))

    pins |= {CUSTOM_STAY_PIN, CUSTOM_UNIT_PIN, CUSTOM_CODE_PIN, IDEMPOTENT_PIN}
    assert all(len(pin) == 8 and pin.isdigit() for pin in pins), pins
    assert ok(tenant.get("/v1/events?type=audit.pin.revealed"))["data"]
    return pins


def text_columns(services: AppServices) -> dict[str, list[str]]:
    """Per table, the columns holding text or JSON (binary ciphertexts are checked as file bytes)."""
    inspector = inspect(services.db.engine)
    found: dict[str, list[str]] = {}
    for table in inspector.get_table_names():
        if table == "alembic_version":
            continue
        found[table] = [c["name"] for c in inspector.get_columns(table) if isinstance(c["type"], String | Text | JSON)]
    return found


def test_no_text_column_of_any_table_holds_a_pin(tenant: Tenant, services: AppServices) -> None:
    pins = populate(tenant)
    columns = text_columns(services)
    for table in ("access_codes", "lock_codes", "audit_events", "idempotency_records", "reservations"):
        assert columns.get(table), table
        assert count_rows(services, table) > 0, table
    hits = []
    with services.db.engine.connect() as connection:
        for table, names in columns.items():
            for column in names:
                for pin in [*pins, MARKER]:
                    query = text(f'SELECT count(*) FROM "{table}" WHERE CAST("{column}" AS TEXT) LIKE :pattern')
                    if connection.execute(query, {"pattern": f"%{pin}%"}).scalar_one():
                        hits.append((table, column))
    assert hits == [("reservations", "guest_name")]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_sqlite_files_never_hold_a_pin(tenant: Tenant, services: AppServices, backend: str) -> None:
    pins = populate(tenant)
    database = services.db.engine.url.database
    assert database is not None
    main = Path(database)
    files = [main, *(main.with_name(main.name + suffix) for suffix in ("-wal", "-journal"))]
    contents = {path.name: path.read_bytes() for path in files if path.exists()}
    assert contents[main.name]
    assert contents.get(main.name + "-wal") is not None
    assert any(MARKER.encode() in data for data in contents.values())
    for name, data in contents.items():
        for pin in pins:
            assert pin.encode() not in data, f"a PIN is in {name}"
            assert pin.encode("utf-16-le") not in data, f"a PIN is in {name} (UTF-16)"


def test_idempotency_records_do_not_give_pins_away_to_a_dictionary_attack(
    tenant: Tenant, services: AppServices
) -> None:
    """A stored request fingerprint must be keyed: an unkeyed hash of a request with an 8-digit PIN
    in it is recovered by hashing candidates, so it would be the PIN in all but name."""
    house = building(tenant, **EIGHT)
    res = stay(tenant, house.id, house.unit_a["id"])
    path = f"/v1/reservations/{res['id']}/pin"
    ok(tenant.put(path, {"pin": IDEMPOTENT_PIN}, headers={"Idempotency-Key": "guess-me"}))
    with services.db.engine.connect() as connection:
        stored = connection.execute(
            text("SELECT request_fingerprint, response_body FROM idempotency_records WHERE key = 'guess-me'")
        ).one()
    candidates = []
    for payload in ({"pin": IDEMPOTENT_PIN}, IDEMPOTENT_PIN):
        for form in (
            json.dumps(["PUT", path, payload], sort_keys=True, separators=(",", ":")),
            json.dumps(["PUT", path, payload], sort_keys=True),
            json.dumps(payload, sort_keys=True, separators=(",", ":")),
            IDEMPOTENT_PIN,
        ):
            candidates += [hashlib.sha256(form.encode()).hexdigest(), hashlib.md5(form.encode()).hexdigest()]
    assert stored.request_fingerprint not in candidates
    assert IDEMPOTENT_PIN not in stored.response_body
