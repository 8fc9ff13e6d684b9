"""Shared fixtures. Every test that touches the database runs on SQLite and on PostgreSQL.

PostgreSQL tests need `DOORPIN_TEST_POSTGRES_URL` (an admin URL on a throwaway server; `.ci/run`
starts one). Without it they are skipped locally, and under CI=true the run fails instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from doorpin.adapters.db.engine import Database
from doorpin.bootstrap import AppServices
from doorpin.entrypoints.api.app import create_app
from doorpin.keyring import Keyring
from tests.support.api import Tenant, new_tenant
from tests.support.clock import FakeClock
from tests.support.databases import (
    create_postgres_database,
    drop_postgres_database,
    migrated_sqlite_template,
    postgres_admin_url,
    sqlite_copy,
    truncate_all,
)

BACKENDS = ["sqlite", "postgresql"]
TEST_SECRET = "test-secret-key-0123456789abcdef0123456789abcdef"


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("CI") and postgres_admin_url() is None:
        raise pytest.UsageError("CI is set but DOORPIN_TEST_POSTGRES_URL is not: PostgreSQL tests would not run")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def postgres_session_url() -> Iterator[str]:
    """One migrated database per test session (per xdist worker), emptied between tests."""
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip("PostgreSQL not configured: set DOORPIN_TEST_POSTGRES_URL (CI does)")
    from doorpin.adapters.db import migrate
    from doorpin.adapters.db.engine import make_engine

    url = create_postgres_database(admin, "it")
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    drop_postgres_database(admin, url)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a migrated, empty database of the current backend."""
    if backend == "sqlite":
        return sqlite_copy(request.getfixturevalue("sqlite_template"), tmp_path)
    url: str = request.getfixturevalue("postgres_session_url")
    db = Database.from_url(url)
    truncate_all(db)
    db.dispose()
    return url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database.from_url(database_url)
    yield db
    db.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def keyring() -> Keyring:
    return Keyring(TEST_SECRET.encode())


@pytest.fixture
def services(database: Database, keyring: Keyring, clock: FakeClock) -> AppServices:
    return AppServices(db=database, keyring=keyring, clock=clock)


@pytest.fixture
def client(services: AppServices) -> Iterator[TestClient]:
    with TestClient(create_app(services), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def tenant(services: AppServices, client: TestClient) -> Tenant:
    return new_tenant(services, client, "acme")


@pytest.fixture
def other_tenant(services: AppServices, client: TestClient) -> Tenant:
    return new_tenant(services, client, "globex")
