"""While the database is down the API answers 503 at once (not after the pool's 10 s wait), counts
and logs it as 503 (not 500), and serves again once the database is back. An embedded server of
the test's own is stopped and started (the session's server is shared).

"At once" is checked by what the service does, not by a stopwatch (which flakes on a loaded
machine): no request waits on the pool longer than the first short wait, and once the outage is
known, requests do not wait on the pool at all."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from api.api_practice import local
from api.conftest import METRICS, base_settings, load_practices
from faults.restart_faults import restartable_server
from litestar.testing import TestClient

from slotoptim.api.app import create_app
from slotoptim.api.db import FIRST_WAIT_SECONDS, PROBE_EVERY_SECONDS, Database
from slotoptim.api.logs import LOGGER_NAME, JsonFormatter
from slotoptim.migrations.migrate import migrate


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def api_log() -> Iterator[_Lines]:
    """The API's JSON log lines, as they would reach standard error."""
    handler = _Lines()
    logging.getLogger(LOGGER_NAME).addHandler(handler)
    try:
        yield handler
    finally:
        logging.getLogger(LOGGER_NAME).removeHandler(handler)


def _count(metrics: str, route: str, status: int) -> float:
    prefix = f'slotoptim_http_requests_total{{method="GET",route="{route}",status="{status}"}} '
    return sum(float(line.removeprefix(prefix)) for line in metrics.splitlines() if line.startswith(prefix))


def test_the_api_answers_503_at_once_while_the_database_is_down(api_log: _Lines) -> None:
    with restartable_server() as server:
        url = server.database("api")
        migrate(url)
        db = load_practices(url)
        app = create_app(replace(base_settings(url), pool_max=4))
        headers = db.keys.headers()
        with TestClient(app) as client:
            assert client.get("/v1/appointments", headers=headers).status_code == 200
            database: Database = app.state.db
            pool = database.pool
            borrow = pool.getconn
            waits: list[float | None] = []

            def watched(timeout: float | None = None) -> Any:
                waits.append(timeout)
                return borrow(timeout=timeout)

            server.stop()
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(pool, "getconn", watched)
                for _ in range(3):
                    answer = client.get("/v1/appointments", headers=headers)
                    assert answer.status_code == 503, answer.text
                    assert answer.headers["retry-after"] == "1"
                    assert "unavailable" in answer.json()["detail"]
            # The first request waits the short first wait, finds the database silent and answers;
            # the next two know it is down and never wait on the pool (it used to wait 10 s each).
            assert waits == [FIRST_WAIT_SECONDS], waits
            assert database.down
            assert client.get("/readyz").status_code == 503
            metrics = client.get("/metrics", headers=METRICS).text
            assert _count(metrics, "/v1/appointments", 503) == 3
            assert _count(metrics, "/v1/appointments", 500) == 0, "a database that is down is not a 500"
            logged = "\n".join(api_log.lines)
            assert '"route": "/v1/appointments", "status": 503' in logged
            assert '"status": 500' not in logged

            server.start()  # returns once the server accepts connections
            # The next request after a probe interval probes, finds the database and serves again
            # (pytest-timeout, not a stopwatch, bounds a service that would hang).
            time.sleep(PROBE_EVERY_SECONDS)  # waiting for the probe to be due, not measuring
            assert client.get("/v1/appointments", headers=headers).status_code == 200
            assert not database.down


def test_the_gap_analysis_on_its_asyncio_pool_answers_503_while_the_database_is_down() -> None:
    """The one-round-trip path (api/aioreads.py) finds its pooled connection dead, retries once,
    then hands over to the threaded path, which knows the database is down: 503, not 500; then
    200 once it is back."""
    with restartable_server() as server:
        url = server.database("api")
        migrate(url)
        db = load_practices(url)
        app = create_app(replace(base_settings(url), pool_max=4))
        headers = db.keys.headers()
        params = {"provider": "dr-a", "start": local(0).isoformat(), "end": local(23, 59).isoformat()}
        with TestClient(app) as client:
            for _ in range(3):  # the first confirms the app role (threaded), the next ones are asyncio
                assert client.get("/v1/gaps/analyze", params=params, headers=headers).status_code == 200
            server.stop()
            for _ in range(3):
                answer = client.get("/v1/gaps/analyze", params=params, headers=headers)
                assert answer.status_code == 503, answer.text
                assert "unavailable" in answer.json()["detail"]
            database: Database = app.state.db
            assert database.down
            server.start()
            time.sleep(PROBE_EVERY_SECONDS)  # waiting for the probe to be due, not measuring
            for _ in range(3):
                assert client.get("/v1/gaps/analyze", params=params, headers=headers).status_code == 200
            assert not database.down
