"""The process's one queue listener: a screen keeps getting boards after the listening connection
is killed (the hub reconnects and recomputes what it may have missed)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import psycopg
from api.conftest import ApiDb, Keys, base_settings
from api.live_server import live_server
from api.queue_helpers import add_location

LISTENER = (
    "select pid from pg_stat_activity where datname = current_database() and query like 'listen \"slotoptim_queue_%'"
)


async def _watch(base: str, headers: dict[str, str], url: str) -> list[str]:
    seen: list[str] = []
    async with (
        httpx.AsyncClient(base_url=base, timeout=30) as screen,
        httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as api,
        screen.stream("GET", "/queue/acme/main/events") as stream,
    ):
        lines = stream.aiter_lines()

        async def next_board() -> dict[str, Any]:
            async for line in lines:
                if line.startswith("data:"):
                    return dict(json.loads(line[5:]))
            raise AssertionError("the stream ended")

        assert (await next_board())["waiting"] == []
        with psycopg.connect(url, autocommit=True) as conn:
            pids = [r[0] for r in conn.execute(LISTENER).fetchall()]
            assert len(pids) == 1  # one listener for the process
            conn.execute("select pg_terminate_backend(%s)", (pids[0],))
        # Made while the hub is (probably) reconnecting: its NOTIFY has no listener.
        made = await api.post("/v1/queue/walk-ins", json={"name": "Rae", "provider": "dr-a"})
        assert made.status_code == 201
        while "W001" not in seen:
            seen = [r["ticket"] for r in (await asyncio.wait_for(next_board(), 20))["waiting"]]
        with psycopg.connect(url, autocommit=True) as conn:
            assert len(conn.execute(LISTENER).fetchall()) == 1  # listening again, once
    return seen


def test_screen_survives_a_lost_listener(api_db: ApiDb, keys: Keys, db: psycopg.Connection[dict[str, Any]]) -> None:
    add_location(db)
    with live_server(base_settings(api_db.url)) as base:
        seen = asyncio.run(_watch(base, keys.headers("staff"), api_db.url))
    assert seen == ["W001"]
