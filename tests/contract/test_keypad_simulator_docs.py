"""docs/keypad-simulator.md stays true: its API table names every route, its fault table every
knob, and its curl examples run against a real hub."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute

from doorpin.adapters.locks.simulator import Hub, create_app, start_hub_in_thread
from doorpin.adapters.locks.simulator.app import FaultsBody

PAGE = (Path(__file__).resolve().parents[2] / "docs" / "keypad-simulator.md").read_text(encoding="utf-8")


def curl_examples() -> list[str]:
    blocks = re.findall(r"^```sh\n(.*?)^```", PAGE, re.DOTALL | re.MULTILINE)
    joined = "\n".join(blocks).replace("\\\n", " ")
    return [line.split("  #")[0].strip() for line in joined.splitlines() if line.strip().startswith("curl ")]


def test_every_route_is_in_the_api_table() -> None:
    routes = [route for route in create_app(Hub()).routes if isinstance(route, APIRoute)]
    assert len(routes) >= 15
    for route in routes:
        for method in route.methods:
            documented = f"`{method} {route.path}`" in PAGE or re.search(
                rf"`{method} {re.escape(route.path)}` / |/ `{method} {re.escape(route.path)}`", PAGE
            )
            assert documented, f"{method} {route.path} is not in docs/keypad-simulator.md"


def test_every_fault_knob_is_documented() -> None:
    for knob in FaultsBody.model_fields:
        assert f"`{knob}" in PAGE or f"`{knob}:" in PAGE or f", `{knob}" in PAGE, knob


@pytest.fixture(scope="module")
def hub_url() -> Iterator[str]:
    running = start_hub_in_thread()
    yield running.base_url
    running.stop()


def test_the_curl_examples_work(hub_url: str) -> None:
    examples = curl_examples()
    assert len(examples) >= 8
    with httpx.Client(timeout=10) as http:
        for example in examples:
            args = shlex.split(example.replace("$HUB", hub_url))[1:]
            method, body, url = "GET", None, None
            while args:
                arg = args.pop(0)
                if arg == "-X":
                    method = args.pop(0)
                elif arg == "-d":
                    body = args.pop(0)
                    method = "POST" if method == "GET" else method
                elif arg == "-H":
                    args.pop(0)
                else:
                    url = arg
            assert url is not None, example
            response = http.request(method, url, content=body, headers={"Content-Type": "application/json"})
            assert response.is_success, (example, response.text)
        assert http.get(f"{hub_url}/locks/room-101").json()["code_lengths"] == [6]
