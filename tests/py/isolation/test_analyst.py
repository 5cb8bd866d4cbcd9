"""An analyst login of organisation A: every slotoptim view shows A's rows only, the read-only
functions answer for A only, and nothing can be written or read beyond that."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest
from fill.fill_practice import MORNING, TZ
from isolation.tenants import Conn, Tenants
from psycopg import sql
from psycopg.rows import dict_row

DAY = (dt.datetime(2026, 11, 24, tzinfo=TZ), dt.datetime(2026, 11, 25, tzinfo=TZ))
# Views the two practices fill for both organisations: the comparison must be about real rows.
POPULATED = {
    "appointments",
    "audit_trail",
    "buffer_rules",
    "fill_kpis",
    "learning_settings",
    "notification_fatigue",
    "offer_funnel",
    "open_gaps",
    "providers",
    "services",
    "waitlist",
    "working_hours",
}


def _views(conn: Conn) -> list[str]:
    rows = conn.execute(
        "select c.relname from pg_class as c join pg_namespace as n on n.oid = c.relnamespace"
        " where n.nspname = 'slotoptim' and c.relkind in ('v', 'm') order by 1"
    )
    return [str(r["relname"]) for r in rows]


def _counts_by_org(conn: Conn, view: str) -> dict[str, int]:
    query = sql.SQL("select org_key, count(*) as n from {} group by org_key").format(sql.Identifier("slotoptim", view))
    return {str(r["org_key"]): int(r["n"]) for r in conn.execute(query)}


def test_every_view_shows_the_analysts_organisation_only(conn: Conn, analyst_url: str, tenants: Tenants) -> None:
    for org in (tenants.a, tenants.b):
        conn.execute(
            "insert into slotoptim_private.buffer_rule (org_id, name, when_new_customer, extra_minutes)"
            " values (%s, 'new patients', true, 10)",
            (org.id,),
        )
    views = _views(conn)
    with psycopg.connect(analyst_url, row_factory=dict_row, autocommit=True) as analyst:
        for view in views:
            owner = _counts_by_org(conn, view)
            seen = _counts_by_org(analyst, view)
            assert set(seen) <= {tenants.a.key}, view
            assert seen.get(tenants.a.key, 0) == owner.get(tenants.a.key, 0), view
            if view in POPULATED:
                assert owner.get(tenants.a.key, 0) > 0 and owner.get(tenants.b.key, 0) > 0, view
        # Naming B in the setting the API uses changes nothing: analysts are confined by their login.
        analyst.execute("select set_config('slotoptim.org_id', %s, false)", (str(tenants.b.id),))
        for view in views:
            assert set(_counts_by_org(analyst, view)) <= {tenants.a.key}, view
        assert set(views) >= POPULATED


def test_analysts_run_the_read_only_functions_for_their_organisation(
    conn: Conn, analyst_url: str, tenants: Tenants
) -> None:
    with psycopg.connect(analyst_url, row_factory=dict_row, autocommit=True) as analyst:
        org = analyst.execute("select slotoptim_private.current_org() as id").fetchone()
        assert org is not None and org["id"] == tenants.a.id
        gaps = analyst.execute("select * from slotoptim.gaps('dr-fill', tstzrange(%s, %s))", DAY).fetchall()
        assert gaps
        assert analyst.execute("select * from slotoptim.gaps(tstzrange(%s, %s))", DAY).fetchall() == gaps
        with pytest.raises(psycopg.errors.NoDataFound):
            analyst.execute("select * from slotoptim.gaps('otherco/dr-fill', tstzrange(%s, %s))", DAY)
        # B's gap still has a candidate (it offers five at a time): none of it reaches A's analyst.
        assert (
            analyst.execute("select * from slotoptim.candidates(%s, %s)", (tenants.b.gap_id, MORNING)).fetchall() == []
        )
        assert (
            analyst.execute(
                "select * from slotoptim.alternatives(%s, %s)", (tenants.b.open_offer["id"], MORNING)
            ).fetchall()
            == []
        )
        assert analyst.execute("select * from slotoptim.verify_audit_chain(%s)", (tenants.a.key,)).fetchall() == []
        with pytest.raises(psycopg.errors.NoDataFound):
            analyst.execute("select * from slotoptim.verify_audit_chain(%s)", (tenants.b.key,))


REFUSED = [
    "insert into slotoptim_private.closure (org_id, during) values ({a}, tstzrange(now(), now() + interval '1 hour'))",
    "update slotoptim_private.appointment set status = 'cancelled'",
    "delete from slotoptim_private.waitlist_entry",
    "update slotoptim_private.organisation_settings set score_threshold = 1",
    "select body from slotoptim_private.message",
    "select to_address from slotoptim_private.message",
    "select * from slotoptim_private.instance_secret",
    "select * from slotoptim_private.schema_source",
    "update slotoptim_private.audit_event set actor_id = 'nobody'",
    "select * from slotoptim.cancel_appointment({appointment}, now())",
    "select * from slotoptim.tick(now())",
    "select * from slotoptim.claim_offer({offer}, {customer}, now())",
    "select * from slotoptim.claim_messages('analyst', 10, now())",
    "select slotoptim.create_analyst_login('fillco', 'another_analyst', 'a long enough password')",
    "set role slotoptim_app",
]


@pytest.mark.parametrize("statement", REFUSED)
def test_analysts_cannot_write_or_read_beyond_the_views(
    conn: Conn, analyst_url: str, tenants: Tenants, statement: str
) -> None:
    query = statement.format(
        a=tenants.a.id,
        appointment=tenants.a.appointment_id,
        offer=tenants.a.open_offer["id"],
        customer=tenants.a.open_offer["customer_id"],
    )
    with psycopg.connect(analyst_url, autocommit=True) as analyst, pytest.raises(psycopg.errors.InsufficientPrivilege):
        analyst.execute(query.encode())


def test_an_analyst_login_is_a_member_of_the_analyst_role_only(conn: Conn, analyst_url: str) -> None:
    login = psycopg.conninfo.conninfo_to_dict(analyst_url)["user"]
    roles = conn.execute(
        "select r.rolname from pg_auth_members as m join pg_roles as r on r.oid = m.roleid"
        " where m.member = %s::regrole order by 1",
        (login,),
    ).fetchall()
    assert [r["rolname"] for r in roles] == ["slotoptim_analyst"]
    attributes: dict[str, Any] | None = conn.execute(
        "select rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls from pg_roles where rolname = %s",
        (login,),
    ).fetchone()
    assert attributes == {
        "rolcanlogin": True,
        "rolsuper": False,
        "rolcreaterole": False,
        "rolcreatedb": False,
        "rolbypassrls": False,
    }


def test_analysts_read_customers_without_contact_details_and_no_key_secrets(
    conn: Conn, analyst_url: str, tenants: Tenants
) -> None:
    login = psycopg.conninfo.conninfo_to_dict(analyst_url)["user"]
    with psycopg.connect(analyst_url, row_factory=dict_row, autocommit=True) as analyst:
        names = analyst.execute("select key, name, consent_sms from slotoptim_private.customer").fetchall()
        assert names, "customers stay readable without their contact details"
        for column in ("phone", "email"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                analyst.execute(f"select {column} from slotoptim_private.customer")
        for column in ("prefix", "secret_sha256"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                analyst.execute(f"select {column} from slotoptim_private.api_key")
    # The explicit, separate grant for the analyst who needs to contact customers.
    conn.execute(sql.SQL("grant slotoptim_analyst_contact to {}").format(sql.Identifier(str(login))))
    with psycopg.connect(analyst_url, row_factory=dict_row, autocommit=True) as analyst:
        phones = analyst.execute("select phone from slotoptim_private.customer where phone is not null").fetchall()
        assert phones
        assert analyst.execute("select count(*) as n from slotoptim_private.customer").fetchone() == {
            "n": len(analyst.execute("select key from slotoptim_private.customer").fetchall())
        }


def test_analysts_cannot_listen_to_or_wake_the_engine(conn: Conn, analyst_url: str, tenants: Tenants) -> None:
    """LISTEN/NOTIFY take no privilege; the channel names are a secret analysts cannot read."""
    channels = [
        conn.execute("select slotoptim_private.engine_channel(%s) as c", (kind,)).fetchone()["c"]
        for kind in ("gap", "outbox")
    ]
    assert all(c.startswith("slotoptim_") and len(c) > 40 for c in channels)
    with psycopg.connect(analyst_url, row_factory=dict_row, autocommit=True) as analyst:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            analyst.execute("select slotoptim_private.engine_channel('gap')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            analyst.execute("select value from slotoptim_private.instance_secret")
        # Listening works for the analyst (a channel anyone may use)...
        analyst.execute("listen slotoptim_gap")
        conn.execute("notify slotoptim_gap, 'anyone'")
        assert [n.payload for n in analyst.notifies(timeout=5, stop_after=1)] == ["anyone"]
        # ...but the engine's gap notifications go to the secret channel, which the analyst cannot name.
        conn.execute("select pg_notify(slotoptim_private.engine_channel('gap'), '{\"gap_id\": 1}')")
        assert list(analyst.notifies(timeout=1, stop_after=1)) == []
