"""API fixtures: two practices (acme and bravo) in a fresh database, API keys of every role, and
a Litestar TestClient on an app whose clock stands still at 08:00 on the practices' test day."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import psycopg
import pytest
from api.api_practice import NOW, practice
from litestar.testing import TestClient
from psycopg.rows import dict_row

from slotoptim.api.apikeys import create_key
from slotoptim.api.app import create_app
from slotoptim.api.settings import ApiSettings
from slotoptim.listener.practice.importer import import_practice

TWILIO_TOKEN = "0123456789abcdef0123456789abcdef"
PUBLIC_URL = "https://api.clinic.example"
METRICS_TOKEN = "metrics-token-for-tests"
METRICS = {"Authorization": f"Bearer {METRICS_TOKEN}"}


@dataclass(frozen=True)
class Keys:
    admin: str
    staff: str
    readonly: str
    other_admin: str  # bravo's

    def headers(self, role: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, role)}"}


@dataclass(frozen=True)
class ApiDb:
    url: str
    keys: Keys
    orgs: dict[str, int]


def load_practices(url: str) -> ApiDb:
    with psycopg.connect(url, row_factory=dict_row, autocommit=True) as conn:
        import_practice(conn, practice("acme", 555))
        import_practice(conn, practice("bravo", 556))
        orgs = {r["key"]: r["id"] for r in conn.execute("select id, key from slotoptim_private.organisation")}
        keys = Keys(
            admin=create_key(conn, orgs["acme"], "admin", "admin").token,
            staff=create_key(conn, orgs["acme"], "front desk", "staff").token,
            readonly=create_key(conn, orgs["acme"], "reports", "readonly").token,
            other_admin=create_key(conn, orgs["bravo"], "admin", "admin").token,
        )
    return ApiDb(url, keys, orgs)


@pytest.fixture
def api_db(fresh_db: str) -> ApiDb:
    return load_practices(fresh_db)


def base_settings(url: str) -> ApiSettings:
    return ApiSettings(
        database_url=url,
        redis_url=None,
        public_url=PUBLIC_URL,
        twilio_auth_token=TWILIO_TOKEN,
        pool_max=4,
        metrics_token=METRICS_TOKEN,
        metrics_per_org=True,
        clock=lambda: NOW,
    )


@pytest.fixture
def make_client(api_db: ApiDb) -> Iterator[Callable[..., TestClient[Any]]]:
    """Clients on apps with other settings (OIDC, Redis...); closed after the test."""
    opened: list[TestClient[Any]] = []

    def make(**changes: Any) -> TestClient[Any]:
        client = TestClient(create_app(replace(base_settings(api_db.url), **changes)))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient[Any]]) -> TestClient[Any]:
    return make_client()


@pytest.fixture
def keys(api_db: ApiDb) -> Keys:
    return api_db.keys


@pytest.fixture
def db(api_db: ApiDb) -> Iterator[psycopg.Connection[dict[str, Any]]]:
    """The test's own view of the database, as the owner."""
    with psycopg.connect(api_db.url, row_factory=dict_row, autocommit=True) as conn:
        yield conn
