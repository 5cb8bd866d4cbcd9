"""Databases cloned from a migrated template, with the template's database settings.

CREATE DATABASE ... TEMPLATE copies the files but not the template's ALTER DATABASE ... SET
settings (the migration's jit = off, sql/39i_settings_jit.sql). A migrated database has them, so
each clone gets them too: a test or a simulation runs with the settings production has.
"""

from __future__ import annotations

import psycopg
from psycopg import sql


def clone_database(admin_url: str, name: str, template: str) -> None:
    """Creates database `name` from `template` (on the server of `admin_url`) with its settings."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {} template {}").format(sql.Identifier(name), sql.Identifier(template)))
        settings = conn.execute(
            "select unnest(s.setconfig) from pg_catalog.pg_db_role_setting as s"
            " join pg_catalog.pg_database as d on d.oid = s.setdatabase"
            " where d.datname = %s and s.setrole = 0",
            (template,),
        ).fetchall()
        for (setting,) in settings:
            key, value = setting.split("=", 1)
            conn.execute(
                sql.SQL("alter database {} set {} = {}").format(
                    sql.Identifier(name), sql.Identifier(key), sql.Literal(value)
                )
            )
