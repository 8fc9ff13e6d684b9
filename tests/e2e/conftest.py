"""One live server per backend (and per xdist worker), shared by the e2e tests that only read it
or work inside their own account; tests that break a database start their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.server import BACKENDS, LiveServer, fresh_database, running_server, secret_key_for


@pytest.fixture(scope="session", params=BACKENDS)
def live_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    backend = str(request.param)
    workdir = tmp_path_factory.mktemp(f"live-{backend}")
    with (
        fresh_database(backend, workdir) as url,
        running_server(
            backend,
            url,
            workdir,
            secret_key=secret_key_for(backend),
            # JSON logs, so tests can check every line is one object with a request id.
            extra_env={"DOORPIN_LOG_FORMAT": "json"},
        ) as server,
    ):
        yield server
