"""The guest page /g/{token} in process, on SQLite and PostgreSQL: what it shows, to whom, how often.

Tokens are read the way the message sender reads them (`ensure_guest_token`, same secret key).
The browser's view of the same page is in tests/e2e/test_guest_page_browser.py.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import logging
import re
import secrets
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from doorpin.adapters.db.access_models import AuditEvent
from doorpin.adapters.db.delivery_models import GuestToken
from doorpin.adapters.db.models import Reservation
from doorpin.bootstrap import AppServices
from doorpin.entrypoints.api.app import create_app
from doorpin.services.guest_messages import ensure_guest_token
from tests.support.api import Tenant
from tests.support.clock import FakeClock
from tests.support.resources import create_lock, create_property, create_reservation, create_unit, ok

SECURITY_HEADERS = {
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
}


@dataclasses.dataclass(frozen=True)
class GuestStay:
    stay: dict[str, Any]
    token: str

    @property
    def pin(self) -> str:
        return str(self.stay["access"]["pin"])

    @property
    def path(self) -> str:
        return f"/g/{self.token}"


def guest_token(services: AppServices, account_id: str, stay_id: str) -> str:
    with services.db.transaction() as session:
        row = session.get(Reservation, (account_id, stay_id))
        assert row is not None
        return ensure_guest_token(session, services.vault, row, services.clock.now())


def make_property(tenant: Tenant, timezone: str = "America/New_York", **extra: Any) -> tuple[str, str]:
    """A property with a common entrance and one flat with its own door: (property id, unit id)."""
    prop = create_property(tenant, "Harbour House", timezone, **extra)
    create_lock(tenant, prop["id"], "Main entrance")
    door = create_lock(tenant, prop["id"], "Flat 2B door")
    unit = create_unit(tenant, prop["id"], "Flat 2B", lock_ids=[door["id"]])
    return prop["id"], unit["id"]


def guest_stay(
    services: AppServices, tenant: Tenant, property_id: str, unit_id: str, guest: dict[str, Any] | None = None
) -> GuestStay:
    stay = create_reservation(
        tenant,
        property_id,
        check_in="2026-07-10",
        check_out="2026-07-12",
        unit_id=unit_id,
        guest=guest or {"name": "Ana"},
    )
    assert re.fullmatch(r"\d{4,8}", stay["access"]["pin"]), stay["access"]
    return GuestStay(stay, guest_token(services, tenant.account_id, stay["id"]))


def pin_html(pin: str) -> str:
    half = len(pin) // 2
    return f"<span>{pin[:half]}</span><wbr><span>{pin[half:]}</span>"


def reveals(services: AppServices, stay_id: str) -> list[AuditEvent]:
    with services.db.reader() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.subject_id == stay_id, AuditEvent.action == "pin.revealed")
            )
        )


def assert_guarded(response: Any) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.headers)
    assert "noindex" in response.headers["x-robots-tag"]
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src" not in csp, "no script may run on the page"
    assert response.headers["content-type"].startswith("text/html")


def visitor(client: TestClient, number: int) -> TestClient:
    """Another client of the same app (so the same rate limiter), from its own address."""
    return TestClient(client.app, raise_server_exceptions=False, client=(f"192.0.2.{number}", 40000))


@pytest.fixture
def other_address(client: TestClient) -> Iterator[TestClient]:
    """A second client of the same app (same rate limiter), from another address."""
    with TestClient(client.app, raise_server_exceptions=False, client=("198.51.100.23", 40000)) as second:
        yield second


def test_the_guest_sees_code_doors_and_window_in_property_time_and_language(
    services: AppServices, client: TestClient, tenant: Tenant
) -> None:
    property_id, unit_id = make_property(tenant, "America/New_York")
    guest = guest_stay(services, tenant, property_id, unit_id, {"name": "Jonas", "language": "de-AT"})
    response = client.get(guest.path)
    assert response.status_code == 200, response.text
    assert_guarded(response)
    html = response.text
    assert '<html lang="de">' in html
    assert response.headers["content-language"] == "de"
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert pin_html(guest.pin) in html
    assert "Ihr Türcode" in html
    assert "Harbour House" in html
    assert "Hallo Jonas," in html
    doors = re.findall(r"<li>([^<]*)</li>", html.split('data-testid="doors"', 1)[1].split("</ul>", 1)[0])
    assert doors == ["Flat 2B door", "Main entrance"], "the unit's door first, then the common one"
    # 15:00 and 11:00 in New York (EDT, UTC-4), not the UTC instants 19:00 and 15:00.
    assert "<dd>Freitag, 10. Juli 2026, 15:00 Uhr</dd>" in html
    assert "<dd>Sonntag, 12. Juli 2026, 11:00 Uhr</dd>" in html
    assert "America/New_York" in html
    assert "19:00" not in html
    assert "Geben Sie den Code am Tastenfeld der Tür ein." in html


def test_the_inline_style_is_the_only_thing_the_policy_allows(
    services: AppServices, client: TestClient, tenant: Tenant
) -> None:
    property_id, unit_id = make_property(tenant)
    response = client.get(guest_stay(services, tenant, property_id, unit_id).path)
    styles = re.findall(r"<style>(.*?)</style>", response.text, re.DOTALL)
    assert len(styles) == 1
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in response.headers["content-security-policy"]
    assert "<script" not in response.text
    assert "<link" not in response.text, "nothing is loaded from anywhere"


@pytest.mark.parametrize(
    ("guest_language", "property_language", "expected", "title"),
    [
        ("fr-CA", "de", "fr", "Votre code d’accès"),
        (None, "es", "es", "Tu código de acceso"),
        ("nl", "pt", "pt", "O seu código de acesso"),
        (None, None, "en", "Your door code"),
    ],
)
def test_the_language_is_the_guests_else_the_propertys_else_english(
    services: AppServices,
    client: TestClient,
    tenant: Tenant,
    guest_language: str | None,
    property_language: str | None,
    expected: str,
    title: str,
) -> None:
    extra = {"delivery": {"language": property_language}} if property_language else {}
    property_id, unit_id = make_property(tenant, "Europe/Lisbon", **extra)
    guest = {"name": "Sam", **({"language": guest_language} if guest_language else {})}
    response = client.get(guest_stay(services, tenant, property_id, unit_id, guest).path)
    assert response.status_code == 200, response.text
    assert f'<html lang="{expected}">' in response.text
    assert f"<h1>{title}</h1>" in response.text


def test_each_view_is_audited_as_a_reveal_by_no_key(services: AppServices, client: TestClient, tenant: Tenant) -> None:
    property_id, unit_id = make_property(tenant)
    guest = guest_stay(services, tenant, property_id, unit_id)
    before = len(reveals(services, guest.stay["id"]))
    assert client.get(guest.path).status_code == 200
    assert client.get(guest.path).status_code == 200
    events = reveals(services, guest.stay["id"])[before:]
    assert len(events) == 2
    for event in events:
        assert event.actor_key_id is None
        assert event.details == {"via": "guest_page"}
        assert event.subject_type == "reservation"
        assert event.property_id == property_id
        assert event.account_id == tenant.account_id
        assert guest.pin not in repr(event.details)


def test_the_guests_name_cannot_inject_markup(services: AppServices, client: TestClient, tenant: Tenant) -> None:
    property_id, unit_id = make_property(tenant)
    guest = guest_stay(services, tenant, property_id, unit_id, {"name": "<script>alert(1)</script>"})
    html = client.get(guest.path).text
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_unknown_expired_and_revoked_tokens_get_one_and_the_same_404(
    services: AppServices, clock: FakeClock, client: TestClient, tenant: Tenant
) -> None:
    property_id, unit_id = make_property(tenant)
    live = guest_stay(services, tenant, property_id, unit_id)
    ended = {
        status: guest_stay(services, tenant, property_id, unit_id) for status in ("CANCELED", "NO_SHOW", "CHECKED_OUT")
    }
    for status, guest in ended.items():
        assert client.get(guest.path).status_code == 200, "live before the change"
        ok(tenant.patch(f"/v1/reservations/{guest.stay['id']}", {"status": status}))
    seen_before = {guest.stay["id"]: len(reveals(services, guest.stay["id"])) for guest in ended.values()}
    # Each case from its own address: failed lookups are rate limited hard (tested below).
    answers = {status: visitor(client, n).get(guest.path) for n, (status, guest) in enumerate(ended.items())}
    answers["unknown"] = visitor(client, 10).get(f"/g/{secrets.token_urlsafe(32)}")
    answers["malformed"] = visitor(client, 11).get("/g/not%20a%20token")
    with services.db.reader() as session:
        expires_at = session.get(GuestToken, (tenant.account_id, live.stay["id"])).expires_at  # type: ignore[union-attr]
    clock.set(expires_at)
    answers["expired"] = visitor(client, 12).get(live.path)

    bodies = set()
    for case, response in answers.items():
        assert response.status_code == 404, (case, response.text)
        assert_guarded(response)
        assert "Page not found" in response.text, case
        bodies.add(response.text)
    assert len(bodies) == 1, "the 404 page must not tell the cases apart"
    page = bodies.pop().split("</head>", 1)[1]  # (the inline style has digit runs of its own)
    for guest in [live, *ended.values()]:
        assert guest.pin not in page
    assert "Harbour House" not in page
    for guest in ended.values():
        assert len(reveals(services, guest.stay["id"])) == seen_before[guest.stay["id"]], "no reveal recorded"

    clock.set(expires_at - timedelta(seconds=1))
    assert visitor(client, 13).get(live.path).status_code == 200, "valid up to its expiry"


def test_moving_the_stay_into_the_past_ends_its_page(services: AppServices, client: TestClient, tenant: Tenant) -> None:
    property_id, unit_id = make_property(tenant)
    guest = guest_stay(services, tenant, property_id, unit_id)
    assert client.get(guest.path).status_code == 200
    ok(tenant.patch(f"/v1/reservations/{guest.stay['id']}", {"check_in": "2026-05-20", "check_out": "2026-05-22"}))
    response = client.get(guest.path)
    assert response.status_code == 404
    assert guest.pin not in response.text.split("</head>", 1)[1]


def test_a_stay_without_a_code_yet_says_so_and_reveals_nothing(
    services: AppServices, client: TestClient, tenant: Tenant
) -> None:
    property_id, _ = make_property(tenant)
    stay = create_reservation(tenant, property_id, guest={"name": "Ana", "language": "es"})  # no unit: no code
    assert stay["access"]["pin"] is None
    token = guest_token(services, tenant.account_id, stay["id"])
    response = client.get(f"/g/{token}")
    assert response.status_code == 200
    assert "Tu código aún no está listo" in response.text
    assert 'data-testid="pin"' not in response.text
    assert reveals(services, stay["id"]) == []


def test_a_hundred_wrong_tokens_from_one_address_get_429_long_before_the_end(
    client: TestClient, other_address: TestClient, services: AppServices, tenant: Tenant
) -> None:
    property_id, unit_id = make_property(tenant)
    guest = guest_stay(services, tenant, property_id, unit_id)
    statuses = [client.get(f"/g/{secrets.token_urlsafe(32)}").status_code for _ in range(100)]
    assert set(statuses) == {404, 429}
    first_429 = statuses.index(429)
    assert first_429 <= 5, statuses
    assert statuses[first_429:] == [429] * (100 - first_429), "once limited, every further guess is refused"

    refused = client.get(guest.path, headers={"Accept-Language": "fr"})
    assert refused.status_code == 429, "the whole address is limited, right token or not"
    assert_guarded(refused)
    assert int(refused.headers["retry-after"]) >= 1
    assert "Trop de requêtes" in refused.text
    assert guest.pin not in refused.text.split("</head>", 1)[1]

    served = other_address.get(guest.path)
    assert served.status_code == 200, "another address is not affected"
    assert pin_html(guest.pin) in served.text


def test_a_guest_reloading_their_page_is_not_limited(services: AppServices, client: TestClient, tenant: Tenant) -> None:
    property_id, unit_id = make_property(tenant)
    guest = guest_stay(services, tenant, property_id, unit_id)
    assert [client.get(guest.path).status_code for _ in range(20)] == [200] * 20


def test_x_forwarded_for_is_not_believed_by_default(client: TestClient) -> None:
    statuses = [
        client.get(f"/g/{secrets.token_urlsafe(32)}", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
        for i in range(100)
    ]
    assert statuses.count(429) >= 90, "a client cannot dodge the limit by inventing addresses"


def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(services: AppServices) -> None:
    proxied = dataclasses.replace(services, trusted_proxies=("10.0.0.0/8",))
    with TestClient(create_app(proxied), raise_server_exceptions=False, client=("10.1.2.3", 443)) as proxy:
        spread = [
            proxy.get(f"/g/{secrets.token_urlsafe(32)}", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
            for i in range(60)
        ]
        assert spread == [404] * 60, "sixty clients behind the proxy, one guess each"
        same = [
            proxy.get(f"/g/{secrets.token_urlsafe(32)}", headers={"X-Forwarded-For": "1.2.3.4, 198.51.100.77"})
            for _ in range(10)
        ]
        assert [r.status_code for r in same].count(429) >= 5, "one client behind the proxy is limited"


def test_request_logs_name_the_route_never_the_token_or_pin(
    services: AppServices, client: TestClient, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    property_id, unit_id = make_property(tenant)
    guest = guest_stay(services, tenant, property_id, unit_id)
    with caplog.at_level(logging.DEBUG):
        assert client.get(guest.path).status_code == 200
        assert client.get(f"/g/{guest.token[:-2]}xx").status_code == 404
    lines = [record for record in caplog.records if record.name == "doorpin.http"]
    assert [getattr(record, "route", None) for record in lines] == ["/g/{token}", "/g/{token}"]
    server_side = [record for record in caplog.records if record.name.startswith(("doorpin", "uvicorn"))]
    assert server_side
    for record in server_side:  # (the test's own HTTP client logs the URLs it fetched, of course)
        # The message and every field a log formatter adds (not the record's own clock and ids).
        fields = {k: v for k, v in vars(record).items() if k not in logging.makeLogRecord({}).__dict__}
        text = record.getMessage() + repr(fields) + repr(record.args)
        assert guest.token[:20] not in text
        assert guest.pin not in text
