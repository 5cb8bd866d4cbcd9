"""The reads behind the FHIR resources: plain SQL over our tables and functions, run in the
request's transaction (row-level security confines it to the caller's organisation)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from slotoptim.api.db import Conn

PROVIDERS = """
select p.id, p.key, p.name, p.active,
       coalesce(array_agg(s.key order by s.key) filter (where s.id is not null), '{}') as service_keys,
       coalesce(array_agg(s.name order by s.key) filter (where s.id is not null), '{}') as service_names
  from slotoptim_private.provider as p
  left join slotoptim_private.provider_service as ps on ps.provider_id = p.id
  left join slotoptim_private.service as s on s.id = ps.service_id and s.active
 where p.org_id = slotoptim_private.current_org()
   and (%(id)s::bigint is null or p.id = %(id)s)
   and (%(key)s::text is null or p.key = %(key)s)
   and (%(name)s::text is null or p.name ilike '%%' || %(name)s || '%%')
   and (%(active)s::boolean is null or p.active = %(active)s)
   and (%(service)s::text is null or exists (
          select 1 from slotoptim_private.provider_service as ps2
            join slotoptim_private.service as s2 on s2.id = ps2.service_id
           where ps2.provider_id = p.id and s2.key = %(service)s))
 group by p.id
 order by p.id
 limit %(limit)s offset %(offset)s
"""

SERVICES = """
select s.id, s.key, s.name, s.active, s.minutes
  from slotoptim_private.service as s
 where s.org_id = slotoptim_private.current_org()
   and (%(id)s::bigint is null or s.id = %(id)s)
   and (%(key)s::text is null or s.key = %(key)s)
   and (%(name)s::text is null or s.name ilike '%%' || %(name)s || '%%')
   and (%(active)s::boolean is null or s.active = %(active)s)
 order by s.id
 limit %(limit)s offset %(offset)s
"""

APPOINTMENTS = """
select a.id, a.status, a.provider_id, p.name as provider_name, a.customer_id, s.key as service_key,
       s.name as service_name, lower(a.period) as start, upper(a.period) as "end", a.booked_at
  from slotoptim_private.appointment as a
  join slotoptim_private.provider as p on p.id = a.provider_id
  join slotoptim_private.service as s on s.id = a.service_id
 where a.org_id = slotoptim_private.current_org()
   and (%(id)s::bigint is null or a.id = %(id)s)
   and (%(customer)s::bigint is null or a.customer_id = %(customer)s)
   and (%(provider)s::bigint is null or a.provider_id = %(provider)s)
   and (%(service)s::text is null or s.key = %(service)s)
   and (%(statuses)s::text[] is null or a.status = any (%(statuses)s::text[]))
   and (%(lower)s::timestamptz is null or lower(a.period) >= %(lower)s)
   and (%(upper)s::timestamptz is null or lower(a.period) < %(upper)s)
 order by lower(a.period), a.id
 limit %(limit)s offset %(offset)s
"""

FREE_SLOTS = """
select p.id as provider_id, lower(g.during) as start, upper(g.during) as "end", g.fits
  from slotoptim_private.provider as p
  cross join lateral slotoptim.gaps(p.key, tstzrange(%(lower)s, %(upper)s, '[)')) as g
 where p.org_id = slotoptim_private.current_org()
   and p.active
   and (%(provider)s::bigint is null or p.id = %(provider)s)
   and g.kind = 'bookable'
   and (%(service)s::text is null or %(service)s = any (g.fits))
 order by lower(g.during), p.id
"""

BUSY_SLOTS = """
select a.id, a.provider_id, lower(a.blocked) as start, upper(a.blocked) as "end"
  from slotoptim_private.appointment as a
 where a.org_id = slotoptim_private.current_org()
   and a.status in ('booked', 'confirmed', 'arrived', 'completed')
   and (%(provider)s::bigint is null or a.provider_id = %(provider)s)
   and (%(id)s::bigint is null or a.id = %(id)s)
   and a.blocked && tstzrange(%(lower)s, %(upper)s, '[)')
 order by lower(a.blocked), a.id
"""


def providers(conn: Conn, *, limit: int, offset: int = 0, **filters: Any) -> list[dict[str, Any]]:
    params = {"id": None, "key": None, "name": None, "active": None, "service": None, **filters}
    return conn.execute(PROVIDERS, {**params, "limit": limit, "offset": offset}).fetchall()


def services(conn: Conn, *, limit: int, offset: int = 0, **filters: Any) -> list[dict[str, Any]]:
    params = {"id": None, "key": None, "name": None, "active": None, **filters}
    return conn.execute(SERVICES, {**params, "limit": limit, "offset": offset}).fetchall()


def appointments(conn: Conn, *, limit: int, offset: int = 0, **filters: Any) -> list[dict[str, Any]]:
    params = {
        "id": None,
        "customer": None,
        "provider": None,
        "service": None,
        "statuses": None,
        "lower": None,
        "upper": None,
        **filters,
    }
    return conn.execute(APPOINTMENTS, {**params, "limit": limit, "offset": offset}).fetchall()


def free_slots(
    conn: Conn, lower: dt.datetime, upper: dt.datetime, provider: int | None, service: str | None
) -> list[dict[str, Any]]:
    return conn.execute(
        FREE_SLOTS, {"lower": lower, "upper": upper, "provider": provider, "service": service}
    ).fetchall()


def busy_slots(
    conn: Conn, lower: dt.datetime, upper: dt.datetime, provider: int | None, appointment: int | None = None
) -> list[dict[str, Any]]:
    return conn.execute(
        BUSY_SLOTS, {"lower": lower, "upper": upper, "provider": provider, "id": appointment}
    ).fetchall()


def customer_exists(conn: Conn, customer_id: int) -> bool:
    row = conn.execute(
        "select 1 from slotoptim_private.customer where org_id = slotoptim_private.current_org() and id = %s",
        (customer_id,),
    ).fetchone()
    return row is not None


def provider_and_service(conn: Conn, provider_id: int, service_id: int) -> dict[str, Any] | None:
    """Keys and the appointment length of a potential appointment's provider and service."""
    row: dict[str, Any] | None = conn.execute(
        "select p.key as provider_key, p.name as provider_name, s.key as service_key, s.minutes"
        "  from slotoptim_private.provider as p"
        "  join slotoptim_private.provider_service as ps on ps.provider_id = p.id"
        "  join slotoptim_private.service as s on s.id = ps.service_id"
        " where p.org_id = slotoptim_private.current_org() and p.id = %s and s.id = %s and p.active and s.active",
        (provider_id, service_id),
    ).fetchone()
    return row


def find(
    conn: Conn,
    service: str,
    lower: dt.datetime,
    upper: dt.datetime,
    provider_key: str | None,
    customer: int | None,
    limit: int,
    at: dt.datetime,
) -> list[dict[str, Any]]:
    return conn.execute(
        "select f.provider_key, f.service_key, p.id as provider_id, p.name as provider_name, s.id as service_id,"
        '       lower(f.slot) as start, upper(f.slot) as "end", f.score::float8 as score'
        "  from slotoptim.find_appointments(%s, tstzrange(%s, %s, '[)'), %s, %s, %s, 15, %s) as f"
        "  join slotoptim_private.provider as p"
        "    on p.key = f.provider_key and p.org_id = slotoptim_private.current_org()"
        "  join slotoptim_private.service as s"
        "    on s.key = f.service_key and s.org_id = slotoptim_private.current_org()",
        (service, lower, upper, provider_key, customer, limit, at),
    ).fetchall()


def still_free(
    conn: Conn, provider_id: int, service_id: int, start: dt.datetime, customer: int | None
) -> dt.datetime | None:
    """The end of a potential appointment when it (with its buffer) still lies in free time."""
    row = conn.execute(
        "select %(start)s::timestamptz + make_interval(mins => s.minutes) as end_at"
        "  from slotoptim_private.service as s"
        " where s.id = %(service)s"
        "   and exists (select 1 from slotoptim_private.free_time(array[%(provider)s::bigint],"
        "                 tstzrange(%(start)s, %(start)s::timestamptz + make_interval(mins => s.minutes"
        "                   + slotoptim_private.buffer_after(s.id, %(provider)s, %(customer)s, %(start)s)), '[)')) as f"
        "                where f.free = tstzmultirange(tstzrange(%(start)s, %(start)s::timestamptz"
        "                   + make_interval(mins => s.minutes"
        "                   + slotoptim_private.buffer_after(s.id, %(provider)s, %(customer)s, %(start)s)), '[)')))",
        {"start": start, "service": service_id, "provider": provider_id, "customer": customer},
    ).fetchone()
    return None if row is None else row["end_at"]


def hold_seconds(conn: Conn) -> int:
    row = conn.execute(
        "select claim_hold_seconds from slotoptim_private.organisation_settings"
        " where org_id = slotoptim_private.current_org()"
    ).fetchone()
    return 300 if row is None else int(row["claim_hold_seconds"])
