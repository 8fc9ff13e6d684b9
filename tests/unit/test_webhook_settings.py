"""The webhook settings: a sub-second first retry is allowed (tests, demos); the bounds say their unit;
finished deliveries are kept 30 days unless told otherwise (1 day to 10 years)."""

from __future__ import annotations

import pytest

from doorpin.config import ConfigError, load_settings


def test_defaults() -> None:
    settings = load_settings({})
    assert (settings.webhook_retry_base_seconds, settings.webhook_disable_after_hours) == (30.0, 72.0)
    assert settings.webhook_retention_days == 30.0


@pytest.mark.parametrize(("value", "days"), [("1", 1.0), ("90", 90.0), ("3650", 3650.0), (" ", 30.0)])
def test_the_retention_is_set_in_days(value: str, days: float) -> None:
    assert load_settings({"DOORPIN_WEBHOOK_RETENTION_DAYS": value}).webhook_retention_days == days


def test_a_fraction_of_a_second_for_the_first_retry() -> None:
    settings = load_settings({"DOORPIN_WEBHOOK_RETRY_BASE_SECONDS": "0.2", "DOORPIN_WEBHOOK_DISABLE_AFTER_HOURS": "6"})
    assert (settings.webhook_retry_base_seconds, settings.webhook_disable_after_hours) == (0.2, 6.0)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DOORPIN_WEBHOOK_RETRY_BASE_SECONDS", "0.01", "between 0.1 and 3600 seconds"),
        ("DOORPIN_WEBHOOK_RETRY_BASE_SECONDS", "soon", "a number of seconds"),
        ("DOORPIN_WEBHOOK_DISABLE_AFTER_HOURS", "0.5", "between 1 and 3600 hours"),
        ("DOORPIN_WEBHOOK_DISABLE_AFTER_HOURS", "never", "a number of hours"),
        ("DOORPIN_WEBHOOK_RETENTION_DAYS", "0.5", "between 1 and 3650 days"),
        ("DOORPIN_WEBHOOK_RETENTION_DAYS", "3651", "between 1 and 3650 days"),
        ("DOORPIN_WEBHOOK_RETENTION_DAYS", "forever", "a number of days"),
    ],
)
def test_out_of_range_values_stop_start_up(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        load_settings({variable: value})
    assert variable in str(error.value)
