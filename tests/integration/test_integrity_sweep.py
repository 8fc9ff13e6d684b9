"""The integrity sweep: nothing found in a consistent world; a forced clash is the highest alert."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from doorpin.adapters.db.access_models import Alert, LockCode
from doorpin.bootstrap import AppServices
from doorpin.services.integrity import find_clashes, sweep, sweep_code_clashes
from tests.support.access import Building, building, stay
from tests.support.api import Tenant
from tests.support.clock import FakeClock
from tests.support.resources import ok


def _staff_code(tenant: Tenant, house: Building) -> str:
    body = {"property_id": house.id, "kind": "staff", "name": "Night porter", "lock_ids": [house.entrance["id"]]}
    code_id: str = ok(tenant.post("/v1/access-codes", body), 201)["id"]
    return code_id


def _entrance_claim(session: Session, house: Building, access_code_id: str) -> LockCode:
    return session.scalars(
        select(LockCode).where(LockCode.lock_id == house.entrance["id"], LockCode.access_code_id == access_code_id)
    ).one()


def test_a_consistent_world_has_no_clash(services: AppServices, tenant: Tenant) -> None:
    house = building(tenant)
    for day in range(10, 20):
        stay(tenant, house.id, house.unit_a["id"], f"2026-07-{day}", f"2026-07-{day + 2}")
        stay(tenant, house.id, house.unit_b["id"], f"2026-07-{day}", f"2026-07-{day + 1}")
    _staff_code(tenant, house)

    assert sweep_code_clashes(services) == 0
    assert ok(tenant.get("/v1/alerts?status=all"))["data"] == []


def test_a_forced_clash_raises_one_critical_alert(
    services: AppServices, tenant: Tenant, clock: FakeClock, backend: str
) -> None:
    house = building(tenant)
    guest = stay(tenant, house.id, house.unit_a["id"], "2026-06-01", "2026-06-05")
    staff_code_id = _staff_code(tenant, house)
    pin = ok(tenant.get(f"/v1/reservations/{guest['id']}"))["access"]["pin"]
    assert isinstance(pin, str)
    assert pin.isdigit()

    # The damage a bug or a hand edit could do: the staff code's claim given the guest's digits.
    # Done in one transaction that is rolled back, so PostgreSQL's constraint can be lifted for it.
    with Session(services.db.engine) as session, session.begin():
        guest_claim = session.scalars(
            select(LockCode).where(LockCode.lock_id == house.entrance["id"], LockCode.reservation_id == guest["id"])
        ).one()
        staff_claim = _entrance_claim(session, house, staff_code_id)
        forge = (
            update(LockCode).where(LockCode.id == staff_claim.id).values(code_fingerprint=guest_claim.code_fingerprint)
        )
        if backend == "postgresql":  # the database itself refuses it...
            with pytest.raises(IntegrityError), session.begin_nested():
                session.execute(forge)
            session.execute(text("ALTER TABLE lock_codes DROP CONSTRAINT ex_lock_codes_no_clash"))
        session.execute(forge)  # ...so only a damaged database can get here
        session.expire_all()

        clashes = find_clashes(session, clock.now())
        assert [(c.lock_id, {c.first_claim_id, c.second_claim_id}) for c in clashes] == [
            (house.entrance["id"], {guest_claim.id, staff_claim.id})
        ]
        assert sweep(session, clock.now()) == 1
        assert sweep(session, clock.now()) == 1  # found again: the same open alert, seen twice
        alerts = session.scalars(select(Alert)).all()
        assert [(a.kind, a.severity, a.subject_id, a.occurrences) for a in alerts] == [
            ("code_clash", "critical", house.entrance["id"], 2)
        ]
        assert pin not in alerts[0].message
        session.rollback()
