"""A stay's access window: when its PIN opens the doors.

Check-in and check-out arrive here as instants (see `doorpin.domain.local_time` for turning a
property-local date and time into one). The policy's margins are elapsed minutes, so they are
applied in UTC: across a DST change, "30 minutes early" is still 30 real minutes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from doorpin.domain.code_policy import CodePolicy
from doorpin.domain.errors import DomainError


def stay_access_window(check_in: datetime, check_out: datetime, policy: CodePolicy) -> tuple[datetime, datetime]:
    """`(valid_from, valid_until)` in UTC: check-in minus `activate_before_minutes`, check-out
    plus `expire_after_minutes`.

    Raises ValueError for naive datetimes (a programming error: the caller must resolve the
    property's time zone) and `DomainError("invalid_window", field="check_out")` when check-out
    is not after check-in.
    """
    for name, value in (("check_in", check_in), ("check_out", check_out)):
        if value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware")
    start = check_in.astimezone(UTC)
    end = check_out.astimezone(UTC)
    if end <= start:
        raise DomainError("invalid_window", "check_out must be after check_in", "check_out")
    return start - policy.activate_before, end + policy.expire_after
