"""Round trips and statements per request, counted on the wire (tests/py/api/wire_count.py): the
gap analysis is one round trip carrying one query (besides BEGIN, the context statement and
COMMIT), whichever way it ends. The threaded path and the other hot reads are counted too, so
their cost cannot grow unnoticed."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from api.api_practice import local
from api.conftest import ApiDb, base_settings
from api.wire_count import Counts, WireCounter
from litestar.testing import TestClient

from slotoptim.api.app import create_app

ANALYZE = "/v1/gaps/analyze"


def _params(**changes: str) -> dict[str, str]:
    return {"provider": "dr-a", "start": local(0).isoformat(), "end": local(23, 59).isoformat(), **changes}


def _measured(client: TestClient[Any], wire: WireCounter, path: str, headers: dict[str, str], **query: str) -> Counts:
    """The counts of one request, after warm-up requests (pool connections made, API key cached,
    app role confirmed, statements prepared)."""
    for _ in range(8):
        client.get(path, params=query, headers=headers)
    with wire.counting() as counts:
        answer = client.get(path, params=query, headers=headers)
    assert answer.status_code < 500, answer.text
    return counts


@pytest.fixture
def wire(api_db: ApiDb) -> WireCounter:
    return WireCounter(api_db.url)


def _client(api_db: ApiDb, wire: WireCounter, **changes: Any) -> TestClient[Any]:
    client = TestClient(create_app(replace(base_settings(wire.url), **changes)))
    cache = client.app.state.authenticator.keys
    client.__enter__()
    for _ in range(500):  # the key cache serves once its listener is connected
        if cache.live:
            break
        time.sleep(0.01)
    return client


@pytest.mark.parametrize(
    "query",
    [_params(), _params(customer="c0"), _params(provider="dr-zz"), _params(customer="nobody")],
    ids=["provider", "with-customer", "unknown-provider", "unknown-customer"],
)
def test_the_gap_analysis_is_one_round_trip(api_db: ApiDb, wire: WireCounter, query: dict[str, str]) -> None:
    client = _client(api_db, wire)
    try:
        counts = _measured(client, wire, ANALYZE, api_db.keys.headers("readonly"), **query)
    finally:
        client.__exit__(None, None, None)
    # BEGIN READ ONLY, the context statement, the query, COMMIT: sent together, answered together.
    assert (counts.round_trips, counts.statements) == (1, 4)


def test_hot_reads_on_the_threaded_path(api_db: ApiDb, wire: WireCounter) -> None:
    client = _client(api_db, wire, async_reads=False)
    headers = api_db.keys.headers("readonly")
    try:
        measured = {
            "analyze (threaded)": _measured(client, wire, ANALYZE, headers, **_params()),
            "gaps": _measured(client, wire, "/v1/gaps", headers),
            "kpis": _measured(client, wire, "/v1/kpis", headers),
            "providers": _measured(client, wire, "/v1/providers", headers),
        }
    finally:
        client.__exit__(None, None, None)
    print({name: (c.round_trips, c.statements) for name, c in measured.items()})
    # Each: the borrow's check, BEGIN, the context statement, its queries, COMMIT, a round trip
    # each (kpis: the local day, then four reads pipelined in one). Bounds at today's counts.
    bounds = {"analyze (threaded)": 5, "gaps": 5, "kpis": 6, "providers": 5}
    assert {name: c.round_trips for name, c in measured.items() if c.round_trips > bounds[name]} == {}


def test_the_one_round_trip_stays_inside_the_organisation(api_db: ApiDb, wire: WireCounter) -> None:
    """Row-level security on the asyncio path: bravo's provider is unknown to acme's key (404 in
    one round trip, so not on the threaded fallback) and known to bravo's."""
    with psycopg.connect(api_db.url, autocommit=True) as conn:
        conn.execute(
            "insert into slotoptim_private.provider (org_id, key, name, timezone)"
            " values (%s, 'dr-bravo-only', 'Dr. Bravo', 'America/Chicago')",
            (api_db.orgs["bravo"],),
        )
    client = _client(api_db, wire)
    query = _params(provider="dr-bravo-only")
    try:
        counts = _measured(client, wire, ANALYZE, api_db.keys.headers("readonly"), **query)
        refused = client.get(ANALYZE, params=query, headers=api_db.keys.headers("readonly"))
        served = client.get(ANALYZE, params=query, headers=api_db.keys.headers("other_admin"))
    finally:
        client.__exit__(None, None, None)
    assert counts.round_trips == 1
    assert refused.status_code == 404 and "unknown provider" in refused.text
    assert served.status_code == 200 and served.json()["timezone"] == "America/Chicago"
