"""Access windows in property time across DST changes (Europe/Berlin and America/New_York, 2026).

Check-in is 15:00 and check-out 11:00 on the wall clock whatever the offset that day; answers carry
the property's offset and stand for the right UTC instant.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.access import building, instant, stay
from tests.support.api import Tenant
from tests.support.resources import ok

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"

# zone, check_in, check_out, valid_from, valid_until, their UTC instants
CHANGE_DAYS = [
    # Berlin springs forward on 2026-03-29 at 02:00 (+01:00 -> +02:00).
    (BERLIN, "2026-03-28", "2026-03-29", "2026-03-28T15:00:00+01:00", "2026-03-29T11:00:00+02:00", 14, 9),
    (BERLIN, "2026-03-29", "2026-03-30", "2026-03-29T15:00:00+02:00", "2026-03-30T11:00:00+02:00", 13, 9),
    # Berlin falls back on 2026-10-25 at 03:00 (+02:00 -> +01:00).
    (BERLIN, "2026-10-24", "2026-10-25", "2026-10-24T15:00:00+02:00", "2026-10-25T11:00:00+01:00", 13, 10),
    (BERLIN, "2026-10-25", "2026-10-26", "2026-10-25T15:00:00+01:00", "2026-10-26T11:00:00+01:00", 14, 10),
    # New York springs forward on 2026-03-08 at 02:00 (-05:00 -> -04:00).
    (NEW_YORK, "2026-03-07", "2026-03-08", "2026-03-07T15:00:00-05:00", "2026-03-08T11:00:00-04:00", 20, 15),
    (NEW_YORK, "2026-03-08", "2026-03-09", "2026-03-08T15:00:00-04:00", "2026-03-09T11:00:00-04:00", 19, 15),
    # New York falls back on 2026-11-01 at 02:00 (-04:00 -> -05:00).
    (NEW_YORK, "2026-10-31", "2026-11-01", "2026-10-31T15:00:00-04:00", "2026-11-01T11:00:00-05:00", 19, 16),
    (NEW_YORK, "2026-11-01", "2026-11-02", "2026-11-01T15:00:00-05:00", "2026-11-02T11:00:00-05:00", 20, 16),
]


@pytest.mark.parametrize(
    ("zone", "check_in", "check_out", "valid_from", "valid_until", "from_utc_hour", "until_utc_hour"),
    CHANGE_DAYS,
    ids=[f"{zone.split('/')[1]}-{check_in}" for zone, check_in, *_ in CHANGE_DAYS],
)
def test_check_in_and_out_on_a_change_day_keep_their_wall_clock_times(
    tenant: Tenant,
    zone: str,
    check_in: str,
    check_out: str,
    valid_from: str,
    valid_until: str,
    from_utc_hour: int,
    until_utc_hour: int,
) -> None:
    house = building(tenant, timezone=zone)
    res = stay(tenant, house.id, house.unit_a["id"], check_in, check_out)
    fetched = ok(tenant.get(f"/v1/reservations/{res['id']}"))
    for answer in (res, fetched):
        access = answer["access"]
        assert (answer["check_in"], answer["check_out"]) == (valid_from, valid_until)
        assert (access["valid_from"], access["valid_until"]) == (valid_from, valid_until)
    start, end = instant(valid_from), instant(valid_until)
    day_in, day_out = (datetime.fromisoformat(d) for d in (check_in, check_out))
    assert start == datetime(day_in.year, day_in.month, day_in.day, from_utc_hour, tzinfo=UTC)
    assert end == datetime(day_out.year, day_out.month, day_out.day, until_utc_hour, tzinfo=UTC)
    assert res["access"]["pin"] is not None


@pytest.mark.parametrize(
    ("zone", "check_in", "check_out", "hours"),
    [
        (BERLIN, "2026-03-28", "2026-03-30", 43),  # 44 wall-clock hours, one of them skipped
        (BERLIN, "2026-10-24", "2026-10-26", 45),  # one hour lived twice
        (NEW_YORK, "2026-03-07", "2026-03-09", 43),
        (NEW_YORK, "2026-10-31", "2026-11-02", 45),
    ],
)
def test_a_stay_across_the_change_lasts_the_real_number_of_hours(
    tenant: Tenant, zone: str, check_in: str, check_out: str, hours: int
) -> None:
    house = building(tenant, timezone=zone)
    access = stay(tenant, house.id, house.unit_a["id"], check_in, check_out)["access"]
    assert instant(access["valid_until"]) - instant(access["valid_from"]) == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("zone", "wall", "shown", "utc"),
    [
        # A wall time in the spring-forward gap moves forward by the gap.
        (BERLIN, "2026-03-29T02:30", "2026-03-29T03:30:00+02:00", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        (NEW_YORK, "2026-03-08T02:30", "2026-03-08T03:30:00-04:00", datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),
        # An ambiguous wall time takes its first occurrence (still summer time).
        (BERLIN, "2026-10-25T02:30", "2026-10-25T02:30:00+02:00", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        (NEW_YORK, "2026-11-01T01:30", "2026-11-01T01:30:00-04:00", datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
    ],
)
def test_naive_times_in_a_gap_move_forward_and_ambiguous_ones_take_the_first(
    tenant: Tenant, zone: str, wall: str, shown: str, utc: datetime
) -> None:
    house = building(tenant, timezone=zone)
    res = stay(tenant, house.id, house.unit_a["id"], wall, "2026-12-01")
    assert res["check_in"] == res["access"]["valid_from"] == shown
    assert instant(shown) == utc


def test_an_explicit_offset_is_kept_as_the_instant_it_names(tenant: Tenant) -> None:
    house = building(tenant, timezone=BERLIN)
    # 16:00 in New York on the Berlin change day is 22:00 in Berlin (+02:00).
    res = stay(tenant, house.id, house.unit_a["id"], "2026-03-29T16:00:00-04:00", "2026-03-31")
    assert res["access"]["valid_from"] == "2026-03-29T22:00:00+02:00"


def test_activation_margins_are_real_minutes_across_the_change(tenant: Tenant) -> None:
    house = building(tenant, timezone=BERLIN, code_policy={"activate_before_minutes": 120, "expire_after_minutes": 60})
    # Check-in 03:30 (+02:00) on the spring change: 120 real minutes earlier is 00:30 (+01:00).
    res = stay(tenant, house.id, house.unit_a["id"], "2026-03-29T03:30", "2026-10-25T02:30")
    access = res["access"]
    assert res["check_in"] == "2026-03-29T03:30:00+02:00"
    assert access["valid_from"] == "2026-03-29T00:30:00+01:00"
    # Check-out at the first 02:30 of the autumn change: 60 real minutes later is the second 02:30.
    assert res["check_out"] == "2026-10-25T02:30:00+02:00"
    assert access["valid_until"] == "2026-10-25T02:30:00+01:00"
    assert instant(access["valid_until"]) - instant(res["check_out"]) == timedelta(hours=1)


def test_moving_check_in_across_the_change_keeps_the_check_out_wall_time(tenant: Tenant) -> None:
    house = building(tenant, timezone=NEW_YORK)
    res = stay(tenant, house.id, house.unit_a["id"], "2026-03-01", "2026-03-10")
    assert res["access"]["valid_until"] == "2026-03-10T11:00:00-04:00"
    moved = ok(tenant.patch(f"/v1/reservations/{res['id']}", {"check_in": "2026-03-08"}))
    assert moved["access"]["valid_from"] == "2026-03-08T15:00:00-04:00"
    assert moved["access"]["valid_until"] == "2026-03-10T11:00:00-04:00"
    assert moved["access"]["pin"] == res["access"]["pin"]
    back = ok(tenant.patch(f"/v1/reservations/{res['id']}", {"check_in": "2026-03-07T15:00"}))
    assert back["access"]["valid_from"] == "2026-03-07T15:00:00-05:00"
    assert back["access"]["valid_until"] == "2026-03-10T11:00:00-04:00"
