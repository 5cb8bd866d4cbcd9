"""Schemathesis against the running app's own OpenAPI description: no 5xx, and every answer
matches the schema (status codes, content types, bodies). Short here (`make test`); `make fuzz`
runs it longer (SLOTOPTIM_FUZZ_EXAMPLES)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import psycopg
import pytest
import schemathesis
from api.conftest import ApiDb, base_settings, load_practices
from api.live_server import live_server
from hypothesis import HealthCheck, settings
from psycopg import sql
from schemathesis.checks import negative_data_rejection
from schemathesis.config import SchemathesisConfig

from slotoptim.api.app import create_app
from slotoptim.api.openapi import document
from slotoptim.listener.dbclone import clone_database

EXAMPLES = int(os.environ.get("SLOTOPTIM_FUZZ_EXAMPLES", "12"))
# A "schema-violating" value for a boolean query parameter (the string "false" rather than the
# boolean) goes on the wire as `?active=false`, a valid request: schemathesis's negative check
# cannot tell them apart, so it is skipped where the only query parameter is a boolean.
BOOLEAN_FILTERS = frozenset({"GET /v1/providers", "GET /v1/services"})


@pytest.fixture(scope="module")
def fuzz_db(pg_admin_url: str, template_url: str) -> Iterator[ApiDb]:
    name = f"fuzz_{uuid.uuid4().hex[:12]}"
    clone_database(pg_admin_url, name, "slotoptim_test_template")
    yield load_practices(psycopg.conninfo.make_conninfo(pg_admin_url, dbname=name))
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def server(fuzz_db: ApiDb) -> Iterator[str]:
    # Linking calendars seals OAuth state with this key; without one the route answers 503.
    previous = os.environ.get("SLOTOPTIM_SECRET_KEY")
    os.environ["SLOTOPTIM_SECRET_KEY"] = "a2V5LWZvci10aGUtZnV6ei1ydW4tb25seS0zMmJ5dGU="
    try:
        with live_server(replace(base_settings(fuzz_db.url), pool_max=8)) as url:
            yield url
    finally:
        if previous is None:
            os.environ.pop("SLOTOPTIM_SECRET_KEY", None)
        else:
            os.environ["SLOTOPTIM_SECRET_KEY"] = previous


# A schema-valid request may still be refused for what OpenAPI cannot say (end before start, a
# cursor this API never issued): that is a 422 naming the field, never a 400.
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "422"]}}}
)


def _description() -> dict[str, Any]:
    return document(create_app(base_settings("dbname=unused")))


def _schema() -> Any:
    """The description the app generates from its code (the same document /schema/openapi.json
    serves; a test below checks that), loaded at collection time so each operation is a test."""
    loaded = schemathesis.openapi.from_dict(_description(), config=CONFIG)
    # Revoking keys at random would revoke the fuzzer's own; revocation has its own tests.
    return loaded.exclude(method="DELETE", path="/v1/api-keys/{key_id}")


schema = _schema()


def test_the_served_description_is_the_one_fuzzed(server: str) -> None:
    import httpx

    served = httpx.get(f"{server}/schema/openapi.json").json()
    assert served["openapi"].startswith("3.1")
    assert served == _description()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
    derandomize=True,
)
def test_no_server_errors_and_no_schema_violations(case: Any, server: str, fuzz_db: ApiDb) -> None:
    key = fuzz_db.keys.admin
    excluded = [negative_data_rejection] if case.operation.label in BOOLEAN_FILTERS else []
    case.call_and_validate(
        base_url=server, headers={"Authorization": f"Bearer {key}", "X-API-Key": key}, excluded_checks=excluded
    )
