"""Exports a whole practice in the same format the importer reads (a round trip is lossless)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from slotoptim.listener.db import fetch_dict, fetch_dicts
from slotoptim.listener.practice.errors import PracticeError
from slotoptim.listener.practice.settings_io import export_settings
from slotoptim.listener.practice.timeparse import WEEKDAYS
from slotoptim.listener.weekly_hours import group_hours

Doc = dict[str, Any]


def _local(value: dt.datetime | None, tz: ZoneInfo) -> str | None:
    return None if value is None else value.astimezone(tz).isoformat()


def _rows(conn: psycopg.Connection[Any], query: str, org_id: int) -> list[dict[str, Any]]:
    return fetch_dicts(conn, query, {"org": org_id})


def org_keys(conn: psycopg.Connection[Any]) -> list[str]:
    return [str(r["key"]) for r in fetch_dicts(conn, "select key from slotoptim_private.organisation order by key")]


def export_practice(conn: psycopg.Connection[Any], org_key: str) -> Doc:
    org = fetch_dict(
        conn,
        "select o.id, o.key, o.name, o.timezone, o.currency from slotoptim_private.organisation o where o.key = %s",
        (org_key,),
    )
    if org is None:
        raise PracticeError("--org", f"unknown organisation {org_key!r}")
    org_id = int(org["id"])
    org_zone = ZoneInfo(org["timezone"])
    doc: Doc = {
        "format": "slotoptim.practice/1",
        "organisation": {
            "key": org["key"],
            "name": org["name"],
            "timezone": org["timezone"],
            "currency": org["currency"],
        },
        "settings": export_settings(conn, org_id),
    }
    doc["locations"] = [
        {"key": r["key"], "name": r["name"], "timezone": r["timezone"], "address": r["address"]}
        for r in _rows(conn, "select * from slotoptim_private.location where org_id = %(org)s order by key", org_id)
    ]
    doc["services"] = [
        {
            "key": r["key"],
            "name": r["name"],
            "minutes": r["minutes"],
            "price": float(r["price"]),
            "buffer_after_minutes": r["buffer_after_minutes"],
            "category": r["category"],
            "complexity": r["complexity"],
            "active": r["active"],
        }
        for r in _rows(conn, "select * from slotoptim_private.service where org_id = %(org)s order by key", org_id)
    ]
    doc["buffer_rules"] = [_buffer_rule(r) for r in _rows(conn, _BUFFER_RULES, org_id)]
    doc["providers"] = _providers(conn, org_id)
    doc["closures"] = [
        {"start": _local(r["lo"], org_zone), "end": _local(r["hi"], org_zone), "reason": r["reason"]}
        for r in _rows(conn, _CLOSURES + " and provider_id is null order by lo", org_id)
    ]
    doc["customers"] = [_customer(r) for r in _rows(conn, _CUSTOMERS, org_id)]
    doc["appointments"] = [_appointment(r) for r in _rows(conn, _APPOINTMENTS, org_id)]
    doc["waitlist"] = [_waitlist(r, org_zone) for r in _rows(conn, _WAITLIST, org_id)]
    return doc


_BUFFER_RULES = """
select r.*, s.key as service_key, p.key as provider_key
  from slotoptim_private.buffer_rule r
  left join slotoptim_private.service s on s.id = r.when_service_id
  left join slotoptim_private.provider p on p.id = r.when_provider_id
 where r.org_id = %(org)s order by r.name"""

_CLOSURES = """
select provider_id, lower(during) as lo, upper(during) as hi, reason
  from slotoptim_private.closure where org_id = %(org)s"""

_CUSTOMERS = "select * from slotoptim_private.customer where org_id = %(org)s order by key"

_APPOINTMENTS = """
select a.*, lower(a.period) as starts, upper(a.period) as ends, p.key as provider_key, p.timezone,
       s.key as service_key, c.key as customer_key
  from slotoptim_private.appointment a
  join slotoptim_private.provider p on p.id = a.provider_id
  join slotoptim_private.service s on s.id = a.service_id
  left join slotoptim_private.customer c on c.id = a.customer_id
 where a.org_id = %(org)s order by lower(a.period), p.key, a.id"""

_WAITLIST = """
select w.id, w.key, w.status, w.preferred_days, w.earliest_date, w.latest_date, w.travel_minutes,
       w.max_travel_minutes, w.lead_time_minutes, w.tier, w.offers_received, w.offers_accepted, w.offers_declined,
       w.offers_ignored, w.consecutive_ignored, w.added_at, c.key as customer_key,
       to_char(w.window_start, 'HH24:MI') as window_start_text, to_char(w.window_end, 'HH24:MI') as window_end_text,
       array(select s.key from unnest(w.service_ids) with ordinality u(id, n)
               join slotoptim_private.service s on s.id = u.id order by u.n) as service_keys,
       case when w.provider_ids is null then null else
       array(select p.key from unnest(w.provider_ids) with ordinality u(id, n)
               join slotoptim_private.provider p on p.id = u.id order by u.n) end as provider_keys,
       array(select p.key from unnest(w.excluded_provider_ids) with ordinality u(id, n)
               join slotoptim_private.provider p on p.id = u.id order by u.n) as excluded_keys
  from slotoptim_private.waitlist_entry w
  join slotoptim_private.customer c on c.id = w.customer_id
 where w.org_id = %(org)s order by w.id"""


def _buffer_rule(r: dict[str, Any]) -> Doc:
    when: Doc = {}
    for field, column in (
        ("new_customer", "when_new_customer"),
        ("category", "when_category"),
        ("min_complexity", "when_min_complexity"),
        ("service", "service_key"),
        ("provider", "provider_key"),
    ):
        if r[column] is not None:
            when[field] = r[column]
    return {"name": r["name"], "when": when, "extra_minutes": r["extra_minutes"], "active": r["active"]}


def _providers(conn: psycopg.Connection[Any], org_id: int) -> list[Doc]:
    providers = _rows(
        conn,
        "select p.*, l.key as location_key from slotoptim_private.provider p"
        " left join slotoptim_private.location l on l.id = p.location_id where p.org_id = %(org)s order by p.key",
        org_id,
    )
    links = _rows(
        conn,
        "select ps.provider_id, s.key from slotoptim_private.provider_service ps"
        " join slotoptim_private.service s on s.id = ps.service_id where ps.org_id = %(org)s order by s.key",
        org_id,
    )
    hours = _rows(
        conn,
        "select provider_id, weekday, to_char(starts_at, 'HH24:MI') as start_text,"
        " to_char(ends_at, 'HH24:MI') as end_text"
        " from slotoptim_private.working_hours where org_id = %(org)s order by weekday, starts_at",
        org_id,
    )
    closures = _rows(conn, _CLOSURES + " and provider_id is not null order by lo", org_id)
    out: list[Doc] = []
    for p in providers:
        tz = ZoneInfo(p["timezone"])
        item: Doc = {"key": p["key"], "name": p["name"], "timezone": p["timezone"]}
        if p["location_key"] is not None:
            item["location"] = p["location_key"]
        item["active"] = p["active"]
        item["services"] = [link["key"] for link in links if link["provider_id"] == p["id"]]
        item["hours"] = group_hours(
            (int(h["weekday"]), h["start_text"], h["end_text"]) for h in hours if h["provider_id"] == p["id"]
        )
        item["closures"] = [
            {"start": _local(c["lo"], tz), "end": _local(c["hi"], tz), "reason": c["reason"]}
            for c in closures
            if c["provider_id"] == p["id"]
        ]
        out.append(item)
    return out


def _customer(r: dict[str, Any]) -> Doc:
    return {
        "key": r["key"],
        "name": r["name"],
        "phone": r["phone"],
        "email": r["email"],
        "timezone": r["timezone"],
        "birth_date": None if r["birth_date"] is None else r["birth_date"].isoformat(),
        "consent": {"sms": r["consent_sms"], "whatsapp": r["consent_whatsapp"], "email": r["consent_email"]},
        "opted_out_at": None if r["opted_out_at"] is None else r["opted_out_at"].isoformat(),
    }


def _appointment(r: dict[str, Any]) -> Doc:
    tz = ZoneInfo(r["timezone"])
    item: Doc = {}
    if r["key"] is not None:
        item["key"] = r["key"]
    item.update(
        {
            "provider": r["provider_key"],
            "service": r["service_key"],
            "customer": r["customer_key"],
            "start": _local(r["starts"], tz),
            "end": _local(r["ends"], tz),
            "status": r["status"],
            "source": r["source"],
            "buffer_after_minutes": r["buffer_after_minutes"],
            "booked_at": _local(r["booked_at"], tz),
            "cancelled_at": _local(r["cancelled_at"], tz),
            "actual_start": _local(r["actual_start"], tz),
            "actual_end": _local(r["actual_end"], tz),
            "sms_reminder": r["sms_reminder"],
        }
    )
    return item


def _waitlist(r: dict[str, Any], org_zone: ZoneInfo) -> Doc:
    item: Doc = {}
    if r["key"] is not None:
        item["key"] = r["key"]
    window = None
    if r["window_start_text"] is not None:
        window = {"start": r["window_start_text"], "end": r["window_end_text"]}
    item.update(
        {
            "customer": r["customer_key"],
            "status": r["status"],
            "services": list(r["service_keys"]),
            "providers": None if r["provider_keys"] is None else list(r["provider_keys"]),
            "excluded_providers": list(r["excluded_keys"]),
            "days": None if r["preferred_days"] is None else [WEEKDAYS[d - 1] for d in r["preferred_days"]],
            "window": window,
            "dates": {
                "from": None if r["earliest_date"] is None else r["earliest_date"].isoformat(),
                "to": None if r["latest_date"] is None else r["latest_date"].isoformat(),
            },
            "travel_minutes": r["travel_minutes"],
            "max_travel_minutes": r["max_travel_minutes"],
            "lead_time_minutes": r["lead_time_minutes"],
            "tier": r["tier"],
            "history": {
                "received": r["offers_received"],
                "accepted": r["offers_accepted"],
                "declined": r["offers_declined"],
                "ignored": r["offers_ignored"],
                "consecutive_ignored": r["consecutive_ignored"],
            },
            "added_at": _local(r["added_at"], org_zone),
        }
    )
    return item
