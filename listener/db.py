"""Database connections: the configured server, or the embedded one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row

from slotoptim.listener import embedded
from slotoptim.listener.config import Settings, load_settings


def database_url(settings: Settings | None = None) -> str:
    """The libpq URL of the application database, starting the embedded server when needed."""
    settings = settings or load_settings()
    if settings.database_url is not None:
        return settings.database_url
    admin = embedded.postgres_server_uri(settings.state_dir / "postgres")
    embedded.ensure_database(admin, settings.database_name)
    return embedded.with_database(admin, settings.database_name)


def libpq_url(conninfo: str) -> str:
    """Any libpq connection string as a `postgresql://` URL (what `slotoptim db url` prints, for
    psql, pg_dump or a notebook). A Unix-socket directory goes in the `host` query parameter."""
    from urllib.parse import quote, urlencode

    params = {k: str(v) for k, v in psycopg.conninfo.conninfo_to_dict(conninfo).items() if v is not None}
    user = quote(params.pop("user", ""), safe="")
    password = params.pop("password", "")
    host = params.pop("host", "")
    port = params.pop("port", "")
    dbname = quote(params.pop("dbname", ""), safe="")
    if host.startswith("/"):
        params = {"host": host, **params}
        host = ""
    auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    netloc = auth + (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    query = f"?{urlencode(params)}" if params else ""
    return f"postgresql://{netloc}/{dbname}{query}"


def sqlalchemy_url(libpq_url: str) -> str:
    """The same database as a SQLAlchemy URL (psycopg 3 driver); alembic runs on SQLAlchemy."""
    from sqlalchemy.engine import make_url

    params = psycopg.conninfo.conninfo_to_dict(libpq_url)
    query = {k: str(v) for k, v in params.items() if k not in {"user", "password", "host", "port", "dbname"}}
    host = str(params.get("host") or "")
    if host.startswith("/"):
        # Unix socket directory: SQLAlchemy passes it through as the host query parameter.
        query["host"] = host
        host = ""
    url = make_url("postgresql+psycopg://")
    return url.set(
        username=str(params["user"]) if params.get("user") else None,
        password=str(params["password"]) if params.get("password") else None,
        host=host or None,
        port=int(str(params["port"])) if params.get("port") and host else None,
        database=str(params.get("dbname") or "") or None,
        query=query,
    ).render_as_string(hide_password=False)


def fetch_dicts(conn: psycopg.Connection[Any], query: str, params: Any = None) -> list[dict[str, Any]]:
    """Rows as dicts, whatever row factory the caller's connection has."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query.encode(), params).fetchall()


def fetch_dict(conn: psycopg.Connection[Any], query: str, params: Any = None) -> dict[str, Any] | None:
    rows = fetch_dicts(conn, query, params)
    return rows[0] if rows else None


@contextmanager
def connect(url: str | None = None, *, autocommit: bool = False) -> Iterator[psycopg.Connection[dict[str, object]]]:
    """A connection with dict rows; commits on success, rolls back on error."""
    conn = psycopg.connect(url or database_url(), autocommit=autocommit, row_factory=dict_row)
    try:
        with conn:
            yield conn
    finally:
        conn.close()
