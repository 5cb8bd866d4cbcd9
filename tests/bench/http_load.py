"""HTTP load for the API benchmark: wrk (Debian's package) when installed, else a Python asyncio
client (keep-alive HTTP/1.1 GETs on N connections) that says so: it competes with the server for
the same cores, so its figures are lower than wrk's and only comparable among themselves."""

from __future__ import annotations

import asyncio
import re
import shutil
import statistics
import subprocess
import time
import urllib.parse

WRK = shutil.which("wrk")
CLIENT = "wrk" if WRK else "python asyncio client (wrk not installed: apt-get install wrk)"


def load(url: str, headers: dict[str, str], connections: int, seconds: float) -> dict[str, float]:
    """Requests per second, p50/p90/p99 latency in ms and non-2xx answers of `seconds` of GETs."""
    return _wrk(url, headers, connections, seconds) if WRK else asyncio.run(_python(url, headers, connections, seconds))


def _wrk(url: str, headers: dict[str, str], connections: int, seconds: float) -> dict[str, float]:
    args = [str(WRK), "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    result = {"requests_per_second": rps}
    for pct in ("50", "90", "99"):
        m = re.search(rf"\s{pct}%\s+([0-9.]+)(us|ms|s)", out)
        if m:
            result[f"p{pct}_ms"] = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    result["non_2xx"] = float(non2xx.group(1)) if non2xx else 0.0
    return result


async def _python(url: str, headers: dict[str, str], connections: int, seconds: float) -> dict[str, float]:
    parts = urllib.parse.urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", *(f"{k}: {v}" for k, v in headers.items())]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    latencies: list[float] = []
    failed = 0
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal failed
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        while time.monotonic() < deadline:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            latencies.append((time.perf_counter() - started) * 1000)
            failed += not head.startswith(b"HTTP/1.1 2")
        writer.close()

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.monotonic() - started
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "requests_per_second": len(latencies) / elapsed,
        "p50_ms": cuts[49],
        "p90_ms": cuts[89],
        "p99_ms": cuts[98],
        "non_2xx": float(failed),
    }
