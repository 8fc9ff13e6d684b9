"""The `doorpin` command line, run as real processes (API.md, "Command line")."""

from __future__ import annotations

import json
import re
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.server import (
    SECRET_KEY,
    Account,
    LiveServer,
    describe,
    doorpin_command,
    doorpin_env,
    free_port,
    fresh_database,
    run_doorpin,
    secret_key_for,
)

pytestmark = pytest.mark.e2e


def assert_one_clear_line(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Start-up refused: non-zero exit, exactly one line on stderr naming the fix, no traceback."""
    assert result.returncode != 0, describe(result)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, describe(result)
    assert "Traceback" not in result.stderr + result.stdout, describe(result)
    assert result.stdout == "", describe(result)
    for needle in needles:
        assert needle in lines[0], describe(result)
    return lines[0]


def secret_of(api_key: str) -> str:
    """The secret part of `dpk_key_<id>_<secret>` (the key id is public, the rest is not)."""
    prefix, kind, key_id, secret = api_key.split("_", 3)
    assert (prefix, kind) == ("dpk", "key"), api_key
    assert key_id, api_key
    assert len(secret) >= 32, api_key
    return secret


# --- account create ------------------------------------------------------------------------------


def test_account_create_json_prints_the_account_and_a_working_key(live_server: LiveServer) -> None:
    result = live_server.run("account", "create", "acme", "--json")

    assert result.returncode == 0, describe(result)
    assert result.stdout.endswith("\n"), describe(result)
    assert result.stdout.count("\n") == 1, describe(result)
    body = json.loads(result.stdout)
    assert set(body) == {"account_id", "api_key"}, body
    assert body["account_id"].startswith("acct_")
    acme = Account(body["account_id"], body["api_key"])

    empty = live_server.request("GET", "/v1/properties", acme)
    assert empty.status_code == 200, empty.text
    assert empty.json() == {"data": [], "next_cursor": None}
    created = live_server.request("POST", "/v1/properties", acme, json={"name": "Acme", "timezone": "Europe/Lisbon"})
    assert created.status_code == 201, created.text
    listed = live_server.request("GET", "/v1/properties", acme).json()
    assert [p["id"] for p in listed["data"]] == [created.json()["id"]]
    keys = live_server.request("GET", "/v1/api-keys", acme).json()["data"]
    assert [k["scopes"] for k in keys] == [["admin"]]


def _database_text(server: LiveServer) -> bytes:
    """Everything the database holds, as bytes: the SQLite files, or every PostgreSQL row as text."""
    if server.sqlite_path is not None:
        files = sorted(server.sqlite_path.parent.glob(server.sqlite_path.name + "*"))
        files = [f for f in files if not f.name.endswith(".key")]
        assert server.sqlite_path in files
        return b"".join(f.read_bytes() for f in files)
    engine = create_engine(server.database_url)
    try:
        with engine.connect() as connection:
            tables = connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars()
            rows = [
                row
                for table in list(tables)
                for row in connection.execute(text(f'SELECT CAST(t AS text) FROM "{table}" t')).scalars()
            ]
    finally:
        engine.dispose()
    return "\n".join(rows).encode()


def test_api_key_secret_is_stored_nowhere_and_never_logged(live_server: LiveServer) -> None:
    acme = live_server.new_account("secretive")
    secret = secret_of(acme.api_key)
    key_id = "key_" + acme.api_key.split("_", 3)[2]
    assert live_server.request("GET", "/v1/properties", acme).status_code == 200
    assert live_server.request("POST", "/v1/properties", acme, json={"name": "X", "timezone": "UTC"}).status_code == 201
    # A wrong secret for the same key id: refused, and not logged either.
    wrong = Account(acme.account_id, acme.api_key[:-4] + "AAAA")
    assert live_server.request("GET", "/v1/properties", wrong).status_code == 401

    stored = _database_text(live_server)
    assert key_id.encode() in stored, "the key's row is not where this test looks for it"
    assert secret.encode() not in stored
    assert secret[:16].encode() not in stored
    log = live_server.log_text()
    assert "/v1/properties" in log, "the request log is not where this test looks for it"
    assert secret not in log
    assert secret_of(wrong.api_key) not in log


def test_a_key_of_another_account_gets_404_on_this_accounts_resources(live_server: LiveServer) -> None:
    owner = live_server.new_account("owner")
    stranger = live_server.new_account("stranger")
    prop = live_server.request("POST", "/v1/properties", owner, json={"name": "Mine", "timezone": "Europe/Lisbon"})
    assert prop.status_code == 201, prop.text
    pid = prop.json()["id"]
    lock = live_server.request("POST", f"/v1/properties/{pid}/locks", owner, json={"name": "Door"}).json()
    unit = live_server.request(
        "POST", f"/v1/properties/{pid}/units", owner, json={"name": "Flat 1", "lock_ids": [lock["id"]]}
    ).json()
    stay = live_server.request(
        "POST",
        "/v1/reservations",
        owner,
        json={"property_id": pid, "unit_id": unit["id"], "check_in": "2026-10-24", "check_out": "2026-10-26"},
    )
    assert stay.status_code == 201, stay.text

    paths = [
        f"/v1/properties/{pid}",
        f"/v1/properties/{pid}/units",
        f"/v1/properties/{pid}/locks",
        f"/v1/units/{unit['id']}",
        f"/v1/locks/{lock['id']}",
        f"/v1/reservations/{stay.json()['id']}",
    ]
    for path in paths:
        assert live_server.request("GET", path, owner).status_code == 200, path
        theirs = live_server.request("GET", path, stranger)
        assert theirs.status_code == 404, (path, theirs.text)
        assert theirs.json()["error"]["code"] == "not_found"
    renamed = live_server.request("PATCH", f"/v1/properties/{pid}", stranger, json={"name": "Stolen"})
    assert renamed.status_code == 404, renamed.text
    assert live_server.request("GET", f"/v1/properties/{pid}", owner).json()["name"] == "Mine"
    assert live_server.request("GET", "/v1/properties", stranger).json()["data"] == []
    filtered = live_server.request("GET", f"/v1/reservations?property_id={pid}", stranger)
    assert filtered.status_code == 404, filtered.text


# --- start-up refusals ---------------------------------------------------------------------------


def test_serve_and_worker_refuse_a_database_that_was_never_upgraded(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        env = doorpin_env(url, secret_key_for(backend))
        commands = {
            "serve": ["serve", "--no-worker", "--host", "127.0.0.1", "--port", str(free_port())],
            "worker": ["worker"],
        }
        running = {
            name: subprocess.Popen(
                [*doorpin_command(), *args], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            for name, args in commands.items()
        }
        for name, process in running.items():
            try:
                out, err = process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
                pytest.fail(f"doorpin {name} started on a database that was never upgraded")
            result = subprocess.CompletedProcess(commands[name], process.returncode, out.decode(), err.decode())
            assert_one_clear_line(result, "doorpin db upgrade")


BAD_SETTINGS = {
    "unknown-database": ({"DOORPIN_DATABASE_URL": "mysql://x"}, "DOORPIN_DATABASE_URL"),
    "loud-log-level": ({"DOORPIN_LOG_LEVEL": "loud"}, "DOORPIN_LOG_LEVEL"),
    "xml-log-format": ({"DOORPIN_LOG_FORMAT": "xml"}, "DOORPIN_LOG_FORMAT"),
    "short-secret": ({"DOORPIN_SECRET_KEY": "short"}, "DOORPIN_SECRET_KEY"),
    "ftp-base-url": ({"DOORPIN_BASE_URL": "ftp://doors.example"}, "DOORPIN_BASE_URL"),
    "http-smtp-url": ({"DOORPIN_SMTP_URL": "http://mail.example"}, "DOORPIN_SMTP_URL"),
    # PostgreSQL is shared by many processes: they must share the key, so there is no key file.
    "postgresql-without-secret": (
        {"DOORPIN_DATABASE_URL": "postgresql+psycopg://doorpin@127.0.0.1:9/doorpin", "DOORPIN_SECRET_KEY": ""},
        "DOORPIN_SECRET_KEY",
    ),
    "libpq-url-without-secret": (
        {"DOORPIN_DATABASE_URL": "postgresql://doorpin@127.0.0.1:9/doorpin", "DOORPIN_SECRET_KEY": ""},
        "DOORPIN_SECRET_KEY",
    ),
}


@pytest.mark.parametrize(("settings", "variable"), BAD_SETTINGS.values(), ids=BAD_SETTINGS.keys())
def test_invalid_configuration_stops_serve_with_one_line(
    settings: dict[str, str], variable: str, tmp_path: Path
) -> None:
    env = doorpin_env(f"sqlite:///{tmp_path / 'doorpin.db'}", SECRET_KEY, **settings)
    result = run_doorpin(["serve", "--no-worker", "--port", str(free_port())], env, tmp_path, timeout=30)
    line = assert_one_clear_line(result, variable)
    assert line.startswith("doorpin: ")
    assert not (tmp_path / "doorpin.db").exists(), "a refused start-up must not create a database"


def test_every_command_checks_its_configuration_first(tmp_path: Path) -> None:
    env = doorpin_env(f"sqlite:///{tmp_path / 'doorpin.db'}", SECRET_KEY, DOORPIN_LOG_LEVEL="loud")
    commands = [["db", "upgrade"], ["worker"], ["account", "create", "acme", "--json"], ["demo", "--no-serve"]]
    running = [
        (
            args,
            subprocess.Popen(
                [*doorpin_command(), *args], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            ),
        )
        for args in commands
    ]
    for args, process in running:
        out, err = process.communicate(timeout=60)
        assert_one_clear_line(
            subprocess.CompletedProcess(args, process.returncode, out.decode(), err.decode()), "DOORPIN_LOG_LEVEL"
        )


# --- the database and the key file ---------------------------------------------------------------


def test_db_upgrade_twice_is_fine(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        env = doorpin_env(url, secret_key_for(backend))
        first = run_doorpin(["db", "upgrade"], env, tmp_path)
        assert first.returncode == 0, describe(first)
        assert re.search(r"upgraded from empty to \S+", first.stderr), describe(first)
        second = run_doorpin(["db", "upgrade"], env, tmp_path)
        assert second.returncode == 0, describe(second)
        revision = first.stderr.split()[-1]
        assert f"already at revision {revision}" in second.stderr, describe(second)


def test_sqlite_key_file_is_created_private_and_refused_when_it_is_not(tmp_path: Path) -> None:
    env = doorpin_env(f"sqlite:///{tmp_path / 'doorpin.db'}", secret_key=None)
    key_file = tmp_path / "doorpin.db.key"
    upgraded = run_doorpin(["db", "upgrade"], env, tmp_path)
    assert upgraded.returncode == 0, describe(upgraded)
    assert not key_file.exists()

    created = run_doorpin(["account", "create", "acme", "--json"], env, tmp_path)
    assert created.returncode == 0, describe(created)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip()) >= 32

    key_file.chmod(0o644)
    refused = run_doorpin(["account", "create", "other", "--json"], env, tmp_path)
    assert_one_clear_line(refused, str(key_file), "chmod 600")


def test_the_live_sqlite_servers_key_file_is_private(live_server: LiveServer) -> None:
    if live_server.sqlite_path is None:
        assert "DOORPIN_SECRET_KEY" in live_server.env  # PostgreSQL: the key comes from the environment
        return
    assert "DOORPIN_SECRET_KEY" not in live_server.env
    key_file = live_server.sqlite_path.with_name(live_server.sqlite_path.name + ".key")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # Server and CLI agree on the key: the fixture's key, made by the CLI, works on the server.
    assert live_server.request("GET", "/v1/api-keys").status_code == 200


# --- worker --------------------------------------------------------------------------------------


def test_worker_starts_and_stops_cleanly_on_sigterm(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        env = doorpin_env(url, secret_key_for(backend))
        upgraded = run_doorpin(["db", "upgrade"], env, tmp_path)
        assert upgraded.returncode == 0, describe(upgraded)
        log_path = tmp_path / "worker.log"
        with log_path.open("wb") as log_file:
            worker = subprocess.Popen(
                [*doorpin_command(), "worker"], env=env, cwd=tmp_path, stdout=log_file, stderr=subprocess.STDOUT
            )
        try:
            deadline = time.monotonic() + 20
            while "started" not in log_path.read_text() and worker.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert worker.poll() is None, f"the worker exited on its own:\n{log_path.read_text()}"
            assert re.search(r"worker .*started", log_path.read_text()), log_path.read_text()
            worker.send_signal(signal.SIGTERM)
            code = worker.wait(timeout=15)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        log = log_path.read_text()
        assert code == 0, log
        assert "stopped" in log, log
        assert "Traceback" not in log, log
        assert " ERROR " not in log, log


# --- demo ----------------------------------------------------------------------------------------


def _demo(server: LiveServer) -> tuple[str, Account]:
    result = server.run("demo", "--no-serve")
    assert result.returncode == 0, describe(result)
    prop = re.search(r"\b(prop_[0-9a-z]+)\b", result.stdout)
    key = re.search(r"\b(dpk_key_\S+)", result.stdout)
    assert prop, describe(result)
    assert key, describe(result)
    return prop.group(1), Account("", key.group(1))


def test_demo_loads_a_property_readable_over_http_and_only_once(live_server: LiveServer) -> None:
    pid, demo = _demo(live_server)

    prop = live_server.request("GET", f"/v1/properties/{pid}", demo)
    assert prop.status_code == 200, prop.text
    units = live_server.request("GET", f"/v1/properties/{pid}/units", demo).json()["data"]
    locks = live_server.request("GET", f"/v1/properties/{pid}/locks", demo).json()["data"]
    stays = live_server.request("GET", f"/v1/reservations?property_id={pid}", demo).json()["data"]
    assert len(units) >= 2
    assert any(lock["unit_ids"] == [] for lock in locks), "no common entrance among the demo's locks"
    assert all(unit["lock_ids"] for unit in units), "every demo unit has its own door"
    assert len(stays) >= 2
    assert {stay["unit_id"] for stay in stays} <= {unit["id"] for unit in units}

    again, demo_again = _demo(live_server)
    assert again == pid
    assert demo_again.api_key != demo.api_key
    properties = live_server.request("GET", "/v1/properties", demo_again).json()["data"]
    assert [p["id"] for p in properties] == [pid]
    assert len(live_server.request("GET", f"/v1/reservations?property_id={pid}", demo_again).json()["data"]) == len(
        stays
    )
