"""A small load on the live queue in the default suite (the full 200 screens at 50 events/s is
`make bench`, tests/bench/queue_bench.py): every screen gets the boards, and the database holds
the API's pool plus one listener, not a connection per screen."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import psycopg
from api.conftest import ApiDb, Keys, base_settings
from api.live_server import live_server
from api.queue_helpers import add_location
from api.queue_load import run_load

SCREENS = 40
POOL = 4


def test_many_screens_one_listener(api_db: ApiDb, keys: Keys, db: psycopg.Connection[dict[str, Any]]) -> None:
    add_location(db)
    db.execute(
        "insert into slotoptim_private.queue_settings (org_id, overflow_threshold) values (%s, 500)",
        (api_db.orgs["acme"],),
    )
    settings = replace(base_settings(api_db.url), pool_max=POOL)
    with live_server(settings) as base:
        result = asyncio.run(
            run_load(base, keys.headers("staff"), api_db.url, clients=SCREENS, events_per_second=20, seconds=3, desks=2)
        )
    print(result.summary())
    assert result.errors == 0
    assert result.events >= 20
    assert result.boards > SCREENS  # each screen got its first board and later ones
    assert len(result.latencies_ms) >= SCREENS  # every screen saw events happen
    # The API's pool (at most POOL), the one LISTEN connection, and the one probe api/db.py opens when
    # a request has waited half a second for the pool (is the database busy or down?); the test's
    # own connection is `db`. Bounded, whatever the number of screens.
    assert result.db_connections_max <= POOL + 1 + 1 + 1, result.summary()
