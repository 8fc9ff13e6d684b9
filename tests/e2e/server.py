"""Real doorpin processes for end-to-end tests: databases, CLI runs and a served API.

Everything here starts the installed `doorpin` command in a subprocess with its configuration in
the environment, exactly as an operator would; nothing of doorpin is imported or patched.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.databases import create_postgres_database, drop_postgres_database, postgres_admin_url

BACKENDS = ["sqlite", "postgresql"]
SECRET_KEY = "e2e-secret-key-0123456789abcdef0123456789abcdef"
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def doorpin_command() -> list[str]:
    """The `doorpin` console script of this interpreter's environment, as users run it."""
    script = Path(sys.executable).parent / "doorpin"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "doorpin.entrypoints.cli.main"]


def doorpin_env(database_url: str, secret_key: str | None = SECRET_KEY, **extra: str) -> dict[str, str]:
    """A clean environment: no DOORPIN_* setting leaks in from the developer's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORPIN_")}
    env["DOORPIN_DATABASE_URL"] = database_url
    if secret_key is not None:
        env["DOORPIN_SECRET_KEY"] = secret_key
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def run_doorpin(
    args: list[str], env: Mapping[str, str], cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*doorpin_command(), *args],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def describe(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


@contextlib.contextmanager
def fresh_database(backend: str, directory: Path) -> Iterator[str]:
    """The URL of a new, empty (never migrated) database; a PostgreSQL one is dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'doorpin.db'}"
        return
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip("PostgreSQL not configured: set DOORPIN_TEST_POSTGRES_URL (CI does)")
    url = create_postgres_database(admin, "e2e")  # a random name: xdist workers never collide
    try:
        yield url
    finally:
        drop_postgres_database(admin, url)


def secret_key_for(backend: str) -> str | None:
    # SQLite runs without DOORPIN_SECRET_KEY, so the key file beside the database is exercised.
    return None if backend == "sqlite" else SECRET_KEY


def _worker_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    digits = "".join(c for c in worker if c.isdigit())
    return int(digits) if digits else 0


def free_port() -> int:
    """A free port from this xdist worker's own block, below the kernel's ephemeral range.

    Workers draw from disjoint blocks, so two workers never pick the same port; the bind test
    skips ports other programs hold, and `running_server` retries if one is taken meanwhile.
    """
    block = 20_000 + (_worker_index() % 12) * 1_000
    candidates = list(range(block, block + 1_000))
    random.shuffle(candidates)
    for port in candidates:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {block}-{block + 999}")


@dataclass(frozen=True)
class Account:
    account_id: str
    api_key: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def create_account(name: str, env: Mapping[str, str], cwd: Path) -> Account:
    result = run_doorpin(["account", "create", name, "--json"], env, cwd)
    assert result.returncode == 0, describe(result)
    body = json.loads(result.stdout)
    return Account(body["account_id"], body["api_key"])


@dataclass
class LiveServer:
    """A running `doorpin serve` and the account the fixture made for it."""

    backend: str
    base_url: str
    database_url: str
    env: dict[str, str]
    workdir: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    admin: Account = field(init=False)
    http: httpx.Client = field(init=False)

    @property
    def admin_key(self) -> str:
        return self.admin.api_key

    @property
    def sqlite_path(self) -> Path | None:
        prefix = "sqlite:///"
        return Path(self.database_url[len(prefix) :]) if self.database_url.startswith(prefix) else None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def new_account(self, name: str) -> Account:
        """A fresh account, made with `doorpin account create` against this server's database."""
        return create_account(name, self.env, self.workdir)

    def request(self, method: str, path: str, account: Account | None = None, **kwargs: Any) -> httpx.Response:
        headers = {**(account or self.admin).auth, **kwargs.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kwargs)

    def run(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        """Another doorpin command against this server's database and key."""
        return run_doorpin(list(args), {**self.env, **extra_env}, self.workdir)


def _wait_until_healthy(process: subprocess.Popen[bytes], base_url: str, log_path: Path) -> str | None:
    """None once /healthz answers 200; else why not (with the server's log)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"doorpin serve exited with {process.returncode}:\n{log_path.read_text(errors='replace')}"
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/healthz", timeout=1.0).status_code == 200:
                return None
        time.sleep(0.05)
    return (
        f"doorpin serve did not answer /healthz within {STARTUP_TIMEOUT:.0f} s:\n{log_path.read_text(errors='replace')}"
    )


def stop_process(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
    return process.returncode


@contextlib.contextmanager
def running_server(
    backend: str,
    database_url: str,
    workdir: Path,
    *,
    secret_key: str | None = SECRET_KEY,
    extra_env: Mapping[str, str] | None = None,
    account_name: str = "e2e",
    with_worker: bool = False,
) -> Iterator[LiveServer]:
    """`doorpin db upgrade`, then `doorpin serve --no-worker` on a free port until the block ends.

    Yields once /healthz answers, with a fresh account's admin key (`doorpin account create`).
    On exit: SIGTERM, a bounded wait, SIGKILL if needed; `process.returncode` tells how it ended.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    env = doorpin_env(database_url, secret_key, **(extra_env or {}))
    upgraded = run_doorpin(["db", "upgrade"], env, workdir)
    assert upgraded.returncode == 0, describe(upgraded)
    for attempt in range(5):
        port = free_port()
        log_path = workdir / f"serve-{port}.log"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [
                    *doorpin_command(),
                    "serve",
                    *([] if with_worker else ["--no-worker"]),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                env=env,
                cwd=workdir,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        base_url = f"http://127.0.0.1:{port}"
        problem = _wait_until_healthy(process, base_url, log_path)
        if problem is None:
            break
        stop_process(process)
        if "address already in use" in problem.lower() and attempt < 4:
            continue  # another program took the port between our probe and the server's bind
        pytest.fail(problem, pytrace=False)
    server = LiveServer(backend, base_url, database_url, env, workdir, log_path, process)
    try:
        server.admin = server.new_account(account_name)
        with httpx.Client(base_url=base_url, timeout=30.0) as client:
            server.http = client
            yield server
    finally:
        stop_process(process)


@contextlib.contextmanager
def serving_with_worker(
    backend: str, tmp_path_factory: pytest.TempPathFactory, label: str, extra_env: Mapping[str, str] | None = None
) -> Iterator[LiveServer]:
    """`doorpin serve` with its embedded worker (and simulated keypad hub) on a fresh database."""
    workdir: Path = tmp_path_factory.mktemp(f"{label}-{backend}")
    with (
        fresh_database(backend, workdir) as url,
        running_server(
            backend, url, workdir, secret_key=secret_key_for(backend), with_worker=True, extra_env=extra_env
        ) as server,
    ):
        yield server


def call(server: LiveServer, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
    """One API call with the server's admin key; its JSON answer (None when it has no body)."""
    response = server.request(method, path, json=body)
    assert response.status_code == expect, response.text
    return response.json() if response.content else None


def eventually(check: Callable[[], Any], what: str, deadline_seconds: float = 30.0) -> Any:
    """`check()` until it answers something truthy (returned), failing the test after the deadline."""
    deadline = time.monotonic() + deadline_seconds
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.25)
    pytest.fail(f"{what} did not happen within {deadline_seconds:g} s (last seen: {last!r})")
