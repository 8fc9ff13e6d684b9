"""The webhook settings: a sub-second first retry is allowed (tests, demos); the bounds say their unit."""

from __future__ import annotations

import pytest

from doorpin.config import ConfigError, load_settings


def test_defaults() -> None:
    settings = load_settings({})
    assert (settings.webhook_retry_base_seconds, settings.webhook_disable_after_hours) == (30.0, 72.0)


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
    ],
)
def test_out_of_range_values_stop_start_up(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        load_settings({variable: value})
    assert variable in str(error.value)
