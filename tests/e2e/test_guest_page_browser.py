"""The guest page in a real browser: the OS's Chromium, driven by Playwright, on a phone-sized screen,
against a real `doorpin serve` on SQLite and PostgreSQL.

Only the Chromium of the operating system is used (Debian's `chromium` package), never a browser
downloaded by Playwright. Without it on PATH the test fails under CI=true and is skipped locally.
The guest token is read as the message sender reads it: `ensure_guest_token` with the server's key.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    BrowserContext,
    Playwright,
    ViewportSize,
    expect,
    sync_playwright,
)

from doorpin.adapters.db.engine import Database
from doorpin.adapters.db.models import Reservation
from doorpin.adapters.pin_vault import PinVault
from doorpin.config import load_settings
from doorpin.keyring import load_keyring
from doorpin.services.clock import SystemClock
from doorpin.services.guest_messages import ensure_guest_token
from tests.e2e.server import LiveServer

pytestmark = pytest.mark.e2e

PHONE: ViewportSize = {"width": 375, "height": 812}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def os_chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = (
            "chromium is not on PATH: the guest page browser test drives the OS Chromium "
            "(Debian: apt-get install chromium; .ci/run installs it)"
        )
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    executable = os_chromium()
    assert executable
    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def phone(playwright: Playwright, tmp_path: Path) -> Iterator[BrowserContext]:
    """A fresh browser profile on a 375×812 touch screen."""
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "chromium-profile"),
        executable_path=os_chromium(),
        args=CHROMIUM_ARGS,
        headless=True,
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="de-DE",
    )
    try:
        yield context
    finally:
        context.close()


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def guest_token(server: LiveServer, stay_id: str) -> str:
    """The stay's guest token, through the service layer with the server's own database and key."""
    settings = load_settings(server.env)
    db = Database.from_url(settings.database_url)
    try:
        with db.transaction() as session:
            stay = session.get(Reservation, (server.admin.account_id, stay_id))
            assert stay is not None
            return ensure_guest_token(session, PinVault(load_keyring(settings)), stay, SystemClock().now())
    finally:
        db.dispose()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def test_the_guest_page_shows_the_code_on_a_phone_and_not_after_the_stay(
    playwright: Playwright, phone: BrowserContext, live_server: LiveServer, tmp_path: Path
) -> None:
    # (`playwright` first: without Chromium the test stops before a server is started for it.)
    server = live_server
    prop = _ok(server.request("POST", "/v1/properties", json={"name": "Haus am See", "timezone": "Europe/Berlin"}), 201)
    pid = prop["id"]
    _ok(server.request("POST", f"/v1/properties/{pid}/locks", json={"name": "Haustür"}), 201)
    door = _ok(server.request("POST", f"/v1/properties/{pid}/locks", json={"name": "Wohnung 3"}), 201)
    unit = _ok(
        server.request("POST", f"/v1/properties/{pid}/units", json={"name": "Wohnung 3", "lock_ids": [door["id"]]}),
        201,
    )
    stay = _ok(
        server.request(
            "POST",
            "/v1/reservations",
            json={
                "property_id": pid,
                "unit_id": unit["id"],
                "check_in": "2030-06-14",
                "check_out": "2030-06-16",
                "guest": {"name": "Jonas Weber", "language": "de"},
            },
        ),
        201,
    )
    pin = stay["access"]["pin"]
    assert re.fullmatch(r"\d{4,8}", pin), stay["access"]
    token = guest_token(server, stay["id"])

    problems: list[str] = []
    page = phone.new_page()
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    response = page.goto(f"{server.base_url}/g/{token}")
    assert response is not None
    assert response.status == 200
    headers = response.headers
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in headers["content-security-policy"]

    code = page.get_by_test_id("pin")
    expect(code).to_be_visible()
    assert code.inner_text() == pin, "copied from the page, the code is its bare digits"
    groups = code.locator("span").all_inner_texts()
    assert len(groups) == 2, groups
    assert "".join(groups) == pin
    first, second = (code.locator("span").nth(i).bounding_box() for i in (0, 1))
    assert first is not None
    assert second is not None
    assert second["x"] - (first["x"] + first["width"]) >= 10, "the groups are visibly apart"
    expect(page.get_by_test_id("doors").get_by_text("Wohnung 3", exact=True)).to_be_visible()
    expect(page.get_by_test_id("doors").get_by_text("Haustür", exact=True)).to_be_visible()
    window = page.get_by_test_id("window")
    # Check-in 15:00 and check-out 11:00 on Berlin's wall clock (CEST), in the guest's language.
    expect(window.get_by_text("Freitag, 14. Juni 2030, 15:00 Uhr")).to_be_visible()
    expect(window.get_by_text("Sonntag, 16. Juni 2030, 11:00 Uhr")).to_be_visible()
    expect(page.get_by_role("heading", name="Ihr Türcode")).to_be_visible()

    # Large and on screen: the style applied (so the CSP lets it in), nothing wider than the phone.
    font_px = float(code.evaluate("element => getComputedStyle(element).fontSize").removesuffix("px"))
    assert font_px >= 40, f"the PIN should be large, got {font_px}px"
    box = code.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling"
    assert not [p for p in problems if "Content Security Policy" in p], problems

    shot = tmp_path / "guest-page.png"
    page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    width, height = png_size(data)
    assert width == PHONE["width"] * 2, "the phone's width at device scale factor 2"
    assert height >= PHONE["height"] * 2 - 2
    assert len(data) > 10_000

    # After the stay: its dates move into the past, and the page shows no code any more.
    _ok(
        server.request(
            "PATCH", f"/v1/reservations/{stay['id']}", json={"check_in": "2020-03-10", "check_out": "2020-03-12"}
        )
    )
    after = page.reload()
    assert after is not None
    assert after.status == 404
    expect(page.get_by_role("heading", name="Seite nicht gefunden")).to_be_visible()
    expect(page.get_by_test_id("pin")).to_have_count(0)
    shown = page.inner_text("body")
    assert pin not in shown
    assert "Haus am See" not in page.content()

    log = server.log_text()
    assert token not in log, "the token (in the page's path) must never be logged"
    assert "/g/{token}" in log
