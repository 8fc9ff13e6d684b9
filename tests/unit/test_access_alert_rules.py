"""Which alerts an access event raises: pure decisions, tested without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from doorpin.domain.access_alerts import (
    AlertKind,
    EventFacts,
    Grace,
    Placement,
    Scope,
    burst_reached,
    burst_size,
    decide,
    grace_for,
    is_wrong_code,
    placement,
)
from doorpin.domain.access_attribution import Attribution, ClaimWindow

T0 = datetime(2026, 7, 10, 12, 0, tzinfo=UTC)
NATIVE = grace_for(True, timedelta(hours=1))
PLAIN = grace_for(False, timedelta(hours=1))


def kinds(facts: EventFacts, burst: bool = False, grace: Grace = NATIVE) -> dict[str, tuple[str, Scope]]:
    return {d.kind.value: (d.severity, d.scope) for d in decide(facts, burst, grace)}


def seconds(*values: float) -> list[datetime]:
    return [T0 + timedelta(seconds=value) for value in values]


def test_wrong_codes_are_unknown_denials_and_lockouts() -> None:
    assert is_wrong_code("denied", Attribution.UNKNOWN)
    assert is_wrong_code("lockout", Attribution.UNKNOWN)
    assert is_wrong_code("lockout", Attribution.IN_WINDOW), "even the right code during a lockout"
    assert not is_wrong_code("denied", Attribution.REVOKED), "a known code is not a guess"
    assert not is_wrong_code("denied", Attribution.OUTSIDE_WINDOW)
    assert not is_wrong_code("granted", Attribution.UNKNOWN)


def test_five_wrong_codes_within_a_minute_are_a_burst_four_are_not() -> None:
    five = seconds(0, 10, 20, 30, 59)
    assert burst_reached(five, five[-1])
    assert burst_reached(five, five[0]), "the first try, arriving last, completes the burst"
    assert not burst_reached(five[:4], five[3])
    spread = seconds(0, 15, 30, 45, 60)  # the span is [first, first + 60 s): the fifth is outside
    assert burst_size(spread, spread[-1]) == 4
    assert not burst_reached(seconds(0, 30, 60, 90, 120), T0 + timedelta(seconds=120))


def test_a_burst_must_include_the_try_being_judged() -> None:
    tries = [*seconds(0, 1, 2, 3, 4), T0 + timedelta(minutes=10)]
    assert burst_reached(tries, T0 + timedelta(seconds=2))
    assert not burst_reached(tries, T0 + timedelta(minutes=10)), "a later, lone try is not part of it"


@given(st.lists(st.integers(min_value=0, max_value=600), min_size=1, max_size=25), st.data())
def test_burst_size_counts_the_fullest_minute_around_the_try(offsets: list[int], data: st.DataObject) -> None:
    tries = seconds(*offsets)
    at = data.draw(st.sampled_from(tries))
    brute = max(
        sum(1 for t in tries if start <= t < start + timedelta(seconds=60))
        for start in tries
        if start <= at < start + timedelta(seconds=60)
    )
    assert burst_size(tries, at) == brute


def test_a_burst_or_a_lockout_raises_one_lock_alert() -> None:
    denied = EventFacts("denied", Attribution.UNKNOWN, T0)
    assert kinds(denied) == {}
    assert kinds(denied, burst=True) == {"repeated_wrong_codes": ("warning", Scope.LOCK)}
    lockout = EventFacts("lockout", Attribution.UNKNOWN, T0)
    assert kinds(lockout) == {"repeated_wrong_codes": ("warning", Scope.LOCK)}


def test_a_revoked_code_is_a_warning_when_refused_and_critical_when_it_opens() -> None:
    refused = EventFacts("denied", Attribution.REVOKED, T0, "absent", Placement(late_by=timedelta(days=1)))
    assert kinds(refused) == {"revoked_code_tried": ("warning", Scope.CLAIM)}
    opened = EventFacts("granted", Attribution.REVOKED, T0, "absent", Placement(late_by=timedelta(days=1)))
    assert kinds(opened) == {
        "revoked_code_tried": ("critical", Scope.CLAIM),
        "code_used_outside_window": ("critical", Scope.LOCK),
    }


def test_an_expired_code_is_for_information_when_refused() -> None:
    refused = EventFacts("denied", Attribution.EXPIRED, T0, "absent", Placement(late_by=timedelta(hours=3)))
    assert kinds(refused) == {"expired_code_tried": ("info", Scope.CLAIM)}
    opened = EventFacts("granted", Attribution.EXPIRED, T0, "absent", Placement(late_by=timedelta(hours=3)))
    assert kinds(opened)["expired_code_tried"] == ("warning", Scope.CLAIM)
    assert kinds(opened)["code_used_outside_window"] == ("critical", Scope.LOCK)


def test_a_grant_outside_the_window_is_critical_beyond_the_grace() -> None:
    early = EventFacts("granted", Attribution.OUTSIDE_WINDOW, T0, "present", Placement(early_by=timedelta(minutes=30)))
    assert kinds(early) == {"code_used_outside_window": ("critical", Scope.LOCK)}, "a native lock opened early"
    assert kinds(early, grace=PLAIN) == {}, "a plain lock holds codes a lead time ahead: expected"
    too_early = EventFacts("granted", Attribution.OUTSIDE_WINDOW, T0, "present", Placement(early_by=timedelta(hours=3)))
    assert set(kinds(too_early, grace=PLAIN)) == {AlertKind.CODE_USED_OUTSIDE_WINDOW.value}
    just_revoked = EventFacts("granted", Attribution.REVOKED, T0, "absent", Placement(late_by=timedelta(seconds=20)))
    assert set(kinds(just_revoked)) == {"revoked_code_tried"}, "the lock had not been told yet"
    refused_early = EventFacts(
        "denied", Attribution.OUTSIDE_WINDOW, T0, "present", Placement(early_by=timedelta(hours=3))
    )
    assert kinds(refused_early) == {}, "a lock keeping its window is doing its job"


def test_a_live_code_refused_inside_its_window_may_have_locked_someone_out() -> None:
    inside = Placement(inside_by=timedelta(hours=5))
    assert kinds(EventFacts("denied", Attribution.IN_WINDOW, T0, "present", inside)) == {
        "code_refused_in_window": ("warning", Scope.CLAIM)
    }
    assert kinds(EventFacts("denied", Attribution.IN_WINDOW, T0, "absent", inside)) == {}, "a disabled code"
    at_the_edge = Placement(inside_by=timedelta(seconds=30))
    assert kinds(EventFacts("denied", Attribution.IN_WINDOW, T0, "present", at_the_edge)) == {}, "clock drift"
    assert kinds(EventFacts("granted", Attribution.IN_WINDOW, T0, "present", inside)) == {}


def test_placement_measures_against_the_window_cut_at_revocation() -> None:
    window = ClaimWindow("lc_1", "ac_1", T0, T0 + timedelta(days=2), None, T0)
    assert placement(window, T0 - timedelta(hours=1)) == Placement(early_by=timedelta(hours=1))
    assert placement(window, T0 + timedelta(hours=1)) == Placement(inside_by=timedelta(hours=1))
    assert placement(window, T0 + timedelta(days=3)) == Placement(late_by=timedelta(days=1))
    revoked = ClaimWindow("lc_1", "ac_1", T0, T0 + timedelta(days=2), T0 + timedelta(days=1), T0)
    assert placement(revoked, T0 + timedelta(days=1, hours=1)) == Placement(late_by=timedelta(hours=1))
