"""Queue fixtures: the queue practice loaded into a fresh database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from checkin.queue_practice import ids, load


@dataclass(frozen=True)
class QueueDb:
    url: str
    org_id: int
    ids: dict[str, int]


@pytest.fixture
def queue_db(fresh_db: str) -> QueueDb:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        org_id = load(conn)
        return QueueDb(fresh_db, org_id, ids(conn, org_id))


@pytest.fixture
def qconn(queue_db: QueueDb) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(queue_db.url, autocommit=True) as conn:
        yield conn
