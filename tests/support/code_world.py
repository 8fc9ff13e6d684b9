"""A random property and random booking changes, run through the services (see test_code_invariants).

`property_shapes()` draws a property (time zone, check-in/out times, code policy, units with their
own doors, common doors, prefix locks); `build_world` creates it in a fresh account; `operations`
draws changes, and `apply` runs one in its own write transaction, like the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from doorpin.bootstrap import AppServices
from doorpin.domain.clash import max_active_codes
from doorpin.domain.code_policy import CodePolicy
from doorpin.domain.pins import weakness
from doorpin.domain.scopes import Scope, effective_scopes
from doorpin.services import accounts, doors, properties
from doorpin.services.pin_setting import GENERATE, set_stay_pin
from doorpin.services.principal import Principal
from doorpin.services.reservations import create_reservation, update_reservation
from tests.support.clock import FakeClock

# Stays fall between mid-October and mid-November 2026: Europe leaves summer time on Oct 25,
# the United States on Nov 1, so some windows straddle a DST change.
FIRST_DAY = date(2026, 10, 16)
CLOCK_START = datetime(2026, 10, 14, 9, 0, tzinfo=UTC)
STATUSES = ["CONFIRMED", "IN_HOUSE", "CHECKED_OUT", "CANCELED", "NO_SHOW"]

EXPECTED_ERRORS: dict[str, set[str]] = {
    "create": set(),  # storing a stay never fails for lack of codes
    "dates": set(),
    "unit": set(),
    "status": {"invalid_transition"},
    "regenerate": {"reservation_not_eligible", "unit_not_assigned", "code_space_exhausted"},
    "set_pin": {
        "reservation_not_eligible",
        "unit_not_assigned",
        "pin_invalid_format",
        "pin_too_weak",
        "pin_conflict",
        "code_space_exhausted",
    },
    "advance": set(),
}


@dataclass
class World:
    services: AppServices
    clock: FakeClock
    principal: Principal
    property_id: str
    policy: CodePolicy
    unit_doors: dict[str, frozenset[str]]  # unit -> its own locks
    common_doors: frozenset[str]
    prefix_len: dict[str, int | None]
    stays: list[str] = field(default_factory=list)
    in_house_since: dict[str, datetime] = field(default_factory=dict)
    bookings: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # stay -> (status, unit, check-in, -out)
    held: dict[str, tuple[str, datetime, datetime]] = field(default_factory=dict)  # stay -> (unit, from, until)

    @property
    def units(self) -> list[str]:
        return sorted(self.unit_doors)

    @property
    def max_codes(self) -> int:
        return max_active_codes(self.policy.length, self.policy)

    def doors_of(self, unit_id: str) -> frozenset[str]:
        return self.unit_doors[unit_id] | self.common_doors


@st.composite
def code_policies(draw: st.DrawFn) -> dict[str, Any]:
    length = draw(st.integers(4, 6))
    policy: dict[str, Any] = {
        "length": length,
        "pin_scope": draw(st.sampled_from(["reservation", "unit"])),
        "reuse_cooldown_hours": draw(st.sampled_from([0, 0, 1, 24, 72])),
        "activate_before_minutes": draw(st.sampled_from([0, 30, 180])),
        "expire_after_minutes": draw(st.sampled_from([0, 15, 120])),
        "weak_pins": draw(st.sampled_from(["reject", "warn"])),
    }
    max_codes = draw(st.sampled_from([None, 2, 3, 5]))  # None: the default 1 % of the space
    if max_codes is not None:
        policy["refuse_guess_probability"] = max_codes / 10**length
        policy["warn_guess_probability"] = min(0.001, max_codes / 10**length)
    return policy


def pin_pool(length: int) -> list[str]:
    """Strong PINs that many stays will ask for, a weak one, and two of an invalid format."""
    strong = ["48213967"[:length], "73951824"[:length], "50629183"[:length]]
    assert all(weakness(pin) is None for pin in strong)
    return [*strong, "12345678"[:length], "12a4", "482"]


creates = st.tuples(
    st.just("create"),
    st.sampled_from([0, 1, 2, 3, 0, 1, 2, 3, -1]),  # unit index (modulo the units), -1: no unit yet
    st.integers(0, 14),  # check-in, days after FIRST_DAY
    st.integers(1, 5),  # nights
    st.sampled_from(["CONFIRMED", "CONFIRMED", "CONFIRMED", "IN_HOUSE", "CANCELED"]),
)
changes = st.one_of(
    st.tuples(st.just("dates"), st.integers(0, 99), st.integers(0, 14), st.integers(1, 5)),
    st.tuples(st.just("unit"), st.integers(0, 99), st.sampled_from([0, 1, 2, 3, -1])),
    st.tuples(st.just("status"), st.integers(0, 99), st.sampled_from(STATUSES)),
    st.tuples(st.just("regenerate"), st.integers(0, 99)),
    st.tuples(st.just("set_pin"), st.integers(0, 99), st.sampled_from([0, 1, 2, 0, 1, 2, 3, 4, 5])),
    st.tuples(st.just("advance"), st.integers(1, 60)),
)
operations = st.one_of(creates, changes)


@st.composite
def property_shapes(draw: st.DrawFn) -> dict[str, Any]:
    """A property: time zone, check-in/out times, code policy, units with their own doors, common doors."""
    unit_lock_counts = draw(st.lists(st.integers(0, 2), min_size=1, max_size=4))
    return {
        "timezone": draw(st.sampled_from(["Europe/Lisbon", "America/New_York", "Asia/Kolkata", "UTC"])),
        "times": draw(st.sampled_from([("15:00", "11:00"), ("01:30", "23:30")])),
        "policy": draw(code_policies()),
        "unit_lock_counts": unit_lock_counts,
        "common_count": draw(st.integers(0, 2)),
        # A corridor door shared by the first two units.
        "corridor": draw(st.booleans()) and len(unit_lock_counts) >= 2,
        # Some locks accept a code once its first 4 digits match (`unique_prefix_len`).
        "prefixes": draw(st.lists(st.sampled_from([None, None, 4]), min_size=8, max_size=8)),
    }


def build_world(services: AppServices, clock: FakeClock, shape: dict[str, Any]) -> World:
    clock.set(CLOCK_START)
    check_in_time, check_out_time = shape["times"]
    prefixes = shape["prefixes"]
    with services.db.transaction() as session:
        account, issued = accounts.create_account(session, services.keyring, clock, "invariants")
        principal = Principal(account.id, issued.key.id, effective_scopes([Scope.ADMIN]), None)
        prop = properties.create_property(
            session,
            clock,
            principal,
            {
                "name": "Prop",
                "timezone": shape["timezone"],
                "check_in_time": check_in_time,
                "check_out_time": check_out_time,
                "code_policy": shape["policy"],
            },
        )
        prefix_len: dict[str, int | None] = {}

        def lock(name: str) -> str:
            prefix = prefixes[len(prefix_len) % len(prefixes)]
            row = doors.create_lock(
                session, clock, principal, prop.id, {"name": name, "capabilities": {"unique_prefix_len": prefix}}
            )
            prefix_len[row.id] = prefix
            return row.id

        common = frozenset(lock(f"entrance {i}") for i in range(shape["common_count"]))
        corridor = lock("corridor") if shape["corridor"] else None
        unit_doors: dict[str, frozenset[str]] = {}
        for index, count in enumerate(shape["unit_lock_counts"]):
            own = [lock(f"unit {index} door {i}") for i in range(count)]
            if corridor is not None and index < 2:
                own.append(corridor)
            unit = doors.create_unit(session, clock, principal, prop.id, f"unit {index}", own)
            unit_doors[unit.id] = frozenset(own)
    return World(
        services,
        clock,
        principal,
        prop.id,
        CodePolicy.from_mapping(prop.code_policy),
        unit_doors,
        common,
        prefix_len,
    )


def stay_at(world: World, index: int) -> str | None:
    return world.stays[index % len(world.stays)] if world.stays else None


def unit_at(world: World, index: int) -> str | None:
    return None if index < 0 else world.units[index % len(world.units)]


def day(offset: int) -> date:
    return FIRST_DAY + timedelta(days=offset)


def apply(world: World, op: tuple[Any, ...]) -> tuple[str | None, str | None]:
    """Run one operation in one write transaction; returns (stay touched, pin set)."""
    services, clock, principal = world.services, world.clock, world.principal
    kind = op[0]
    if kind == "advance":
        clock.advance(hours=op[1])
        return None, None
    if kind == "create":
        _, unit_index, start, nights, status = op
        body = {
            "property_id": world.property_id,
            "unit_id": unit_at(world, unit_index),
            "check_in": day(start),
            "check_out": day(start + nights),
            "status": status,
        }
        with services.db.transaction() as session:
            stay = create_reservation(session, clock, services.vault, principal, body)
        world.stays.append(stay.id)
        return stay.id, None
    stay_id = stay_at(world, op[1])
    if stay_id is None:
        return None, None
    changes: dict[str, Any] = {}
    pin: str | None = None
    if kind == "dates":
        changes = {"check_in": day(op[2]), "check_out": day(op[2] + op[3])}
    elif kind == "unit":
        changes = {"unit_id": unit_at(world, op[2])}
    elif kind == "status":
        changes = {"status": op[2]}
    elif kind == "regenerate":
        pin = GENERATE
    else:
        pin = pin_pool(world.policy.length)[op[2]]
    with services.db.transaction() as session:
        if pin is None:
            update_reservation(session, clock, services.vault, principal, stay_id, changes)
        else:
            set_stay_pin(session, services.vault, clock, principal, stay_id, pin)
    return stay_id, pin
