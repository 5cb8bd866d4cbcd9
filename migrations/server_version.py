"""The oldest PostgreSQL the schema runs on, checked before `slotoptim migrate` changes anything.

PostgreSQL 15 is the floor: the slotoptim views are `security_invoker` (so row-level security
applies to whoever reads them) and a learning table has a `unique nulls not distinct` key; both
came with 15. Multiranges (14) and everything else are older. CI runs the suites on 15 as well
(`make test`, `make test-pg15`); production runs RDS PostgreSQL 17.
"""

from __future__ import annotations

import psycopg

MINIMUM_SERVER = 150000
MINIMUM_SERVER_NEEDS = (
    "views with security_invoker (row-level security through the slotoptim views) and "
    "unique ... nulls not distinct (learning settings)"
)


class UnsupportedServer(RuntimeError):
    """The PostgreSQL server is older than the schema needs; the message says what it lacks."""


def require_supported_server(version_num: int, version: str) -> None:
    if version_num < MINIMUM_SERVER:
        raise UnsupportedServer(
            f"PostgreSQL {version} is too old: SlotOptim needs PostgreSQL 15 or newer for {MINIMUM_SERVER_NEEDS}"
        )


def check_server(libpq_url: str) -> None:
    with psycopg.connect(libpq_url) as conn:
        found = conn.execute(
            "select current_setting('server_version_num')::int, current_setting('server_version')"
        ).fetchone()
        assert found is not None
        require_supported_server(int(found[0]), str(found[1]))
