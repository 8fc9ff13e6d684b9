"""The `doorpin` command line."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import typer
from rich.console import Console

from doorpin.adapters.db import migrate
from doorpin.adapters.db.engine import Database
from doorpin.bootstrap import AppServices, build_services
from doorpin.config import ConfigError, Settings, load_settings
from doorpin.domain.errors import DomainError
from doorpin.entrypoints.cli.embedded_hub import with_embedded_hub
from doorpin.logs import configure_logging
from doorpin.services import accounts
from doorpin.worker.runner import Worker

app = typer.Typer(help="doorpin: door PINs for hotels and rentals.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
account_app = typer.Typer(help="Accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(account_app, name="account")

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)
log = logging.getLogger("doorpin.cli")


@contextlib.contextmanager
def _graceful_shutdown_signals() -> Iterator[None]:
    """Let uvicorn's graceful shutdown on SIGTERM/SIGINT end in our cleanup, not in death.

    After shutting down, uvicorn raises the signal again for the handler installed before it;
    with the default one the process would die right there: the worker thread killed in the
    middle of a lock command, the database pool never closed, and exit status -15. This handler
    absorbs that repeat (the shutdown it asks for is already done), so `serve` exits 0.
    """
    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda _signum, _frame: None) for sig in handled}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _settings() -> Settings:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _serve(settings: Settings, services: AppServices, host: str, port: int, with_worker: bool) -> None:
    # Imported here: the web stack takes most of a second to import, and no other command needs it.
    import uvicorn

    from doorpin.entrypoints.api.app import create_app

    services, stop_hub = with_embedded_hub(settings, services)
    worker = Worker(services) if with_worker else None
    thread = threading.Thread(target=worker.run_forever, name="doorpin-worker", daemon=True) if worker else None
    if thread is not None:
        thread.start()
    # No access log: it would print raw paths, and a guest page's path holds its token. No proxy
    # headers: uvicorn would believe X-Forwarded-For from 127.0.0.1; doorpin reads it itself,
    # only from DOORPIN_TRUSTED_PROXIES (docs/guest-page.md).
    config = uvicorn.Config(
        create_app(services), host=host, port=port, log_config=None, access_log=False, proxy_headers=False
    )
    try:
        with _graceful_shutdown_signals():
            uvicorn.Server(config).run()
    finally:
        if worker is not None and thread is not None:
            worker.stop()
            thread.join(timeout=10)
        stop_hub()
        services.db.dispose()


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
    no_worker: bool = typer.Option(False, "--no-worker", help="Do not run the background worker in this process."),
) -> None:
    """Serve the API, dashboard and guest pages (and the worker, unless --no-worker)."""
    settings = _settings()
    _serve(settings, build_services(settings), host, port, with_worker=not no_worker)


@app.command()
def worker() -> None:
    """Run the background worker until SIGTERM or Ctrl-C."""
    services = build_services(_settings())
    runner = Worker(services)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        runner.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        runner.run_forever()
    finally:
        services.db.dispose()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations to the configured database."""
    settings = _settings()
    db = Database.from_url(settings.database_url)
    try:
        before = migrate.current_revision(db.engine)
        migrate.upgrade(db.engine)
        after = migrate.current_revision(db.engine)
    finally:
        db.dispose()
    if before == after:
        err.print(f"database already at revision {after}")
    else:
        err.print(f"database upgraded from {before or 'empty'} to {after}")


@account_app.command("create")
def account_create(
    name: str = typer.Argument(..., help="The account's name, e.g. the operator's company."),
    as_json: bool = typer.Option(False, "--json", help='Print {"account_id", "api_key"} as JSON.'),
) -> None:
    """Create an account and its first admin API key (shown once)."""
    services = build_services(_settings())
    try:
        with services.db.transaction() as session:
            account, issued = accounts.create_account(session, services.keyring, services.clock, name)
    finally:
        services.db.dispose()
    if as_json:
        sys.stdout.write(json.dumps({"account_id": account.id, "api_key": issued.token}) + "\n")
    else:
        out.print(f"account [bold]{account.id}[/] created")
        out.print(f"admin API key (shown only now): [bold]{issued.token}[/]")


@app.command()
def demo(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
    no_serve: bool = typer.Option(False, "--no-serve", help="Load the demo data and exit."),
) -> None:
    """Load a demo property (entrance, rooms with their own locks, stays) and serve it."""
    from doorpin.entrypoints.cli.demo_data import load_demo

    settings = _settings()
    db = Database.from_url(settings.database_url)
    try:
        migrate.upgrade(db.engine)
    finally:
        db.dispose()
    services = build_services(settings)
    info = load_demo(services)
    base = f"http://{host}:{port}"
    out.print(("Demo property created: " if info.created else "Demo property: ") + info.property_id)
    out.print(f"Admin API key (new each run): [bold]{info.api_key}[/]")
    out.print(f"Try: curl -H 'Authorization: Bearer {info.api_key}' {base}/v1/reservations")
    out.print(f"API docs: {base}/docs")
    if no_serve:
        services.db.dispose()
        return
    _serve(settings, services, host, port, with_worker=True)


@app.command("simulate-locks")
def simulate_locks(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8787, min=0, max=65535, help="Port to listen on (0: any free port, printed at start)."),
    state: Path | None = typer.Option(None, "--state", help="SQLite file keeping codes and events across restarts."),
    seed: int | None = typer.Option(None, "--seed", help="Seed the fault-injection randomness."),
) -> None:
    """Serve a simulated keypad lock hub (docs/keypad-simulator.md) until Ctrl-C."""
    from doorpin.adapters.locks.simulator import serve_hub

    configure_logging("INFO", "text")
    serve_hub(host, port, state, seed)


def main() -> None:
    try:
        app()
    except (ConfigError, DomainError) as exc:
        err.print(f"doorpin: {exc}", highlight=False, markup=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
