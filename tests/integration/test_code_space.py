"""Code space: a lock never holds so many live codes that a random guess gets likely.

With 4-digit codes and the default limit (a guess may succeed with probability at most 1/100),
one door takes 100 overlapping codes. The 101st stay is still stored, says why it has no PIN,
and gets one as soon as room is made.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from doorpin.adapters.db.access_models import Alert
from doorpin.adapters.db.delivery_models import Delivery
from doorpin.bootstrap import AppServices
from doorpin.domain.clash import max_active_codes
from doorpin.domain.code_policy import CodePolicy
from doorpin.domain.scopes import Scope, effective_scopes
from doorpin.services import reservations
from doorpin.services.principal import Principal
from doorpin.services.waiting_stays import retry_waiting_stays
from tests.support.access import access_of, put_pin, stay
from tests.support.api import Tenant
from tests.support.clock import FakeClock
from tests.support.resources import assert_error, create_lock, create_property, create_unit, ok

LIMIT = 100
CHECK_IN, CHECK_OUT = "2026-06-01", "2026-06-05"  # 15:00 / 11:00 in Berlin
INSIDE = datetime(2026, 6, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def full_house(tenant: Tenant, services: AppServices) -> dict[str, Any]:
    """A 4-digit property whose only door (the entrance) holds LIMIT overlapping stays."""
    assert max_active_codes(4, CodePolicy()) == LIMIT
    prop = create_property(tenant, "Hostel", timezone="Europe/Berlin", code_policy={"length": 4})
    entrance = create_lock(tenant, prop["id"], "Entrance")
    unit = create_unit(tenant, prop["id"], "Dorm")  # no door of its own: the entrance is everything
    admin = Principal(tenant.account_id, "key_test", effective_scopes([Scope.ADMIN]), None)
    data = {"property_id": prop["id"], "unit_id": unit["id"]}
    ids = []
    with services.db.transaction() as session:
        for _ in range(LIMIT):
            row = reservations.create_reservation(
                session,
                services.clock,
                services.vault,
                admin,
                {**data, "check_in": date.fromisoformat(CHECK_IN), "check_out": date.fromisoformat(CHECK_OUT)},
            )
            assert row.access_error_code is None
            ids.append(row.id)
    return {"property": prop, "entrance": entrance, "unit": unit, "stay_ids": ids}


def code_space(tenant: Tenant, lock_id: str) -> Any:
    return ok(tenant.get(f"/v1/locks/{lock_id}"))["code_space"]


def exhausted(access: Any) -> None:
    assert access["pin"] is None
    assert access["state"] == "pending"
    assert access["error"]["code"] == "code_space_exhausted"
    assert "longer codes" in access["error"]["message"]


def test_the_stay_beyond_the_limit_is_stored_says_why_and_cannot_be_given_a_pin(
    tenant: Tenant, services: AppServices, full_house: dict[str, Any]
) -> None:
    prop, unit = full_house["property"], full_house["unit"]
    pins = {access_of(tenant, rid)["pin"] for rid in full_house["stay_ids"][:10]}
    assert len(pins) == 10
    assert all(p is not None and len(p) == 4 for p in pins)
    extra = stay(tenant, prop["id"], unit["id"], CHECK_IN, CHECK_OUT, external_ref="PMS-101")
    exhausted(extra["access"])
    exhausted(access_of(tenant, extra["id"]))
    listed = ok(tenant.get(f"/v1/reservations?property_id={prop['id']}&external_ref=PMS-101"))["data"]
    assert [r["id"] for r in listed] == [extra["id"]]
    with services.db.reader() as session:
        alerts = session.scalars(select(Alert).where(Alert.subject_id == extra["id"])).all()
    assert [(a.kind, a.closed_at) for a in alerts] == [("code_space_exhausted", None)]
    # PUT …/pin cannot squeeze one more 4-digit code onto the full door either.
    for pin in ("7391", "******"):
        error = assert_error(put_pin(tenant, extra["id"], pin), 409, "code_space_exhausted")
        assert pin not in error["message"]
    exhausted(access_of(tenant, extra["id"]))
    # Longer codes are the way out: one 6-digit code barely moves a 6-digit guess's odds.
    access = ok(put_pin(tenant, extra["id"], "739164"))["access"]
    assert (access["pin"], access["error"]) == ("739164", None)
    with services.db.reader() as session:
        alert = session.scalars(select(Alert).where(Alert.subject_id == extra["id"])).one()
    assert alert.closed_at is not None  # the stay has its PIN: nothing left for a person to do


def test_a_stay_holding_a_code_may_change_it_on_a_full_lock(tenant: Tenant, full_house: dict[str, Any]) -> None:
    holder = full_house["stay_ids"][0]
    old = access_of(tenant, holder)["pin"]
    assert ok(put_pin(tenant, holder, "7391"))["access"]["pin"] == "7391"
    regenerated = ok(put_pin(tenant, holder, "******"))["access"]
    assert regenerated["pin"] not in (None, old, "7391")
    assert regenerated["error"] is None


def test_the_lock_reports_its_code_space(tenant: Tenant, clock: FakeClock, full_house: dict[str, Any]) -> None:
    entrance = full_house["entrance"]["id"]
    assert code_space(tenant, entrance)["active_codes"] == 0  # on 2026-06-01 12:00 UTC no stay has begun
    clock.set(INSIDE)
    space = code_space(tenant, entrance)
    assert space == {"active_codes": LIMIT, "code_length": 4, "guess_probability": LIMIT / 10**4, "verdict": "warn"}
    prop, unit = full_house["property"], full_house["unit"]
    stay(tenant, prop["id"], unit["id"], CHECK_IN, CHECK_OUT)  # refused a code: the count does not move
    assert code_space(tenant, entrance)["active_codes"] == LIMIT
    ok(tenant.patch(f"/v1/reservations/{full_house['stay_ids'][0]}", {"status": "CANCELED"}))
    space = code_space(tenant, entrance)
    assert (space["active_codes"], space["guess_probability"]) == (LIMIT - 1, (LIMIT - 1) / 10**4)


def test_canceling_a_stay_makes_room_for_the_next_change_or_the_next_stay(
    tenant: Tenant, services: AppServices, clock: FakeClock, full_house: dict[str, Any]
) -> None:
    prop, unit = full_house["property"], full_house["unit"]
    waiting = stay(tenant, prop["id"], unit["id"], CHECK_IN, CHECK_OUT)
    exhausted(waiting["access"])
    ok(tenant.patch(f"/v1/reservations/{full_house['stay_ids'][0]}", {"status": "CANCELED"}))
    changed = ok(tenant.patch(f"/v1/reservations/{waiting['id']}", {"check_out": "2026-06-06"}))["access"]
    assert changed["error"] is None
    assert changed["pin"] is not None
    assert len(changed["pin"]) == 4
    assert changed["state"] == "scheduled"
    with services.db.reader() as session:
        alert = session.scalars(select(Alert).where(Alert.subject_id == waiting["id"])).one()
    assert alert.closed_at is not None
    clock.set(INSIDE)
    assert code_space(tenant, full_house["entrance"]["id"])["active_codes"] == LIMIT
    # Full again: the next stay waits, while a stay next month on the same door does not.
    exhausted(stay(tenant, prop["id"], unit["id"], CHECK_IN, CHECK_OUT)["access"])
    later = stay(tenant, prop["id"], unit["id"], "2026-07-01", "2026-07-03")["access"]
    assert later["pin"] is not None
    assert later["error"] is None
    # A no-show makes room too, and a new stay takes it.
    ok(tenant.patch(f"/v1/reservations/{full_house['stay_ids'][-1]}", {"status": "NO_SHOW"}))
    fresh = stay(tenant, prop["id"], unit["id"], CHECK_IN, CHECK_OUT)["access"]
    assert fresh["pin"] is not None
    assert fresh["error"] is None
    exhausted(stay(tenant, prop["id"], unit["id"], CHECK_IN, CHECK_OUT)["access"])


def test_a_waiting_stay_gets_its_pin_once_a_cancellation_frees_room(
    tenant: Tenant, services: AppServices, full_house: dict[str, Any]
) -> None:
    prop, unit = full_house["property"], full_house["unit"]
    waiting = stay(tenant, prop["id"], unit["id"], CHECK_IN, CHECK_OUT, external_ref="WAIT-1")
    assert waiting["access"]["error"]["code"] == "code_space_exhausted"

    assert retry_waiting_stays(services) == 0  # still no room: nothing issued, nothing broken
    assert access_of(tenant, waiting["id"])["pin"] is None

    ok(tenant.patch(f"/v1/reservations/{full_house['stay_ids'][0]}", {"status": "CANCELED"}))
    assert retry_waiting_stays(services) == 1

    access = access_of(tenant, waiting["id"])
    assert access["error"] is None
    assert access["pin"] is not None
    assert len(access["pin"]) == 4
    assert {lock["lock_id"] for lock in access["locks"]} == {full_house["entrance"]["id"]}
    with services.db.reader() as session:
        alerts = session.scalars(select(Alert).where(Alert.subject_id == waiting["id"])).all()
        assert alerts
        assert all(alert.closed_at is not None for alert in alerts)
        planned = session.scalars(select(Delivery).where(Delivery.reservation_id == waiting["id"])).all()
        assert [d.reason for d in planned] == ["pre_arrival"]  # the guest will hear of the new PIN
    assert retry_waiting_stays(services) == 0  # issued once, not again
