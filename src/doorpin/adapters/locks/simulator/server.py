"""Running the hub: in the foreground for `doorpin simulate-locks`, or in a background thread
on a free port for `doorpin demo`/`serve` and tests."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import uvicorn

from doorpin.adapters.locks.simulator.app import create_app
from doorpin.adapters.locks.simulator.state import Hub


class RunningHub(NamedTuple):
    base_url: str
    stop: Callable[[], None]


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only when proto says TCP,
    # and without it every answer waits ~40 ms for a delayed ACK (Nagle)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _url(host: str, sock: socket.socket) -> str:
    port = sock.getsockname()[1]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _server(hub: Hub) -> uvicorn.Server:
    config = uvicorn.Config(
        create_app(hub),
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    return uvicorn.Server(config)


def start_hub_in_thread(
    state_path: str | Path | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    seed: int | None = None,
    startup_timeout: float = 10.0,
) -> RunningHub:
    """Serve a hub from a daemon thread; `port=0` picks a free port. `stop()` waits for it to end
    (in-flight commands get up to 2 s) and closes the state file, so a new hub can open it."""
    hub = Hub.open(state_path, seed=seed)
    sock = _bind(host, port)
    server = _server(hub)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="keypad-hub", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(timeout=5)
            sock.close()
            hub.close()
            raise RuntimeError("the keypad hub did not start")
        time.sleep(0.01)
    stopped = threading.Event()

    def stop() -> None:
        if stopped.is_set():
            return
        stopped.set()
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        hub.close()

    return RunningHub(_url(host, sock), stop)


def serve_hub(host: str, port: int, state_path: str | Path | None = None, seed: int | None = None) -> None:
    """Serve in the foreground until SIGINT/SIGTERM. Prints one line with the URL first, so a
    parent process can start it with `--port 0` and read where it listens."""
    hub = Hub.open(state_path, seed=seed)
    sock = _bind(host, port)
    where = f"state in {state_path}" if state_path else "in memory only"
    sys.stdout.write(f"keypad hub listening on {_url(host, sock)} ({where})\n")
    sys.stdout.flush()
    try:
        _server(hub).run(sockets=[sock])
    finally:
        sock.close()
        hub.close()
