"""Waitlist entries: the rows behind /v1/waitlist/entries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from msgspec import UNSET
from psycopg import sql
from psycopg.rows import DictRow

from slotoptim.api.db import Conn
from slotoptim.api.errors import invalid, not_found
from slotoptim.api.pagination import decode_cursor, encode_cursor
from slotoptim.api.queries.refs import resolve, resolve_many
from slotoptim.api.schemas.common import Weekday, clock_text, weekday_name, weekday_number
from slotoptim.api.schemas.waitlist import (
    DateRange,
    WaitlistEntry,
    WaitlistEntryCreate,
    WaitlistEntryPatch,
    WaitlistPage,
    Window,
)

SELECT = """
select w.id, w.key, c.key as customer, w.customer_id, w.status, w.tier, w.preferred_days,
       w.window_start, w.window_end, w.earliest_date, w.latest_date,
       array(select s.key from slotoptim_private.service as s where s.id = any (w.service_ids) order by s.key)
         as services,
       case when w.provider_ids is null then null
            else array(select p.key from slotoptim_private.provider as p
                        where p.id = any (w.provider_ids) order by p.key)
       end as providers,
       array(select p.key from slotoptim_private.provider as p where p.id = any (w.excluded_provider_ids)
             order by p.key) as excluded_providers,
       w.lead_time_minutes, w.travel_minutes, w.max_travel_minutes,
       w.offers_received, w.offers_accepted, w.offers_declined, w.offers_ignored, w.added_at, w.updated_at
  from slotoptim_private.waitlist_entry as w
  join slotoptim_private.customer as c on c.id = w.customer_id
 where w.org_id = slotoptim_private.current_org()
"""


def _entry(row: DictRow) -> WaitlistEntry:
    days = row["preferred_days"]
    window = (
        None
        if row["window_start"] is None
        else Window(start=clock_text(row["window_start"]), end=clock_text(row["window_end"]))
    )
    dates = (
        None
        if row["earliest_date"] is None and row["latest_date"] is None
        else DateRange(from_=row["earliest_date"], to=row["latest_date"])
    )
    return WaitlistEntry(
        id=row["id"],
        key=row["key"],
        customer=row["customer"],
        customer_id=row["customer_id"],
        status=row["status"],
        tier=row["tier"],
        services=list(row["services"]),
        providers=None if row["providers"] is None else list(row["providers"]),
        excluded_providers=list(row["excluded_providers"]),
        days=None if days is None else [weekday_name(d) for d in sorted(set(days))],
        window=window,
        dates=dates,
        lead_time_minutes=row["lead_time_minutes"],
        travel_minutes=row["travel_minutes"],
        max_travel_minutes=row["max_travel_minutes"],
        offers_received=row["offers_received"],
        offers_accepted=row["offers_accepted"],
        offers_declined=row["offers_declined"],
        offers_ignored=row["offers_ignored"],
        added_at=row["added_at"],
        updated_at=row["updated_at"],
    )


def get(conn: Conn, entry_id: int) -> WaitlistEntry:
    row = conn.execute(SELECT + " and w.id = %s", (entry_id,)).fetchone()
    if row is None:
        raise not_found(f"waitlist entry {entry_id}")
    return _entry(row)


def _window(window: Window | None) -> tuple[dt.time | None, dt.time | None]:
    if window is None:
        return None, None
    start, end = dt.time.fromisoformat(window.start), dt.time.fromisoformat(window.end)
    if start >= end:
        raise invalid("window.end", "must be after window.start")
    return start, end


def _dates(dates: DateRange | None) -> tuple[dt.date | None, dt.date | None]:
    if dates is None:
        return None, None
    if dates.from_ is not None and dates.to is not None and dates.from_ > dates.to:
        raise invalid("dates.to", "must not be before dates.from")
    return dates.from_, dates.to


def _days(days: list[Weekday] | None) -> list[int] | None:
    return None if days is None else sorted({weekday_number(d) for d in days})


def create(conn: Conn, data: WaitlistEntryCreate) -> WaitlistEntry:
    window_start, window_end = _window(data.window)
    earliest, latest = _dates(data.dates)
    customer_id = resolve(conn, "customer", data.customer, "customer")
    service_ids = resolve_many(conn, "service", data.services, "services")
    provider_ids = None if data.providers is None else resolve_many(conn, "provider", data.providers, "providers")
    excluded = resolve_many(conn, "provider", data.excluded_providers, "excluded_providers")
    row = conn.execute(
        "insert into slotoptim_private.waitlist_entry (org_id, customer_id, key, status, preferred_days, window_start,"
        " window_end, earliest_date, latest_date, service_ids, provider_ids, excluded_provider_ids, travel_minutes,"
        " max_travel_minutes, lead_time_minutes, tier)"
        " values (slotoptim_private.current_org(), %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " returning id",
        (
            customer_id,
            data.key,
            data.status,
            _days(data.days),
            window_start,
            window_end,
            earliest,
            latest,
            service_ids,
            provider_ids,
            excluded,
            data.travel_minutes,
            data.max_travel_minutes,
            data.lead_time_minutes,
            data.tier,
        ),
    ).fetchone()
    assert row is not None
    return get(conn, int(row["id"]))


def update(conn: Conn, entry_id: int, data: WaitlistEntryPatch) -> WaitlistEntry:
    get(conn, entry_id)  # 404 first
    changes: dict[str, Any] = {}
    if data.services is not UNSET:
        changes["service_ids"] = resolve_many(conn, "service", data.services, "services")
    if data.providers is not UNSET:
        changes["provider_ids"] = (
            None if data.providers is None else resolve_many(conn, "provider", data.providers, "providers")
        )
    if data.excluded_providers is not UNSET:
        changes["excluded_provider_ids"] = resolve_many(conn, "provider", data.excluded_providers, "excluded_providers")
    if data.days is not UNSET:
        changes["preferred_days"] = _days(data.days)
    if data.window is not UNSET:
        changes["window_start"], changes["window_end"] = _window(data.window)
    if data.dates is not UNSET:
        changes["earliest_date"], changes["latest_date"] = _dates(data.dates)
    for name in ("lead_time_minutes", "tier", "travel_minutes", "max_travel_minutes", "status"):
        value = getattr(data, name)
        if value is not UNSET:
            changes[name] = value
    if changes:
        conn.execute(
            sql.SQL(
                "update slotoptim_private.waitlist_entry set {}"
                " where org_id = slotoptim_private.current_org() and id = {}"
            ).format(
                sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k)) for k in changes),
                sql.Placeholder("entry_id"),
            ),
            {**changes, "entry_id": entry_id},
        )
    return get(conn, entry_id)


def cancel(conn: Conn, entry_id: int) -> None:
    """Leaves the waitlist: the entry is kept (its offers and the KPIs refer to it), cancelled."""
    get(conn, entry_id)
    conn.execute(
        "update slotoptim_private.waitlist_entry set status = 'cancelled'"
        " where org_id = slotoptim_private.current_org() and id = %s and status <> 'cancelled'",
        (entry_id,),
    )


def listing(
    conn: Conn,
    *,
    customer: str | None,
    service: str | None,
    provider: str | None,
    status: str | None,
    tier: str | None,
    day: Weekday | None,
    limit: int,
    cursor: str | None,
) -> WaitlistPage:
    params: dict[str, Any] = {
        "customer_id": None if customer is None else resolve(conn, "customer", customer, "customer"),
        "service_id": None if service is None else resolve(conn, "service", service, "service"),
        "provider_id": None if provider is None else resolve(conn, "provider", provider, "provider"),
        "status": status,
        "tier": tier,
        "day": None if day is None else weekday_number(day),
        "limit": limit + 1,
    }
    after = decode_cursor(cursor, (int,))
    params["after"] = None if after is None else after[0]
    rows = conn.execute(
        SELECT
        + """
   and (%(customer_id)s::bigint is null or w.customer_id = %(customer_id)s::bigint)
   and (%(service_id)s::bigint is null or %(service_id)s::bigint = any (w.service_ids))
   and (%(provider_id)s::bigint is null
        or ((w.provider_ids is null or %(provider_id)s::bigint = any (w.provider_ids))
            and not %(provider_id)s::bigint = any (w.excluded_provider_ids)))
   and (%(status)s::text is null or w.status = %(status)s)
   and (%(tier)s::text is null or w.tier = %(tier)s)
   and (%(day)s::smallint is null or w.preferred_days is null or %(day)s::smallint = any (w.preferred_days))
   and (%(after)s::bigint is null or w.id > %(after)s::bigint)
 order by w.id
 limit %(limit)s""",
        params,
    ).fetchall()
    items = [_entry(r) for r in rows[:limit]]
    return WaitlistPage(items=items, next_cursor=encode_cursor([items[-1].id]) if len(rows) > limit else None)
