"""Providers, services, weekly hours and settings: read by everyone, changed by admins."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from msgspec import UNSET, structs
from psycopg import sql

from slotoptim.api.db import Conn
from slotoptim.api.errors import invalid, not_found
from slotoptim.api.queries.refs import resolve, resolve_many
from slotoptim.api.schemas.catalogue import (
    Hours,
    Provider,
    ProviderHours,
    ProviderPatch,
    Service,
    ServicePatch,
    Settings,
    SettingsPatch,
)
from slotoptim.api.schemas.common import clock_text, weekday_name, weekday_number
from slotoptim.listener.limits import price_problem
from slotoptim.listener.weekly_hours import group_hours

SELECT_PROVIDER = """
select p.id, p.key, p.name, p.timezone, l.key as location, p.active,
       array(select s.key from slotoptim_private.provider_service as ps
               join slotoptim_private.service as s on s.id = ps.service_id
              where ps.provider_id = p.id order by s.key) as services
  from slotoptim_private.provider as p
  left join slotoptim_private.location as l on l.id = p.location_id
 where p.org_id = slotoptim_private.current_org()
"""

SELECT_SERVICE = """
select s.key, s.name, s.minutes, s.price::float8 as price, o.currency, s.buffer_after_minutes, s.category,
       s.complexity, s.active
  from slotoptim_private.service as s
  join slotoptim_private.organisation as o on o.id = s.org_id
 where s.org_id = slotoptim_private.current_org()
"""

SETTINGS_COLUMNS = tuple(Settings.__struct_fields__)
# Settings stored as intervals, shown and changed in whole minutes: field -> column.
INTERVAL_MINUTES = {"moveup_min_gain_minutes": "moveup_min_gain", "moveup_cooldown_minutes": "moveup_cooldown"}


def _provider(row: Any) -> Provider:
    return Provider(
        key=row["key"],
        name=row["name"],
        timezone=row["timezone"],
        location=row["location"],
        active=row["active"],
        services=list(row["services"]),
    )


def providers(conn: Conn, active: bool | None) -> list[Provider]:
    rows = conn.execute(
        SELECT_PROVIDER + " and (%(active)s::boolean is null or p.active = %(active)s) order by p.key",
        {"active": active},
    ).fetchall()
    return [_provider(r) for r in rows]


def provider(conn: Conn, key: str) -> Provider:
    row = conn.execute(SELECT_PROVIDER + " and p.key = %s", (key,)).fetchone()
    if row is None:
        raise not_found(f"provider {key!r}")
    return _provider(row)


def _check_timezone(conn: Conn, tz: str, field: str) -> None:
    row = conn.execute("select slotoptim_private.is_timezone(%s) as ok", (tz,)).fetchone()
    if row is None or not row["ok"]:
        raise invalid(field, f"{tz!r} is not a time zone the database knows (IANA names, e.g. America/New_York)")


def update_provider(conn: Conn, key: str, data: ProviderPatch) -> Provider:
    provider(conn, key)  # 404 first
    provider_id = resolve(conn, "provider", key, "key")
    changes = {k: v for k, v in structs.asdict(data).items() if v is not UNSET and k != "services"}
    if isinstance(data.timezone, str):
        _check_timezone(conn, data.timezone, "timezone")
    if changes:
        _update(conn, "provider", changes, provider_id)
    if data.services is not UNSET:
        service_ids = resolve_many(conn, "service", data.services, "services")
        conn.execute(
            "delete from slotoptim_private.provider_service where provider_id = %s and not service_id = any (%s)",
            (provider_id, service_ids),
        )
        conn.execute(
            "insert into slotoptim_private.provider_service (org_id, provider_id, service_id)"
            " select slotoptim_private.current_org(), %s, s from unnest(%s::bigint[]) as s"
            " on conflict (provider_id, service_id) do nothing",
            (provider_id, service_ids),
        )
    return provider(conn, key)


def _update(conn: Conn, table: str, changes: dict[str, Any], row_id: int) -> None:
    conn.execute(
        sql.SQL("update {} set {} where org_id = slotoptim_private.current_org() and id = {}").format(
            sql.Identifier("slotoptim_private", table),
            sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k)) for k in changes),
            sql.Placeholder("row_id"),
        ),
        {**changes, "row_id": row_id},
    )


def services(conn: Conn, active: bool | None) -> list[Service]:
    rows = conn.execute(
        SELECT_SERVICE + " and (%(active)s::boolean is null or s.active = %(active)s) order by s.key",
        {"active": active},
    ).fetchall()
    return [Service(**r) for r in rows]


def service(conn: Conn, key: str) -> Service:
    row = conn.execute(SELECT_SERVICE + " and s.key = %s", (key,)).fetchone()
    if row is None:
        raise not_found(f"service {key!r}")
    return Service(**row)


def update_service(conn: Conn, key: str, data: ServicePatch) -> Service:
    service(conn, key)  # 404 first
    service_id = resolve(conn, "service", key, "key")
    changes = {k: v for k, v in structs.asdict(data).items() if v is not UNSET}
    if isinstance(data.price, float) and (problem := price_problem(data.price)) is not None:
        # numeric(12, 2) would round 0.001 to 0 without a word.
        raise invalid("price", problem)
    if changes:
        _update(conn, "service", changes, service_id)
    return service(conn, key)


def hours(conn: Conn, key: str) -> ProviderHours:
    found = provider(conn, key)
    rows = conn.execute(
        "select wh.weekday, wh.starts_at, wh.ends_at from slotoptim_private.working_hours as wh"
        " join slotoptim_private.provider as p on p.id = wh.provider_id"
        " where wh.org_id = slotoptim_private.current_org() and p.key = %s order by wh.weekday, wh.starts_at",
        (key,),
    ).fetchall()
    return ProviderHours(
        provider=found.key,
        timezone=found.timezone,
        hours=[
            Hours(days=entry["days"], start=entry["start"], end=entry["end"])
            for entry in group_hours(
                (int(r["weekday"]), clock_text(r["starts_at"]), clock_text(r["ends_at"])) for r in rows
            )
        ],
    )


def _check_hours(items: list[Hours]) -> list[tuple[int, dt.time, dt.time]]:
    spans = []
    origin = []
    for i, item in enumerate(items):
        start, end = dt.time.fromisoformat(item.start), dt.time.fromisoformat(item.end)
        if start >= end:
            raise invalid(f"[{i}].end", "must be after start")
        if len(set(item.days)) != len(item.days):
            raise invalid(f"[{i}].days", "names a day twice")
        for day in item.days:
            spans.append((weekday_number(day), start, end))
            origin.append(i)
    ordered = sorted(range(len(spans)), key=lambda i: (spans[i][0], spans[i][1]))
    for a, b in itertools.pairwise(ordered):
        if spans[a][0] == spans[b][0] and spans[b][1] < spans[a][2]:
            day = weekday_name(spans[a][0])
            raise invalid(f"[{origin[b]}]", f"overlaps [{origin[a]}] on {day}")
    return spans


def replace_hours(conn: Conn, key: str, items: list[Hours]) -> ProviderHours:
    spans = _check_hours(items)
    provider(conn, key)  # 404 first
    provider_id = resolve(conn, "provider", key, "key")
    conn.execute(
        "delete from slotoptim_private.working_hours"
        " where org_id = slotoptim_private.current_org() and provider_id = %s",
        (provider_id,),
    )
    with conn.cursor() as cur:
        cur.executemany(
            "insert into slotoptim_private.working_hours (org_id, provider_id, weekday, starts_at, ends_at)"
            " values (slotoptim_private.current_org(), %s, %s, %s, %s)",
            [(provider_id, day, start, end) for day, start, end in spans],
        )
    return hours(conn, key)


def settings(conn: Conn) -> Settings:
    row = conn.execute(
        sql.SQL(
            "select {} from slotoptim_private.organisation_settings where org_id = slotoptim_private.current_org()"
        ).format(sql.SQL(", ").join(_setting_column(c) for c in SETTINGS_COLUMNS))
    ).fetchone()
    if row is None:
        raise not_found("settings")
    values = dict(row)
    for name in ("score_threshold", "adaptive_fill_target", "adaptive_max_late_claims"):
        values[name] = float(values[name])
    for name in ("send_window_start", "send_window_end"):
        values[name] = clock_text(values[name])
    return Settings(**values)


def _setting_column(field: str) -> sql.Composable:
    if field in INTERVAL_MINUTES:
        return sql.SQL("round(extract(epoch from {}) / 60)::integer as {}").format(
            sql.Identifier(INTERVAL_MINUTES[field]), sql.Identifier(field)
        )
    return sql.Identifier(field)


def _setting_assignment(field: str) -> sql.Composable:
    if field in INTERVAL_MINUTES:
        return sql.SQL("{} = make_interval(mins => {})").format(
            sql.Identifier(INTERVAL_MINUTES[field]), sql.Placeholder(field)
        )
    return sql.SQL("{} = {}").format(sql.Identifier(field), sql.Placeholder(field))


def update_settings(conn: Conn, data: SettingsPatch) -> Settings:
    current = settings(conn)
    changes = {k: v for k, v in structs.asdict(data).items() if v is not UNSET}
    start = str(changes.get("send_window_start", current.send_window_start))
    end = str(changes.get("send_window_end", current.send_window_end))
    if start >= end:
        raise invalid("send_window_end", "must be after send_window_start")
    if changes:
        conn.execute(
            sql.SQL(
                "update slotoptim_private.organisation_settings set {} where org_id = slotoptim_private.current_org()"
            ).format(sql.SQL(", ").join(_setting_assignment(k) for k in changes)),
            changes,
        )
    return settings(conn)
