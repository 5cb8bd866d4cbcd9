"""Every function and view of the public schema `slotoptim`, and every column of its views, says
what it is (COMMENT), so `\\df+ slotoptim.*` and `\\d+ slotoptim.<view>` explain the system to a
DBA. Read from the catalogue of a database built by the migrations."""

from __future__ import annotations

from typing import Any

import psycopg

UNCOMMENTED = """
select 'function ' || p.oid::regprocedure::text as what
  from pg_catalog.pg_proc as p
 where p.pronamespace = 'slotoptim'::regnamespace and pg_catalog.obj_description(p.oid, 'pg_proc') is null
union all
select 'view ' || c.oid::regclass::text
  from pg_catalog.pg_class as c
 where c.relnamespace = 'slotoptim'::regnamespace and c.relkind in ('v', 'm')
   and pg_catalog.obj_description(c.oid, 'pg_class') is null
union all
select 'column ' || c.oid::regclass::text || '.' || a.attname
  from pg_catalog.pg_class as c
  join pg_catalog.pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
 where c.relnamespace = 'slotoptim'::regnamespace and c.relkind in ('v', 'm')
   and pg_catalog.col_description(c.oid, a.attnum) is null
 order by 1
"""


def test_every_public_function_view_and_view_column_has_a_comment(conn: psycopg.Connection[Any]) -> None:
    missing = [row["what"] for row in conn.execute(UNCOMMENTED).fetchall()]
    assert not missing, f"{len(missing)} objects of schema slotoptim have no COMMENT: {missing}"


def test_the_check_sees_a_missing_comment(conn: psycopg.Connection[Any]) -> None:
    """The query is not vacuous: a new view without comments is found, column by column."""
    conn.execute("create view slotoptim.zz_uncommented as select 1 as one")
    missing = [row["what"] for row in conn.execute(UNCOMMENTED).fetchall()]
    assert missing == ["column slotoptim.zz_uncommented.one", "view slotoptim.zz_uncommented"]
