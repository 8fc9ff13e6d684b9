"""`python -m benchmarks`: run every benchmark on SQLite (and PostgreSQL when configured), print one JSON document.

PostgreSQL runs when DOORPIN_TEST_POSTGRES_URL names an admin URL on a throwaway server (as for
the tests): a fresh database is created for the run and dropped afterwards.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text

from benchmarks import allocation, lock_sync
from doorpin.adapters.db import migrate
from doorpin.adapters.db.engine import Database
from doorpin.config import with_psycopg_driver

POSTGRES_ENV = "DOORPIN_TEST_POSTGRES_URL"


def _postgres_admin_url() -> str | None:
    value = os.environ.get(POSTGRES_ENV, "").strip()
    return with_psycopg_driver(value) if value else None


def on_sqlite(bench: Callable[[Database], dict[str, Any]]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="doorpin-bench-") as directory:
        db = Database.from_url(f"sqlite:///{Path(directory) / 'bench.db'}")
        try:
            migrate.upgrade(db.engine)
            with db.engine.connect() as connection:
                pragmas = {
                    name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                    for name in ("journal_mode", "synchronous")
                }
            return {"database": {"engine": "sqlite", **pragmas}, **bench(db)}
        finally:
            db.dispose()


def on_postgresql(bench: Callable[[Database], dict[str, Any]]) -> dict[str, Any]:
    admin_url = _postgres_admin_url()
    if admin_url is None:
        return {"skipped": f"{POSTGRES_ENV} is not set: no PostgreSQL server to run against"}
    name = f"doorpin_bench_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        db = Database.from_url(make_url(admin_url).set(database=name).render_as_string(hide_password=False))
        try:
            migrate.upgrade(db.engine)
            with db.engine.connect() as connection:
                version = connection.execute(text("SHOW server_version")).scalar()
                commit = connection.execute(text("SHOW synchronous_commit")).scalar()
            return {"database": {"engine": "postgresql", "version": version, "synchronous_commit": commit}, **bench(db)}
        finally:
            db.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> int:
    started = time.perf_counter()
    sync_scale = lock_sync.scale_from_args(sys.argv[1:])  # --full: the 10,000 codes on 1,000 locks
    report: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "benchmarks": {
            "allocation": {
                "description": "stays created through the service layer, one write transaction each, on a lock "
                "holding 90% of its allowed codes; baseline: single-row INSERT transactions on the same database",
                "target": allocation.TARGET,
                "sqlite": on_sqlite(allocation.run),
                "postgresql": on_postgresql(allocation.run),
            },
            "lock_sync": {
                "description": lock_sync.DESCRIPTION,
                "target": lock_sync.TARGET,
                "scale": sync_scale.as_dict(),
                "sqlite": on_sqlite(lambda db: lock_sync.run(db, sync_scale)),
                "postgresql": on_postgresql(lambda db: lock_sync.run(db, sync_scale)),
            },
        },
    }
    report["seconds"] = round(time.perf_counter() - started, 1)
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
