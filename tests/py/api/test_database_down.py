"""While the database is down the API answers 503 at once (not after the pool's 10 s wait), counts
and logs it as 503 (not 500), and serves again once the database is back. An embedded server of
the test's own is stopped and started (the session's server is shared)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from api.conftest import METRICS, base_settings, load_practices
from faults.restart_faults import restartable_server
from litestar.testing import TestClient

from slotoptim.api.app import create_app
from slotoptim.api.db import POOL_TIMEOUT_SECONDS
from slotoptim.api.logs import LOGGER_NAME, JsonFormatter
from slotoptim.migrate import migrate


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
            server.stop()
            timings = []
            for _ in range(3):
                started = time.monotonic()
                answer = client.get("/v1/appointments", headers=headers)
                timings.append(time.monotonic() - started)
                assert answer.status_code == 503, answer.text
                assert answer.headers["retry-after"] == "1"
                assert "unavailable" in answer.json()["detail"]
            # Generous: it takes about half a second, and used to take the pool's full 10 s.
            assert max(timings) < POOL_TIMEOUT_SECONDS / 2, timings
            assert client.get("/readyz").status_code == 503
            metrics = client.get("/metrics", headers=METRICS).text
            assert _count(metrics, "/v1/appointments", 503) == 3
            assert _count(metrics, "/v1/appointments", 500) == 0, "a database that is down is not a 500"
            logged = "\n".join(api_log.lines)
            assert '"route": "/v1/appointments", "status": 503' in logged
            assert '"status": 500' not in logged

            server.start()
            deadline = time.monotonic() + 30  # a bound on waiting for the event, not a timing test
            while client.get("/v1/appointments", headers=headers).status_code != 200:
                assert time.monotonic() < deadline, "the API did not serve again after the database came back"
                time.sleep(0.2)
