"""Throwaway databases for tests: a migrated SQLite file or a fresh PostgreSQL database."""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from doorpin.adapters.db import migrate
from doorpin.adapters.db.engine import Database, make_engine
from doorpin.adapters.db.schema import Base
from doorpin.config import with_psycopg_driver

POSTGRES_ENV = "DOORPIN_TEST_POSTGRES_URL"


def postgres_admin_url() -> str | None:
    value = os.environ.get(POSTGRES_ENV, "").strip()
    return with_psycopg_driver(value) if value else None


def create_postgres_database(admin_url: str, label: str = "t") -> str:
    """A new, empty database on the test server; returns its URL."""
    name = f"doorpin_{label}_{secrets.token_hex(5)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def migrated_sqlite_template(directory: Path) -> Path:
    path = directory / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


def sqlite_copy(template: Path, directory: Path) -> str:
    target = directory / "doorpin.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def truncate_all(database: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in reversed(Base.metadata.sorted_tables))
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
