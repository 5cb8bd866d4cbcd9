"""The API-key cache (api/keycache.py): a key revoked anywhere (here: straight in the database, as
another API process or the CLI would) stops working without waiting for the cache's time to live,
because the commit's NOTIFY empties the cache."""

from __future__ import annotations

import time
from typing import Any

import psycopg
from api.conftest import Keys
from litestar.testing import TestClient


def _until(predicate: Any, attempts: int = 500) -> bool:
    # A notification crosses to the listener thread asynchronously: look again a few times.
    for _ in range(attempts):
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_a_key_revoked_in_the_database_is_refused_at_once(
    client: TestClient[Any], keys: Keys, db: psycopg.Connection[dict[str, Any]]
) -> None:
    cache = client.app.state.authenticator.keys
    assert cache is not None
    cache.ttl = 3600.0  # only the notification can empty it now
    headers = {"X-API-Key": keys.readonly}
    assert _until(lambda: cache._live)
    assert client.get("/v1/providers", headers=headers).status_code == 200
    assert cache.get(keys.readonly) is not None  # the second request needs no lookup
    assert client.get("/v1/providers", headers=headers).status_code == 200
    prefix = keys.readonly.split("_")[1]
    db.execute("update slotoptim_private.api_key set revoked_at = now() where prefix = %s", (prefix,))
    assert _until(lambda: cache.get(keys.readonly) is None)
    assert client.get("/v1/providers", headers=headers).status_code == 401
