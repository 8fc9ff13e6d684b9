"""A simulated keypad hub inside `doorpin serve` and `doorpin demo`, for keypad locks that name
no hub of their own (no `hub_url`) when DOORPIN_KEYPAD_HUB_URL is not set."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

from doorpin.bootstrap import AppServices
from doorpin.config import Settings

log = logging.getLogger("doorpin.cli")


def with_embedded_hub(settings: Settings, services: AppServices) -> tuple[AppServices, Callable[[], None]]:
    if "keypad" in services.provider_settings:
        return services, lambda: None
    from doorpin.adapters.locks.simulator import start_hub_in_thread

    db_path = settings.sqlite_path
    state: Path | None = db_path.with_name(db_path.name + ".hub.sqlite") if db_path is not None else None
    hub = start_hub_in_thread(state)
    log.info("simulated keypad hub on %s (state %s)", hub.base_url, state or "in memory")
    providers = {**services.provider_settings, "keypad": {"hub_url": hub.base_url, "simulated": True}}
    return dataclasses.replace(services, provider_settings=providers), hub.stop
