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
Errors must be documented ones, and refusals must be justified by the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context, event

from doorpin.bootstrap import AppServices
from doorpin.domain.clash import max_active_codes
from doorpin.domain.code_policy import CodePolicy
from doorpin.domain.errors import DomainError
from doorpin.domain.pins import weakness
from doorpin.domain.scopes import Scope, effective_scopes
from doorpin.services import accounts, doors, properties
from doorpin.services.pin_setting import GENERATE, set_stay_pin
from doorpin.services.principal import Principal
from doorpin.services.reservations import create_reservation, update_reservation
from tests.support.clock import FakeClock
from tests.support.code_invariants import (
    ENDED,
    LIVE,
    Snapshot,
    clashing_pairs,
    codes_live_during,
    describe,
    peak_live_codes,
    ranges_overlap,
    snapshot,
    window_of,
)

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


def stay_window(world: World, snap: Snapshot, stay_id: str, now: datetime) -> tuple[datetime, datetime]:
    stay = snap.stays[stay_id]
    start, end = window_of(stay, world.policy.activate_before, world.policy.expire_after)
    if stay.status == "IN_HOUSE":
        start = min(start, now)
    return start, end


def sharing_stays(world: World, snap: Snapshot, stay_id: str) -> list[str]:
    """The stays whose claims change with this one's PIN: the live stays of its unit under `pin_scope: "unit"`."""
    unit_id = snap.stays[stay_id].unit_id
    if world.policy.pin_scope != "unit":
        return [stay_id]
    return [s.id for s in snap.stays.values() if s.unit_id == unit_id and s.status in LIVE] or [stay_id]


def own_codes(world: World, snap: Snapshot, stay_id: str) -> set[str | None]:
    """Codes that a change of this stay's PIN replaces rather than competes with."""
    stay = snap.stays[stay_id]
    if world.policy.pin_scope == "unit":
        return {c.id for c in snap.codes.values() if c.unit_id == stay.unit_id and c.revoked_at is None}
    return {stay.access_code_id}


def check_refusal_justified(world: World, snap: Snapshot, stay_id: str, now: datetime) -> None:
    """`code_space_exhausted` only when one of the doors really has no room for one more code."""
    unit_id = snap.stays[stay_id].unit_id
    assert unit_id is not None
    own = own_codes(world, snap, stay_id)
    busiest = 0
    for sharer in sharing_stays(world, snap, stay_id):
        start, end = stay_window(world, snap, sharer, now)
        for lock in world.doors_of(unit_id):
            busiest = max(busiest, len(codes_live_during(snap.rows, lock, start, end, own)))
    assert busiest + 1 > world.max_codes, (
        f"code_space_exhausted with only {busiest} other codes on the busiest door (limit {world.max_codes})"
    )


def check_conflict_justified(world: World, snap: Snapshot, stay_id: str, pin: str, now: datetime) -> None:
    """`pin_conflict` only when another code holds that PIN on one of the doors at an overlapping time."""
    unit_id = snap.stays[stay_id].unit_id
    assert unit_id is not None
    vault, own = world.services.vault, own_codes(world, snap, stay_id)
    for sharer in sharing_stays(world, snap, stay_id):
        start, end = stay_window(world, snap, sharer, now)
        hold = end + world.policy.reuse_cooldown
        for row in snap.rows:
            if (
                row.lock_id in world.doors_of(unit_id)
                and row.access_code_id not in own
                and row.code_fingerprint == vault.lock_fingerprint(pin, world.prefix_len[row.lock_id])
                and ranges_overlap(row.valid_from, row.hold_until, start, hold)
            ):
                return
    raise AssertionError("pin_conflict although no other code holds this PIN on these doors at an overlapping time")


def check_kept_when_not_grown(world: World, snap: Snapshot, stay_id: str, now: datetime) -> None:
    """A change that neither moves a stay to other doors nor widens its window (a check-in on the
    day, a later arrival, a shorter stay) never costs it its code: a guest is not locked out."""
    before = world.held.get(stay_id)
    stay = snap.stays[stay_id]
    if before is None or before[0] != stay.unit_id:
        return
    start, end = stay_window(world, snap, stay_id, now)
    if before[1] <= start and end <= before[2]:
        assert stay.access_error_code is None, f"stay {stay_id} lost its code ({stay.access_error_code})"
        assert snap.live_rows_of(stay_id)


def check_pin_set(world: World, snap: Snapshot, stay_id: str, pin: str) -> None:
    stay = snap.stays[stay_id]
    code = snap.codes[stay.access_code_id or ""]
    assert world.services.vault.open(code.pin_ciphertext, code.account_id, code.id) == pin
    assert stay.access_error_code is None


def check_invariants(world: World, snap: Snapshot) -> None:
    policy, vault = world.policy, world.services.vault
    pins = {c.id: vault.open(c.pin_ciphertext, c.account_id, c.id) for c in snap.codes.values()}
    # (a) no clash among live claims, nor with revoked claims still in their cooldown.
    live_clashes = clashing_pairs(snap.live_rows)
    assert not live_clashes, f"live codes clash: {describe(live_clashes)}"
    all_clashes = clashing_pairs(snap.rows)
    assert not all_clashes, f"a code is reused within its cooldown: {describe(all_clashes)}"
    for row in snap.rows:
        assert row.code_fingerprint == vault.lock_fingerprint(pins[row.access_code_id], world.prefix_len[row.lock_id])
        assert row.reservation_id in snap.stays
    for code in snap.codes.values():
        if code.pin_source == "generated":
            assert len(pins[code.id]) == policy.length
            assert weakness(pins[code.id]) is None
    # (f) code space: never more live codes at one instant than the policy allows.
    for lock_id, peak in peak_live_codes(snap.rows).items():
        assert peak <= world.max_codes, f"lock {lock_id} holds {peak} live codes at once (limit {world.max_codes})"
    for stay in snap.stays.values():
        live = snap.live_rows_of(stay.id)
        if stay.status in ENDED:
            # (c) an ended stay opens nothing, and its own code is revoked.
            assert not live, f"{stay.status} stay {stay.id} still has live claims"
            code = snap.codes.get(stay.access_code_id or "")
            if code is not None and code.holder == "reservation":
                assert code.revoked_at is not None
            continue
        assert stay.status in LIVE
        if stay.unit_id is None:
            assert not live
            assert stay.access_error_code == "unit_not_assigned"
            continue
        if stay.access_error_code is not None:
            # (d) no code could be issued: the stay says why and opens nothing.
            assert stay.access_error_code in ("code_space_exhausted", "code_constraints_violated")
            assert not live, f"stay {stay.id} has an access error and live claims"
            continue
        # (d) exactly its doors, one claim each, all with its current code.
        assert sorted(row.lock_id for row in live) == sorted(world.doors_of(stay.unit_id)), stay.id
        code = snap.codes[stay.access_code_id or ""]
        assert code.revoked_at is None
        assert {row.access_code_id for row in live} <= {code.id}
        assert all(row.desired == "present" for row in live)
        # (b) inside the stay's window, the cooldown on top.
        start, end = window_of(stay, policy.activate_before, policy.expire_after)
        for row in live:
            assert row.valid_until == end, (stay.id, row.valid_until, end)
            assert row.hold_until == end + policy.reuse_cooldown
            if stay.status == "IN_HOUSE":
                assert min(start, world.in_house_since[stay.id]) <= row.valid_from <= start
            else:
                assert row.valid_from == start, (stay.id, row.valid_from, start)
        # (e) who holds the code.
        if policy.pin_scope == "unit":
            assert (code.holder, code.unit_id) == ("unit", stay.unit_id)
        else:
            assert (code.holder, code.reservation_id) == ("reservation", stay.id)
    if policy.pin_scope == "unit":
        for unit_id in world.units:
            sharing = {
                s.access_code_id
                for s in snap.stays.values()
                if s.unit_id == unit_id and s.status in LIVE and s.access_error_code is None
            }
            assert len(sharing) <= 1, f"live stays of unit {unit_id} hold different codes: {sharing}"
            current = [c for c in snap.codes.values() if c.unit_id == unit_id and c.revoked_at is None]
            assert len(current) <= 1, f"unit {unit_id} has {len(current)} unrevoked codes"
            assert sharing <= {c.id for c in current}


def note(what: str) -> None:
    """Count outcomes (`pytest --hypothesis-show-statistics`) when running under hypothesis."""
    if currently_in_test_context():
        event(what)


def step(world: World, op: tuple[Any, ...]) -> str | None:
    """Apply `op`, check every promise; returns the error code the operation answered, if any."""
    now = world.clock.now()
    answered: str | None = None
    try:
        stay_id, pin = apply(world, op)
    except DomainError as error:
        if error.code not in EXPECTED_ERRORS[op[0]]:
            raise AssertionError(f"{op}: unexpected {error.code}: {error.message}") from error
        note(f"{op[0]} -> {error.code}")
        answered = error.code
        snap = snapshot(world.services.db, world.principal.account_id)
        stay_id = stay_at(world, op[1])
        assert stay_id is not None
        if error.code == "code_space_exhausted":
            check_refusal_justified(world, snap, stay_id, now)
        elif error.code == "pin_conflict":
            assert op[0] == "set_pin"
            check_conflict_justified(world, snap, stay_id, pin_pool(world.policy.length)[op[2]], now)
    else:
        snap = snapshot(world.services.db, world.principal.account_id)
        if stay_id is not None:
            stay = snap.stays[stay_id]
            if stay.status == "IN_HOUSE":
                world.in_house_since.setdefault(stay_id, now)
            note(f"{op[0]} -> ok, stay error {stay.access_error_code}")
            booking = (stay.status, stay.unit_id, stay.check_in, stay.check_out)
            # An error stays until the stay changes again; judge a refusal when it was made.
            refreshed = op[0] == "create" or world.bookings.get(stay_id) != booking
            world.bookings[stay_id] = booking
            if refreshed and stay.access_error_code == "code_space_exhausted":
                check_refusal_justified(world, snap, stay_id, now)
            if refreshed and stay.status in LIVE and stay.unit_id is not None:
                check_kept_when_not_grown(world, snap, stay_id, now)
            if pin is not None and pin != GENERATE:
                check_pin_set(world, snap, stay_id, pin)
    check_invariants(world, snap)
    world.held = {}
    for row in snap.live_rows:
        stay = snap.stays[row.reservation_id or ""]
        if stay.unit_id is not None:
            _, start, end = world.held.get(stay.id, (stay.unit_id, row.valid_from, row.valid_from))
            world.held[stay.id] = (stay.unit_id, min(start, row.valid_from), max(end, row.valid_until or end))
    return answered


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
