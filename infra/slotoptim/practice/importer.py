"""Imports a whole practice file in one transaction: all of it, or nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from slotoptim.db import fetch_dict
from slotoptim.limits import price_problem
from slotoptim.practice.dberrors import explain, field_of, is_user_error
from slotoptim.practice.errors import PracticeError
from slotoptim.practice.timeparse import clock, day, instant, minutes_of, weekday_number, whole_day, zone

Doc = dict[str, Any]


@dataclass
class ImportSummary:
    org_key: str
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class _Ids:
    org: int = 0
    locations: dict[str, int] = field(default_factory=dict)
    services: dict[str, int] = field(default_factory=dict)
    service_minutes: dict[str, int] = field(default_factory=dict)
    providers: dict[str, int] = field(default_factory=dict)
    provider_zones: dict[str, ZoneInfo] = field(default_factory=dict)
    customers: dict[str, int] = field(default_factory=dict)


def import_practice(conn: psycopg.Connection[Any], document: Doc, *, replace: bool = False) -> ImportSummary:
    """Writes the practice; raises PracticeError (and rolls back) on the first problem."""
    org = document["organisation"]
    org_zone = zone(org["timezone"], "organisation.timezone")
    with conn.transaction():
        existing = conn.execute(
            "select id from slotoptim_private.organisation where key = %s", (org["key"],)
        ).fetchone()
        if existing is not None:
            if not replace:
                raise PracticeError(
                    "organisation.key",
                    f"organisation {org['key']!r} already exists (import with --replace to overwrite it)",
                )
            conn.execute("delete from slotoptim_private.organisation where key = %s", (org["key"],))
        ids = _Ids()
        summary = ImportSummary(org_key=org["key"])
        ids.org = _scalar(
            conn,
            "organisation",
            "insert into slotoptim_private.organisation (key, name, timezone, currency)"
            " values (%s, %s, %s, %s) returning id",
            (org["key"], org["name"], org["timezone"], org.get("currency", "USD")),
        )
        settings = document.get("settings", {})
        _exec(
            conn,
            "settings",
            "insert into slotoptim_private.organisation_settings (org_id, max_buffer_minutes, gap_merge_window)"
            " values (%s, %s, make_interval(hours => %s))"
            " on conflict (org_id) do update"
            " set max_buffer_minutes = excluded.max_buffer_minutes, gap_merge_window = excluded.gap_merge_window",
            (ids.org, settings.get("max_buffer_minutes", 60), settings.get("gap_merge_hours", 24)),
        )
        summary.counts["locations"] = _locations(conn, ids, document.get("locations", []))
        summary.counts["services"] = _services(conn, ids, document.get("services", []))
        summary.counts["providers"] = _providers(conn, ids, document.get("providers", []))
        summary.counts["closures"] = _closures(conn, ids, document.get("closures", []), "closures", None, org_zone)
        summary.counts["buffer_rules"] = _buffer_rules(conn, ids, document.get("buffer_rules", []))
        summary.counts["customers"] = _customers(conn, ids, document.get("customers", []))
        summary.counts["appointments"] = _appointments(conn, ids, document.get("appointments", []))
        summary.counts["waitlist"] = _waitlist(conn, ids, document.get("waitlist", []))
    return summary


def _exec(conn: psycopg.Connection[Any], where: str, query: str, params: tuple[Any, ...]) -> None:
    try:
        with conn.transaction():
            conn.execute(query.encode(), params)
    except psycopg.Error as exc:
        if is_user_error(exc):
            raise _refusal(where, exc) from None
        raise


def _refusal(where: str, exc: psycopg.Error) -> PracticeError:
    """The database's refusal, at the field its constraint judges when it names one."""
    field = field_of(exc)
    return PracticeError(where if field is None else f"{where}.{field}", explain(exc))


def _scalar(conn: psycopg.Connection[Any], where: str, query: str, params: tuple[Any, ...]) -> int:
    """Runs an insert ... returning id."""
    try:
        with conn.transaction():
            row = fetch_dict(conn, query, params)
    except psycopg.Error as exc:
        if is_user_error(exc):
            raise _refusal(where, exc) from None
        raise
    assert row is not None
    return int(row["id"])


def _unique_keys(items: Iterable[Doc], section: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        key = item.get("key")
        if key is None:
            continue
        if key in seen:
            raise PracticeError(f"{section}[{i}].key", f"duplicate key {key!r}")
        seen.add(key)


def _ref(table: dict[str, int], key: str, where: str, what: str) -> int:
    if key not in table:
        raise PracticeError(where, f"unknown {what} {key!r}")
    return table[key]


def _locations(conn: psycopg.Connection[Any], ids: _Ids, items: list[Doc]) -> int:
    _unique_keys(items, "locations")
    for i, loc in enumerate(items):
        zone(loc["timezone"], f"locations[{i}].timezone")
        ids.locations[loc["key"]] = _scalar(
            conn,
            f"locations[{i}]",
            "insert into slotoptim_private.location (org_id, key, name, timezone, address)"
            " values (%s, %s, %s, %s, %s) returning id",
            (ids.org, loc["key"], loc["name"], loc["timezone"], loc.get("address")),
        )
    return len(items)


def _services(conn: psycopg.Connection[Any], ids: _Ids, items: list[Doc]) -> int:
    _unique_keys(items, "services")
    for i, svc in enumerate(items):
        price = svc.get("price", 0)
        if (problem := price_problem(price)) is not None:
            # numeric(12, 2) would round 0.001 to 0 without a word.
            raise PracticeError(f"services[{i}].price", problem)
        ids.services[svc["key"]] = _scalar(
            conn,
            f"services[{i}]",
            "insert into slotoptim_private.service"
            " (org_id, key, name, minutes, price, buffer_after_minutes, category, complexity, active)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s) returning id",
            (
                ids.org,
                svc["key"],
                svc["name"],
                svc["minutes"],
                Decimal(str(price)),
                svc.get("buffer_after_minutes", 0),
                svc.get("category", "general"),
                svc.get("complexity", 1),
                svc.get("active", True),
            ),
        )
        ids.service_minutes[svc["key"]] = int(svc["minutes"])
    return len(items)


def _providers(conn: psycopg.Connection[Any], ids: _Ids, items: list[Doc]) -> int:
    _unique_keys(items, "providers")
    for i, prov in enumerate(items):
        where = f"providers[{i}]"
        tz = zone(prov["timezone"], f"{where}.timezone")
        location_id = (
            _ref(ids.locations, prov["location"], f"{where}.location", "location") if "location" in prov else None
        )
        provider_id = _scalar(
            conn,
            where,
            "insert into slotoptim_private.provider (org_id, key, name, location_id, timezone, active)"
            " values (%s, %s, %s, %s, %s, %s) returning id",
            (ids.org, prov["key"], prov["name"], location_id, prov["timezone"], prov.get("active", True)),
        )
        ids.providers[prov["key"]] = provider_id
        ids.provider_zones[prov["key"]] = tz
        for j, service_key in enumerate(prov.get("services", [])):
            service_id = _ref(ids.services, service_key, f"{where}.services[{j}]", "service")
            _exec(
                conn,
                f"{where}.services[{j}]",
                "insert into slotoptim_private.provider_service (org_id, provider_id, service_id) values (%s, %s, %s)",
                (ids.org, provider_id, service_id),
            )
        for j, hours in enumerate(prov.get("hours", [])):
            hw = f"{where}.hours[{j}]"
            start = clock(hours["start"], f"{hw}.start")
            end = clock(hours["end"], f"{hw}.end")
            if minutes_of(start) >= minutes_of(end):
                raise PracticeError(hw, f"end {hours['end']} must be after start {hours['start']}")
            for day_name in hours["days"]:
                _exec(
                    conn,
                    hw,
                    "insert into slotoptim_private.working_hours (org_id, provider_id, weekday, starts_at, ends_at)"
                    " values (%s, %s, %s, %s, %s)",
                    (ids.org, provider_id, weekday_number(day_name), str(start), str(end)),
                )
        _closures(conn, ids, prov.get("closures", []), f"{where}.closures", provider_id, tz)
    return len(items)


def _closures(
    conn: psycopg.Connection[Any], ids: _Ids, items: list[Doc], section: str, provider_id: int | None, tz: ZoneInfo
) -> int:
    for i, item in enumerate(items):
        where = f"{section}[{i}]"
        if "date" in item:
            start, end = whole_day(day(item["date"], f"{where}.date"), tz)
        else:
            start, end = instant(item["start"], f"{where}.start"), instant(item["end"], f"{where}.end")
            if end <= start:
                raise PracticeError(where, "closure must end after it starts")
        _exec(
            conn,
            where,
            "insert into slotoptim_private.closure (org_id, provider_id, during, reason)"
            " values (%s, %s, tstzrange(%s, %s, '[)'), %s)",
            (ids.org, provider_id, start, end, item.get("reason", "")),
        )
    return len(items)


def _buffer_rules(conn: psycopg.Connection[Any], ids: _Ids, items: list[Doc]) -> int:
    for i, rule in enumerate(items):
        where = f"buffer_rules[{i}]"
        when = rule.get("when", {})
        service_id = (
            _ref(ids.services, when["service"], f"{where}.when.service", "service") if "service" in when else None
        )
        provider_id = (
            _ref(ids.providers, when["provider"], f"{where}.when.provider", "provider") if "provider" in when else None
        )
        _exec(
            conn,
            where,
            "insert into slotoptim_private.buffer_rule (org_id, name, when_new_customer, when_category,"
            " when_min_complexity, when_service_id, when_provider_id, extra_minutes, active)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                ids.org,
                rule["name"],
                when.get("new_customer"),
                when.get("category"),
                when.get("min_complexity"),
                service_id,
                provider_id,
                rule["extra_minutes"],
                rule.get("active", True),
            ),
        )
    return len(items)


def _customers(conn: psycopg.Connection[Any], ids: _Ids, items: list[Doc]) -> int:
    _unique_keys(items, "customers")
    for i, cust in enumerate(items):
        where = f"customers[{i}]"
        if cust.get("timezone"):
            zone(cust["timezone"], f"{where}.timezone")
        consent = cust.get("consent", {})
        opted_out = cust.get("opted_out_at")
        ids.customers[cust["key"]] = _scalar(
            conn,
            where,
            "insert into slotoptim_private.customer (org_id, key, name, phone, email, timezone, birth_date,"
            " consent_sms, consent_whatsapp, consent_email, opted_out_at)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning id",
            (
                ids.org,
                cust["key"],
                cust["name"],
                cust.get("phone"),
                cust.get("email"),
                cust.get("timezone"),
                day(cust["birth_date"], f"{where}.birth_date") if cust.get("birth_date") else None,
                consent.get("sms", False),
                consent.get("whatsapp", False),
                consent.get("email", False),
                instant(opted_out, f"{where}.opted_out_at") if opted_out else None,
            ),
        )
    return len(items)


def _optional_instant(item: Doc, name: str, where: str) -> dt.datetime | None:
    value = item.get(name)
    return instant(value, f"{where}.{name}") if value else None


def _appointments(conn: psycopg.Connection[Any], ids: _Ids, items: list[Doc]) -> int:
    _unique_keys(items, "appointments")
    for i, appt in enumerate(items):
        where = f"appointments[{i}]"
        provider_id = _ref(ids.providers, appt["provider"], f"{where}.provider", "provider")
        service_id = _ref(ids.services, appt["service"], f"{where}.service", "service")
        customer_id = (
            _ref(ids.customers, appt["customer"], f"{where}.customer", "customer") if appt.get("customer") else None
        )
        start = instant(appt["start"], f"{where}.start")
        end = (
            instant(appt["end"], f"{where}.end")
            if "end" in appt
            else start + dt.timedelta(minutes=ids.service_minutes[appt["service"]])
        )
        if end <= start:
            raise PracticeError(f"{where}.end", "must be after start")
        _exec(
            conn,
            where,
            "insert into slotoptim_private.appointment (org_id, provider_id, service_id, customer_id, key, period,"
            " buffer_after_minutes, status, source, booked_at, cancelled_at, actual_start, actual_end, sms_reminder)"
            " values (%s, %s, %s, %s, %s, tstzrange(%s, %s, '[)'), %s, %s, %s, coalesce(%s, now()), %s, %s, %s, %s)",
            (
                ids.org,
                provider_id,
                service_id,
                customer_id,
                appt.get("key"),
                start,
                end,
                appt.get("buffer_after_minutes"),
                appt.get("status", "booked"),
                appt.get("source", "import"),
                _optional_instant(appt, "booked_at", where),
                _optional_instant(appt, "cancelled_at", where),
                _optional_instant(appt, "actual_start", where),
                _optional_instant(appt, "actual_end", where),
                appt.get("sms_reminder", False),
            ),
        )
    return len(items)


def _waitlist(conn: psycopg.Connection[Any], ids: _Ids, items: list[Doc]) -> int:
    _unique_keys(items, "waitlist")
    for i, entry in enumerate(items):
        where = f"waitlist[{i}]"
        customer_id = _ref(ids.customers, entry["customer"], f"{where}.customer", "customer")
        services = [_ref(ids.services, k, f"{where}.services[{j}]", "service") for j, k in enumerate(entry["services"])]
        providers = entry.get("providers")
        provider_ids = (
            None
            if providers is None
            else [_ref(ids.providers, k, f"{where}.providers[{j}]", "provider") for j, k in enumerate(providers)]
        )
        excluded = [
            _ref(ids.providers, k, f"{where}.excluded_providers[{j}]", "provider")
            for j, k in enumerate(entry.get("excluded_providers", []))
        ]
        window = entry.get("window") or {}
        window_start = clock(window["start"], f"{where}.window.start") if window else None
        window_end = clock(window["end"], f"{where}.window.end") if window else None
        if window_start is not None and window_end is not None and minutes_of(window_start) >= minutes_of(window_end):
            raise PracticeError(f"{where}.window", "end must be after start")
        dates = entry.get("dates") or {}
        earliest = day(dates["from"], f"{where}.dates.from") if dates.get("from") else None
        latest = day(dates["to"], f"{where}.dates.to") if dates.get("to") else None
        if earliest and latest and earliest > latest:
            raise PracticeError(f"{where}.dates", "'from' must not be after 'to'")
        history = entry.get("history", {})
        days = entry.get("days")
        _exec(
            conn,
            where,
            "insert into slotoptim_private.waitlist_entry (org_id, customer_id, key, status, preferred_days,"
            " window_start, window_end, earliest_date, latest_date, service_ids, provider_ids, excluded_provider_ids,"
            " travel_minutes, max_travel_minutes, lead_time_minutes, tier, offers_received, offers_accepted,"
            " offers_declined, offers_ignored, consecutive_ignored, added_at)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
            " coalesce(%s, now()))",
            (
                ids.org,
                customer_id,
                entry.get("key"),
                entry.get("status", "active"),
                None if days is None else [weekday_number(d) for d in days],
                None if window_start is None else str(window_start),
                None if window_end is None else str(window_end),
                earliest,
                latest,
                services,
                provider_ids,
                excluded,
                entry.get("travel_minutes"),
                entry.get("max_travel_minutes"),
                entry.get("lead_time_minutes", 120),
                entry.get("tier", "standard"),
                history.get("received", 0),
                history.get("accepted", 0),
                history.get("declined", 0),
                history.get("ignored", 0),
                history.get("consecutive_ignored", 0),
                _optional_instant(entry, "added_at", where),
            ),
        )
    return len(items)
