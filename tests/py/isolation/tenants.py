"""Two practices in one database, built the same way (the fill-engine practice), each with a gap on
offer: A broadcasts it, B offers it for staff approval and has one claim awaiting a decision. Plus
the ways in: the application role acting for one organisation, and what the owner sees of B.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, LiteralString

import psycopg
from fill.fill_practice import MORNING, practice
from psycopg import sql
from psycopg.rows import dict_row

from slotoptim.listener.practice.importer import import_practice

Conn = psycopg.Connection[dict[str, Any]]
ACTOR = {"kind": "api_key", "id": "key-17", "address": "203.0.113.9"}


@dataclass(frozen=True)
class Tenant:
    key: str
    id: int
    gap_id: int
    open_offer: dict[str, Any]
    appointment_id: int
    message_id: int
    phone: str


@dataclass(frozen=True)
class Tenants:
    a: Tenant
    b: Tenant


def _one(conn: Conn, query: LiteralString | sql.Composed, params: tuple[Any, ...]) -> dict[str, Any]:
    row = conn.execute(query, params).fetchone()
    assert row is not None, query
    return row


def _practice(conn: Conn, key: str, strategy: str) -> Tenant:
    document = practice(6)
    document["organisation"]["key"] = key
    document["organisation"]["name"] = f"Clinic {key}"
    import_practice(conn, document)
    org_id = int(_one(conn, "select id from slotoptim_private.organisation where key = %s", (key,))["id"])
    conn.execute("update slotoptim_private.organisation_settings set score_threshold = 0 where org_id = %s", (org_id,))
    gap_id = int(
        _one(
            conn,
            "select * from slotoptim.cancel_appointment("
            "(select id from slotoptim_private.appointment where org_id = %s and key = 'to-cancel'), %s)",
            (org_id, MORNING),
        )["cancel_appointment"]
    )
    conn.execute("select slotoptim.start_offers(%s, %s, %s)", (gap_id, strategy, MORNING))
    if strategy == "staff_approval":
        first = _one(
            conn, "select id, customer_id from slotoptim_private.offer where gap_id = %s order by id", (gap_id,)
        )
        conn.execute("select * from slotoptim.claim_offer(%s, %s, %s)", (first["id"], first["customer_id"], MORNING))
    offer = _one(
        conn,
        "select id, customer_id, gap_id from slotoptim_private.offer where gap_id = %s and status = 'open' order by id",
        (gap_id,),
    )
    appointment = _one(
        conn, "select id from slotoptim_private.appointment where org_id = %s and key = 'after'", (org_id,)
    )
    message = _one(conn, "select id from slotoptim_private.message where org_id = %s order by id", (org_id,))
    phone = _one(conn, "select phone from slotoptim_private.customer where id = %s", (offer["customer_id"],))
    return Tenant(key, org_id, gap_id, dict(offer), int(appointment["id"]), int(message["id"]), str(phone["phone"]))


def load_two(conn: Conn) -> Tenants:
    return Tenants(_practice(conn, "fillco", "broadcast"), _practice(conn, "otherco", "staff_approval"))


@contextmanager
def acting_for(url: str, org_id: int | None, *, commit: bool = False) -> Iterator[Conn]:
    """One transaction as the web API runs it: name the organisation and the actor, then become
    slotoptim_app. Rolled back at the end unless `commit`."""
    with psycopg.connect(url, row_factory=dict_row) as conn:
        conn.execute(
            "select set_config('slotoptim.org_id', %s, true), set_config('slotoptim.actor', %s, true)",
            ("" if org_id is None else str(org_id), json.dumps(ACTOR)),
        )
        conn.execute("set local role slotoptim_app")
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        if commit:
            conn.commit()
        else:
            conn.rollback()


def tenant_tables(conn: Conn) -> list[str]:
    return [str(r["t"]) for r in conn.execute("select t::text as t from slotoptim_private.tenant_tables() as t")]


def org_column(table: str) -> str:
    return "id" if table == "slotoptim_private.organisation" else "org_id"


def table_sql(table: str) -> sql.Identifier:
    schema, name = table.split(".")
    return sql.Identifier(schema, name)


def digest(conn: Conn, org_id: int) -> dict[str, str]:
    """What the owner sees of one organisation: a checksum of its rows in every tenant table."""
    result = {}
    for table in tenant_tables(conn):
        row = _one(
            conn,
            sql.SQL(
                "select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as d from {} as t where {} = %s"
            ).format(table_sql(table), sql.Identifier(org_column(table))),
            (org_id,),
        )
        result[table] = str(row["d"])
    return result
