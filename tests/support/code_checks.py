"""Checking a `World` after each step: the promises, judged from the database rows.

`step` applies one operation and then checks every invariant listed in
tests/integration/test_code_invariants.py; errors must be documented ones, and refusals
(`code_space_exhausted`, `pin_conflict`) must be justified by the rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hypothesis.control import currently_in_test_context, event

from doorpin.domain.errors import DomainError
from doorpin.domain.pins import weakness
from doorpin.services.pin_setting import GENERATE
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
from tests.support.code_world import EXPECTED_ERRORS, World, apply, pin_pool, stay_at


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
