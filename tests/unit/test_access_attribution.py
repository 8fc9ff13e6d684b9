"""Attribution rules: which claim a key-in used, and how the moment relates to its window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from doorpin.domain.access_attribution import Attribution, ClaimWindow, choose, classify

T0 = datetime(2026, 7, 10, 15, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def claim(
    claim_id: str,
    starts: timedelta,
    ends: timedelta | None,
    *,
    revoked: timedelta | None = None,
    created: timedelta = timedelta(0),
    ended_normally: bool = False,
    code: str = "ac_1",
) -> ClaimWindow:
    return ClaimWindow(
        claim_id=claim_id,
        access_code_id=code,
        valid_from=T0 + starts,
        valid_until=None if ends is None else T0 + ends,
        revoked_at=None if revoked is None else T0 + revoked,
        created_at=T0 - 30 * DAY + created,
        ended_normally=ended_normally,
    )


def test_inside_the_window_of_a_live_claim_is_in_window() -> None:
    window = claim("a", timedelta(0), 2 * DAY)
    assert classify(window, T0) == Attribution.IN_WINDOW
    assert classify(window, T0 + DAY) == Attribution.IN_WINDOW
    assert classify(claim("open", timedelta(0), None), T0 + 400 * DAY) == Attribution.IN_WINDOW


def test_before_or_after_the_window_of_a_live_claim_is_outside_it() -> None:
    window = claim("a", timedelta(0), 2 * DAY)
    assert classify(window, T0 - timedelta(seconds=1)) == Attribution.OUTSIDE_WINDOW
    assert classify(window, T0 + 2 * DAY) == Attribution.OUTSIDE_WINDOW, "valid_until is exclusive"
    assert classify(window, T0 + 9 * DAY) == Attribution.OUTSIDE_WINDOW


def test_a_claim_cut_short_by_revocation_is_revoked_from_that_moment() -> None:
    # revoke_claim shortens the window to the revocation: valid_until == revoked_at
    canceled = claim("a", timedelta(0), DAY, revoked=DAY)
    assert classify(canceled, T0 + DAY - timedelta(seconds=1)) == Attribution.IN_WINDOW
    assert classify(canceled, T0 + DAY) == Attribution.REVOKED, "revoked at the event counts"
    assert classify(canceled, T0 + 5 * DAY) == Attribution.REVOKED
    ahead = claim("b", 3 * DAY, 3 * DAY, revoked=DAY)  # canceled before its window began
    assert classify(ahead, T0 + 2 * DAY) == Attribution.REVOKED


def test_a_claim_retired_at_its_normal_end_is_expired() -> None:
    checked_out = claim("a", timedelta(0), DAY, revoked=DAY, ended_normally=True)
    assert classify(checked_out, T0 + 2 * DAY) == Attribution.EXPIRED
    ran_out_first = claim("b", timedelta(0), DAY, revoked=3 * DAY)  # window over before the revocation
    assert classify(ran_out_first, T0 + 4 * DAY) == Attribution.EXPIRED
    assert classify(ran_out_first, T0 + 2 * DAY) == Attribution.OUTSIDE_WINDOW, "not yet revoked then"


def test_no_claim_is_unknown() -> None:
    assert classify(None, T0) == Attribution.UNKNOWN
    assert choose([], T0) is None


def test_the_claim_covering_the_moment_wins() -> None:
    first = claim("first", timedelta(0), 2 * DAY)
    second = claim("second", 2 * DAY, 4 * DAY, created=timedelta(hours=1))
    assert choose([first, second], T0 + DAY) == first
    assert choose([first, second], T0 + 3 * DAY) == second
    assert choose([second, first], T0 + 3 * DAY, preferred="first") == second, "coverage beats the device's ref"


def test_outside_every_window_the_named_claim_then_the_nearest_one_wins() -> None:
    first = claim("first", timedelta(0), 2 * DAY)
    second = claim("second", 2 * DAY, 4 * DAY, created=timedelta(hours=1))
    assert choose([first, second], T0 - timedelta(hours=2)) == first, "an early guest of the first stay"
    assert choose([first, second], T0 + 10 * DAY) == second
    assert choose([first, second], T0 + 10 * DAY, preferred="first") == first


def test_a_revoked_claim_covers_nothing_after_its_revocation() -> None:
    old = claim("old", timedelta(0), 5 * DAY, revoked=DAY)  # as stored before revoke_claim shortened it
    new = claim("new", timedelta(0), 5 * DAY, created=timedelta(hours=1))
    assert choose([old, new], T0 + 2 * DAY) == new
    assert choose([old], T0 + 2 * DAY) == old
