"""Fixtures for the tenant-isolation tests: two organisations, and an analyst login for the first.

Roles belong to the cluster, which every test database shares: an analyst login gets a random
name and is dropped when its test ends.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from isolation.tenants import Tenants, load_two


@pytest.fixture
def tenants(conn: psycopg.Connection[dict[str, Any]]) -> Tenants:
    return load_two(conn)


@pytest.fixture
def analyst_url(conn: psycopg.Connection[dict[str, Any]], fresh_db: str, tenants: Tenants) -> Iterator[str]:
    """A LOGIN role for an analyst of organisation A, as create_analyst_login makes it."""
    login = f"analyst_{uuid.uuid4().hex[:12]}"
    password = secrets.token_urlsafe(18)
    conn.execute("select slotoptim.create_analyst_login(%s, %s, %s)", (tenants.a.key, login, password))
    try:
        yield psycopg.conninfo.make_conninfo(fresh_db, user=login, password=password)
    finally:
        conn.execute("select slotoptim.drop_analyst_login(%s)", (login,))
