"""HTTP benchmark (`make bench`): GET /v1/gaps/analyze under load with wrk (Debian's package) against
`slotoptim api` on loopback, beside GET /healthz (no database) as the server's own ceiling in the
same run. Prints requests per second and latency percentiles; asserts nothing. Loopback only."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg
from bench_dates import NEW_YORK, monday_ahead
from psycopg import sql
from psycopg.rows import dict_row

from slotoptim.api.apikeys import create_key
from slotoptim.listener import embedded
from slotoptim.listener.practice.demo import build_demo_practice
from slotoptim.listener.practice.importer import import_practice
from slotoptim.migrations.migrate import migrate

DURATION = "10s"
CONNECTIONS = 16


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wrk(url: str, headers: dict[str, str]) -> dict[str, float]:
    args = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    result = {"requests_per_second": rps}
    for pct in ("50", "90", "99"):
        m = re.search(rf"\s{pct}%\s+([0-9.]+)(us|ms|s)", out)
        if m:
            value = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
            result[f"p{pct}_ms"] = value
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    result["non_2xx"] = float(non2xx.group(1)) if non2xx else 0.0
    return result


def main() -> None:
    if shutil.which("wrk") is None:
        print("api: wrk is not installed (apt-get install wrk); skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        admin = embedded.postgres_server_uri(Path(tmp) / "pg", stop_at_exit=True)
        name = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        url = psycopg.conninfo.make_conninfo(admin, dbname=name)
        migrate(url)
        # Relative to the clock: the demo fortnight starts on a Monday ahead; the Tuesday is analysed.
        monday = monday_ahead()
        tuesday = dt.datetime.combine(monday + dt.timedelta(days=1), dt.time(0), tzinfo=NEW_YORK)
        with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
            import_practice(conn, build_demo_practice(monday))
            org = conn.execute("select id from slotoptim_private.organisation").fetchone()
            assert org is not None
            key = create_key(conn, int(org["id"]), "bench", "readonly").token
        port = _free_port()
        env = {**os.environ, "DATABASE_URL": url, "SLOTOPTIM_STATE_DIR": tmp, "SLOTOPTIM_API_POOL_SIZE": "16"}
        server = subprocess.Popen(
            [sys.executable, "-m", "slotoptim.listener.cli", "api", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                        break
                except OSError:
                    time.sleep(0.1)
            query = (
                f"/v1/gaps/analyze?provider=dr-chen&start={tuesday.isoformat()}"
                f"&end={(tuesday + dt.timedelta(days=1)).isoformat()}"
            )
            health = _wrk(f"{base}/healthz", {})
            gaps = _wrk(f"{base}{query.replace(':', '%3A').replace('+', '%2B')}", {"Authorization": f"Bearer {key}"})
        finally:
            server.terminate()
            server.wait(timeout=30)
            embedded.stop_postgres(Path(tmp) / "pg")
    print(f"api (wrk, {CONNECTIONS} connections, {DURATION}, loopback)")
    print(f"  GET /healthz:          {health['requests_per_second']:8.0f} req/s, p99 {health.get('p99_ms', 0):7.2f} ms")
    print(
        f"  GET /v1/gaps/analyze:  {gaps['requests_per_second']:8.0f} req/s, p50 {gaps.get('p50_ms', 0):.2f} ms,"
        f" p99 {gaps.get('p99_ms', 0):.2f} ms, non-2xx {gaps['non_2xx']:.0f}"
        f" ({gaps['requests_per_second'] / health['requests_per_second']:.2f} of the /healthz rate)"
    )
    print(json.dumps({"api": {"healthz": health, "gaps_analyze": gaps}}))


if __name__ == "__main__":
    main()
