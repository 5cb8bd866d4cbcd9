"""The booking page's data: the organisation a /book/{org} path names, its services and providers,
and the openings for one service ranked by slotoptim.find_appointments (the same free-time
computation as slotoptim.gaps, scored for packing and earliness).

The organisation is looked up as the owner (the path is public); everything after runs for that
organisation as the application role, so row-level security confines what the page can read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from slotoptim.api.db import Conn, Database
from slotoptim.api.identity import Actor, DbContext
from slotoptim.api.queries.claim_page import clock_time
from slotoptim.listener.money import locale_for, money

MAX_OPENINGS = 8


@dataclass(frozen=True)
class Practice:
    id: int
    key: str
    name: str
    timezone: str
    currency: str
    language: str
    horizon_days: int
    hold_seconds: int


@dataclass(frozen=True)
class Service:
    key: str
    name: str
    minutes: int
    price: str


@dataclass(frozen=True)
class Provider:
    key: str
    name: str
    services: frozenset[str]


@dataclass(frozen=True)
class OpeningView:
    value: str  # "<provider key>|<start, ISO 8601 UTC>": what the form posts back
    provider: str
    when: str
    day: str
    time: str


def find_practice(db: Database, key: str) -> Practice | None:
    """The organisation behind /book/{key}, if it has the booking page on."""
    with db.owner() as conn:
        row = conn.execute(
            "select o.id, o.key, o.name, o.timezone, o.currency, st.default_language, st.booking_horizon_days,"
            " st.claim_hold_seconds"
            " from slotoptim_private.organisation as o"
            " join slotoptim_private.organisation_settings as st on st.org_id = o.id"
            " where o.key = %s and st.booking_page_enabled",
            (key,),
        ).fetchone()
    if row is None:
        return None
    return Practice(
        int(row["id"]),
        str(row["key"]),
        str(row["name"]),
        str(row["timezone"]),
        str(row["currency"]),
        str(row["default_language"]),
        int(row["booking_horizon_days"]),
        int(row["claim_hold_seconds"]),
    )


def context(practice: Practice, address: str | None) -> DbContext:
    return DbContext(practice.id, Actor("system", "booking-page", address))


def services(conn: Conn, practice: Practice) -> list[Service]:
    rows = conn.execute(
        "select s.key, s.name, s.minutes, s.price from slotoptim_private.service as s"
        " where s.active and exists (select 1 from slotoptim_private.provider_service as ps"
        "   join slotoptim_private.provider as p on p.id = ps.provider_id and p.active where ps.service_id = s.id)"
        " order by s.name, s.key"
    ).fetchall()
    locale = locale_for(practice.language, practice.currency)
    return [
        Service(str(r["key"]), str(r["name"]), int(r["minutes"]), money(Decimal(r["price"]), practice.currency, locale))
        for r in rows
    ]


def providers(conn: Conn) -> list[Provider]:
    rows = conn.execute(
        "select p.key, p.name,"
        " coalesce(array_agg(s.key order by s.key) filter (where s.key is not null), '{}') as services"
        " from slotoptim_private.provider as p"
        " left join slotoptim_private.provider_service as ps on ps.provider_id = p.id"
        " left join slotoptim_private.service as s on s.id = ps.service_id and s.active"
        " where p.active group by p.id order by p.name, p.key"
    ).fetchall()
    return [Provider(str(r["key"]), str(r["name"]), frozenset(r["services"])) for r in rows]


def opening_value(provider_key: str, starts: dt.datetime) -> str:
    return f"{provider_key}|{starts.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"


def parse_opening(value: str) -> tuple[str, dt.datetime] | None:
    provider_key, sep, when = value.partition("|")
    if not sep or not provider_key or len(value) > 120:
        return None
    try:
        starts = dt.datetime.strptime(when, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return None
    return provider_key, starts


def openings(
    conn: Conn, practice: Practice, service_key: str, provider_key: str | None, at: dt.datetime, tz: str
) -> list[OpeningView]:
    """The best openings for a service (and provider) over the booking horizon, soonest first
    among the best ranked, in the customer's time zone."""
    zone = ZoneInfo(tz)
    rows = conn.execute(
        "select f.provider_key, lower(f.slot) as starts, f.score, p.name as provider"
        " from slotoptim.find_appointments("
        "   %s, tstzrange(%s, %s + make_interval(days => %s), '[)'), %s, null, %s, 15, %s) as f"
        " join slotoptim_private.provider as p on p.key = f.provider_key"
        " order by f.score desc, lower(f.slot)",
        (service_key, at, at, practice.horizon_days, provider_key, MAX_OPENINGS, at),
    ).fetchall()
    result = []
    for r in rows:
        local = r["starts"].astimezone(zone)
        result.append(
            OpeningView(
                value=opening_value(str(r["provider_key"]), r["starts"]),
                provider=str(r["provider"]),
                when=f"{local:%A, %B} {local.day}, {clock_time(local)} {local.tzname()}",
                day=f"{local:%a %b} {local.day}",
                time=clock_time(local),
            )
        )
    return result
