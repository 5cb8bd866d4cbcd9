"""Load on the live queue: many open waiting-room screens (SSE) while desks make queue events.

Screens: `clients` SSE streams on /queue/acme/main/events. Desks: `desks` tasks, each making a
visit after another in the location's pool (join as a walk-in, call next, start, done: four
queue events), together `events_per_second`. For each board a screen receives, a ticket newly
seen waiting counts the time since its join was sent, a ticket newly seen called the time since
its call was sent: the event-to-screen latency. Meanwhile the database's connections are counted
every 100 ms: with one listener per process they stay at the pool size plus one, however many
screens are open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg

PROVIDERS = ("dr-a", "dr-b")


@dataclass
class LoadResult:
    clients: int
    events: int = 0
    boards: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    db_connections_idle: int = 0
    db_connections_max: int = 0
    errors: int = 0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else float("nan")

    def summary(self) -> str:
        median = statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")
        return (
            f"{self.clients} screens, {self.events} events, {self.boards} boards received,"
            f" latency median {median:.0f} ms p99 {self.percentile(0.99):.0f} ms"
            f" max {max(self.latencies_ms, default=0):.0f} ms, db connections idle {self.db_connections_idle}"
            f" max {self.db_connections_max}, errors {self.errors}"
        )


def _count_connections(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "select count(*) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()"
        ).fetchone()
    return int(row[0]) if row else 0


async def _screen(
    client: httpx.AsyncClient, seen: dict[tuple[str, str], float], result: LoadResult, opened: list[int]
) -> None:
    """Notes when this screen first saw each (waiting|called, ticket); latencies are matched to the
    events' send times at the end, so a board that beats the POST's own response still counts."""
    first = True
    async with client.stream("GET", "/queue/acme/main/events", timeout=None) as response:
        if response.status_code != 200:
            result.errors += 1
            return
        data: list[str] = []
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                data.append(line[5:].strip())
            elif line == "" and data:
                now = time.perf_counter()
                board = json.loads("\n".join(data))
                data = []
                result.boards += 1
                if first:
                    opened.append(1)
                    first = False
                for kind in ("waiting", "called"):
                    for row in board[kind]:
                        seen.setdefault((kind, row["ticket"]), now)


async def _desk(
    client: httpx.AsyncClient,
    provider: str,
    interval: float,
    until: float,
    sent: dict[tuple[str, str], float],
    result: LoadResult,
) -> None:
    async def event(method: str, path: str, body: dict[str, Any] | None) -> Any:
        started = time.perf_counter()
        response = await client.request(method, path, json=body)
        result.events += 1
        if response.status_code >= 300:
            result.errors += 1
            return None
        await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))
        return response.json()

    n = 0
    while time.perf_counter() < until:
        n += 1
        # Each event's time is noted when it is sent; its ticket is known only from the answer.
        join_sent = time.perf_counter()
        joined = await event("POST", "/v1/queue/walk-ins", {"name": f"Load{n}", "location": "main"})
        if joined is None:
            continue
        sent.setdefault(("waiting", joined["ticket"]), join_sent)
        call_sent = time.perf_counter()
        called = await event("POST", f"/v1/queue/providers/{provider}/call-next", None)
        if called is None or called["entry"] is None:
            continue
        entry = called["entry"]
        sent.setdefault(("called", entry["ticket"]), call_sent)
        await event("POST", f"/v1/queue/entries/{entry['id']}/moves", {"action": "start"})
        await event("POST", f"/v1/queue/entries/{entry['id']}/moves", {"action": "done"})


async def run_load(
    base: str,
    headers: dict[str, str],
    db_url: str,
    *,
    clients: int,
    events_per_second: float,
    seconds: float,
    desks: int = 4,
) -> LoadResult:
    result = LoadResult(clients=clients)
    sent: dict[tuple[str, str], float] = {}
    limits = httpx.Limits(max_connections=clients + desks + 10, max_keepalive_connections=clients + desks + 10)
    opened: list[int] = []
    seen_by_screen: list[dict[tuple[str, str], float]] = [{} for _ in range(clients)]
    async with (
        httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as screens,
        httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as api,
    ):
        readers = [asyncio.create_task(_screen(screens, seen, result, opened)) for seen in seen_by_screen]
        while len(opened) < clients and not any(t.done() for t in readers):
            await asyncio.sleep(0.05)  # every screen has its first board: all streams are open
        result.db_connections_idle = await asyncio.to_thread(_count_connections, db_url)
        result.db_connections_max = result.db_connections_idle
        until = time.perf_counter() + seconds
        interval = desks / events_per_second
        producers = [
            asyncio.create_task(_desk(api, PROVIDERS[i % len(PROVIDERS)], interval, until, sent, result))
            for i in range(desks)
        ]
        while not all(p.done() for p in producers):
            result.db_connections_max = max(
                result.db_connections_max, await asyncio.to_thread(_count_connections, db_url)
            )
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # the last boards arrive
        for task in readers:
            task.cancel()
        for task in readers:
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await task
        for p in producers:
            p.result()
    for seen in seen_by_screen:
        for key, at in seen.items():
            started = sent.get(key)
            if started is not None and at >= started:
                result.latencies_ms.append((at - started) * 1000)
    return result
