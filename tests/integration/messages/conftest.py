"""Guest messages against real parts: an SMTP server (aiosmtpd) and a local messaging gateway.

The app's services here know the gateway (`sms_url`) and a public base URL, as `doorpin serve`
would from DOORPIN_SMS_URL and DOORPIN_BASE_URL; `send()` runs one pass of the sending job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from doorpin.adapters.db.engine import Database
from doorpin.adapters.messaging.base import MessageSender
from doorpin.adapters.messaging.senders import build_senders, close_senders
from doorpin.bootstrap import AppServices
from doorpin.domain.deliveries import Channel
from doorpin.keyring import Keyring
from doorpin.services.message_sending import run_delivery_pass
from tests.support.api import Tenant
from tests.support.clock import FakeClock
from tests.support.gateway_server import Gateway, messaging_gateway
from tests.support.resources import create_lock, create_property, create_reservation, create_unit, ok
from tests.support.smtp_server import SmtpServer, smtp_server

BASE_URL = "https://stay.doorpin.example"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with messaging_gateway() as server:
        yield server


@pytest.fixture
def services(database: Database, keyring: Keyring, clock: FakeClock, gateway: Gateway) -> AppServices:
    return AppServices(db=database, keyring=keyring, clock=clock, sms_url=gateway.url, base_url=BASE_URL)


@pytest.fixture
def senders(smtp: SmtpServer, gateway: Gateway) -> Iterator[dict[Channel, MessageSender]]:
    built = build_senders(smtp.url(), gateway.url)
    yield built
    close_senders(built)


@pytest.fixture
def send(services: AppServices, senders: dict[Channel, MessageSender]) -> Callable[[], int]:
    """One pass of the sending job, as the worker runs it."""
    return lambda: run_delivery_pass(services, senders)


def guest_property(tenant: Tenant, **delivery: Any) -> tuple[Any, Any]:
    """A Lisbon property with a common entrance and a room with its own door; returns (property, unit)."""
    prop = create_property(
        tenant, "Casa Alfama", timezone="Europe/Lisbon", delivery={"send_before_hours": 48, **delivery}
    )
    create_lock(tenant, prop["id"], "Entrance")
    room_door = create_lock(tenant, prop["id"], "Room 12 door")
    unit = create_unit(tenant, prop["id"], "Room 12", lock_ids=[room_door["id"]])
    return prop, unit


def book(tenant: Tenant, prop: Any, unit: Any, check_in: str, check_out: str, **guest: Any) -> Any:
    guest = {"name": "Ana Silva", "email": "ana@guest.example", "language": "en", **guest}
    return create_reservation(tenant, prop["id"], check_in, check_out, unit_id=unit["id"], guest=guest)


def pin_of(tenant: Tenant, stay: Any) -> str:
    pin = ok(tenant.get(f"/v1/reservations/{stay['id']}"))["access"]["pin"]
    assert isinstance(pin, str)
    assert pin.isdigit(), pin
    return pin


def deliveries(tenant: Tenant, stay: Any) -> list[Any]:
    return list(ok(tenant.get(f"/v1/reservations/{stay['id']}/deliveries"))["data"])
