"""As slotoptim_app acting for organisation A, no tenant table lets organisation B's rows be read,
changed or removed (by organisation or by id), and no row can be written into B."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from isolation.tenants import Conn, Tenants, acting_for, digest, org_column, table_sql, tenant_tables
from psycopg import sql
from psycopg.types.json import Jsonb

# Tables the practices fill for both organisations: the test must be about real rows.
POPULATED = {
    "slotoptim_private.organisation",
    "slotoptim_private.organisation_settings",
    "slotoptim_private.provider",
    "slotoptim_private.service",
    "slotoptim_private.provider_service",
    "slotoptim_private.working_hours",
    "slotoptim_private.customer",
    "slotoptim_private.waitlist_entry",
    "slotoptim_private.appointment",
    "slotoptim_private.gap",
    "slotoptim_private.offer_campaign",
    "slotoptim_private.offer",
    "slotoptim_private.message",
}


def _count(conn: Conn, query: sql.SQL | sql.Composed, params: tuple[Any, ...] = ()) -> int:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return int(row["n"])


def _ids(conn: Conn, table: str, org_id: int) -> list[int]:
    has_id = conn.execute(
        "select 1 from pg_attribute where attrelid = %s::regclass and attname = 'id' and not attisdropped", (table,)
    ).fetchone()
    if has_id is None:
        return []
    query = sql.SQL("select id from {} where {} = %s").format(table_sql(table), sql.Identifier(org_column(table)))
    return [int(r["id"]) for r in conn.execute(query, (org_id,))]


def test_every_tenant_table_shows_only_the_organisation_named(conn: Conn, fresh_db: str, tenants: Tenants) -> None:
    tables = tenant_tables(conn)
    assert set(tables) >= POPULATED
    with acting_for(fresh_db, tenants.a.id) as app:
        for table in tables:
            column = sql.Identifier(org_column(table))
            seen = app.execute(
                sql.SQL("select count(*) as n, count(*) filter (where {} <> %s) as other from {}").format(
                    column, table_sql(table)
                ),
                (tenants.a.id,),
            ).fetchone()
            assert seen is not None
            own = _count(
                conn,
                sql.SQL("select count(*) as n from {} where {} = %s").format(table_sql(table), column),
                (tenants.a.id,),
            )
            other = _count(
                conn,
                sql.SQL("select count(*) as n from {} where {} = %s").format(table_sql(table), column),
                (tenants.b.id,),
            )
            assert seen["other"] == 0, table
            assert seen["n"] == own, table
            if table in POPULATED:
                assert own > 0 and other > 0, table


def test_the_application_role_sees_nothing_without_an_organisation(conn: Conn, fresh_db: str, tenants: Tenants) -> None:
    with acting_for(fresh_db, None) as app:
        for table in tenant_tables(conn):
            assert _count(app, sql.SQL("select count(*) as n from {}").format(table_sql(table))) == 0, table
        assert _count(app, sql.SQL("select count(*) as n from slotoptim_private.audit_event")) == 0


def test_other_organisations_rows_cannot_be_changed_or_removed(conn: Conn, fresh_db: str, tenants: Tenants) -> None:
    before = digest(conn, tenants.b.id)
    for table in tenant_tables(conn):
        target, column = table_sql(table), sql.Identifier(org_column(table))
        # A no-op assignment; organisation.id is an identity column, which cannot be assigned at all.
        touched = sql.Identifier("name" if table == "slotoptim_private.organisation" else "org_id")
        ids = _ids(conn, table, tenants.b.id)
        with acting_for(fresh_db, tenants.a.id, commit=True) as app:
            by_org = (tenants.b.id,)
            update = sql.SQL("update {} set {} = {} where {} = %s").format(target, touched, touched, column)
            assert app.execute(update, by_org).rowcount == 0, table
            if ids:
                select = sql.SQL("select count(*) as n from {} where id = any(%s)").format(target)
                assert _count(app, select, (ids,)) == 0, table
                update = sql.SQL("update {} set {} = {} where id = any(%s)").format(target, touched, touched)
                assert app.execute(update, (ids,)).rowcount == 0, table
        deletes = [sql.SQL("delete from {} where {} = %s").format(target, column)]
        if ids:
            deletes.append(sql.SQL("delete from {} where id = any(%s)").format(target))
        for delete, params in zip(deletes, [(tenants.b.id,), (ids,)], strict=False):
            if table == "slotoptim_private.organisation":
                # Organisations are removed by the owner only.
                with pytest.raises(psycopg.errors.InsufficientPrivilege), acting_for(fresh_db, tenants.a.id) as app:
                    app.execute(delete, params)
                continue
            with acting_for(fresh_db, tenants.a.id, commit=True) as app:
                assert app.execute(delete, params).rowcount == 0, table
    assert digest(conn, tenants.b.id) == before


def _insertable_columns(conn: Conn, table: str) -> list[str]:
    rows = conn.execute(
        "select attname from pg_attribute where attrelid = %s::regclass and attnum > 0 and not attisdropped"
        " and attidentity <> 'a' and attgenerated = '' order by attnum",
        (table,),
    )
    return [str(r["attname"]) for r in rows]


def test_no_row_can_be_written_into_another_organisation(conn: Conn, fresh_db: str, tenants: Tenants) -> None:
    before = digest(conn, tenants.b.id)
    tried = []
    for table in tenant_tables(conn):
        sample = conn.execute(
            sql.SQL("select to_jsonb(t) as r from {} as t where {} = %s limit 1").format(
                table_sql(table), sql.Identifier(org_column(table))
            ),
            (tenants.b.id,),
        ).fetchone()
        if sample is None:
            continue
        columns = sql.SQL(", ").join(sql.Identifier(c) for c in _insertable_columns(conn, table))
        insert = sql.SQL("insert into {t} ({c}) select {c} from jsonb_populate_record(null::{t}, %s)").format(
            t=table_sql(table), c=columns
        )
        with pytest.raises(psycopg.Error) as refused, acting_for(fresh_db, tenants.a.id, commit=True) as app:
            app.execute(insert, (Jsonb(sample["r"]),))
        # Row-level security (or no privilege), or a trigger that cannot see B's references.
        assert refused.value.sqlstate in ("42501", "23503"), (table, refused.value)
        tried.append(table)
    assert set(tried) >= POPULATED
    assert digest(conn, tenants.b.id) == before


def test_own_rows_cannot_be_moved_into_another_organisation(conn: Conn, fresh_db: str, tenants: Tenants) -> None:
    before = digest(conn, tenants.b.id)
    for table in tenant_tables(conn):
        if table == "slotoptim_private.organisation":
            continue  # its id is an identity column: nobody can change it
        target = table_sql(table)
        if _count(conn, sql.SQL("select count(*) as n from {} where org_id = %s").format(target), (tenants.a.id,)) == 0:
            continue
        move = sql.SQL("update {} set org_id = %s where ctid = (select ctid from {} limit 1)").format(target, target)
        with pytest.raises(psycopg.Error) as refused, acting_for(fresh_db, tenants.a.id, commit=True) as app:
            app.execute(move, (tenants.b.id,))
        assert refused.value.sqlstate in ("42501", "23503"), (table, refused.value)
    assert digest(conn, tenants.b.id) == before
