"""The code engine keeps its promises under any sequence of booking changes (issue "Code engine", item 1).

Hypothesis builds a property (units, unit doors, common doors, a random code policy, often with a
tiny code space), then drives the service layer with random operations: create stays, move their
dates or unit, change their status, regenerate or set PINs (custom PINs come from a tiny pool, so
they collide). Each operation runs in its own write transaction, like the API. After every step
the rows in the database must show:

(a) no two claims of different codes on one lock share a fingerprint in overlapping
    `[valid_from, valid_until + cooldown)` ranges: live ones, and revoked ones through their
    cooldown (what the PostgreSQL exclusion constraint enforces, SQLite must hold too);
(b) every live claim lies in its stay's window (check-in - activate_before .. check-out +
    expire_after; an IN_HOUSE stay may open from the moment it checked in);
(c) a CANCELED / NO_SHOW / CHECKED_OUT stay has no live claim;
(d) a live stay with a unit has live claims on exactly its unit's doors and the common doors,
    all with its code, or none and an `access_error_code`;
(e) with `pin_scope: "unit"`, the live stays of one unit share one code, the unit's current one;
(f) no lock ever holds more live codes at one instant than the policy's guess probability allows.
Errors must be documented ones, and refusals must be justified by the rows. The property and
the operations are in tests/support/code_world.py, the checks in tests/support/code_checks.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from doorpin.bootstrap import AppServices
from tests.support.clock import FakeClock
from tests.support.code_checks import step
from tests.support.code_invariants import snapshot
from tests.support.code_world import build_world, operations, property_shapes


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_code_engine_invariants(services: AppServices, clock: FakeClock, data: st.DataObject) -> None:
    world = build_world(services, clock, data.draw(property_shapes()))
    ops = data.draw(st.lists(operations, min_size=15, max_size=40))
    for op in ops:
        step(world, op)


def small_property(scope: str, max_codes: int = 2, cooldown: int = 0, units: int = 3) -> dict[str, Any]:
    """4-digit codes, an entrance shared by `units` units without doors of their own."""
    limit = max_codes / 10**4
    return {
        "timezone": "UTC",
        "times": ("15:00", "11:00"),
        "policy": {
            "length": 4,
            "pin_scope": scope,
            "reuse_cooldown_hours": cooldown,
            "refuse_guess_probability": limit,
            "warn_guess_probability": limit,
        },
        "unit_lock_counts": [0] * units,
        "common_count": 1,
        "corridor": False,
        "prefixes": [None] * 8,
    }


# Sequences the search above found (shrunk by hand), each a bug since fixed. The last element is
# what must hold at the end: (stay index, its access_error_code, the PIN it holds or None, the
# error the last operation answers).
FOUND: dict[str, tuple[dict[str, Any], list[tuple[Any, ...]], tuple[int, str | None, str | None, str | None]]] = {
    "moving a stay onto full days gave it a code beyond the limit": (
        small_property("reservation"),
        [
            ("create", 0, 0, 2, "CONFIRMED"),
            ("create", 1, 0, 2, "CONFIRMED"),
            ("create", 2, 5, 2, "CONFIRMED"),
            ("dates", 2, 0, 2),
        ],
        (2, "code_space_exhausted", None, None),
    ),
    "an early check-in next to a full door cost the stay its code": (
        small_property("reservation"),
        [
            ("create", 0, 0, 2, "CONFIRMED"),
            ("create", 1, 1, 3, "CONFIRMED"),
            ("create", 2, 3, 2, "CONFIRMED"),
            ("status", 1, "IN_HOUSE"),
        ],
        (1, None, None, None),
    ),
    "a claim revoked before it began still blocked its PIN": (
        small_property("reservation", max_codes=5),
        [
            ("create", 0, 5, 2, "CONFIRMED"),
            ("set_pin", 0, 0),
            ("regenerate", 0),
            ("status", 0, "IN_HOUSE"),
            ("set_pin", 0, 0),
        ],
        (0, None, "4821", None),
    ),
    "a unit PIN was checked against the last stay's window only": (
        small_property("unit", max_codes=5, cooldown=72, units=1),
        [
            ("create", 0, 0, 2, "CONFIRMED"),
            ("set_pin", 0, 0),
            ("regenerate", 0),
            ("create", 0, 8, 2, "CONFIRMED"),
            ("set_pin", 1, 0),
        ],
        (1, None, None, "pin_conflict"),
    ),
    "its own PIN set again after losing its claims minted a clashing second code": (
        small_property("reservation", cooldown=72),
        [
            ("create", 0, 0, 4, "CONFIRMED"),
            ("create", 1, 0, 4, "CONFIRMED"),
            ("create", 2, 5, 2, "CONFIRMED"),
            ("set_pin", 2, 0),
            ("dates", 2, 2, 2),
            ("status", 0, "CANCELED"),
            ("set_pin", 2, 0),
        ],
        (2, None, "4821", None),
    ),
    "the unit's own PIN set again after losing its claims minted a clashing second code": (
        small_property("unit", cooldown=72),
        [
            ("create", 0, 0, 4, "CONFIRMED"),
            ("create", 1, 0, 4, "CONFIRMED"),
            ("create", 2, 5, 2, "CONFIRMED"),
            ("set_pin", 2, 0),
            ("dates", 2, 2, 2),
            ("status", 0, "CANCELED"),
            ("set_pin", 2, 0),
        ],
        (2, None, "4821", None),
    ),
    "moving to another unit counted the stay's old code against its new one": (
        small_property("unit"),
        [("create", 0, 0, 3, "CONFIRMED"), ("create", 1, 0, 3, "CONFIRMED"), ("unit", 1, 2)],
        (1, None, None, None),
    ),
}


@pytest.mark.parametrize("name", sorted(FOUND))
def test_sequences_found_by_the_search(services: AppServices, clock: FakeClock, name: str) -> None:
    shape, ops, (index, error_code, pin, answered) = FOUND[name]
    world = build_world(services, clock, shape)
    results = [step(world, op) for op in ops]
    assert results[-1] == answered
    snap = snapshot(services.db, world.principal.account_id)
    stay = snap.stays[world.stays[index]]
    assert stay.access_error_code == error_code
    if pin is not None:
        code = snap.codes[stay.access_code_id or ""]
        assert services.vault.open(code.pin_ciphertext, code.account_id, code.id) == pin
