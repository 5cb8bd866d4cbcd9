"""Imports a whole practice file in one transaction: all of it, or nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql

from slotoptim.listener.db import fetch_dict, fetch_dicts
from slotoptim.listener.limits import price_problem
from slotoptim.listener.practice.dberrors import explain, field_of, is_user_error
from slotoptim.listener.practice.errors import PracticeError
from slotoptim.listener.practice.settings_io import import_settings
from slotoptim.listener.practice.timeparse import clock, day, instant, minutes_of, weekday_number, whole_day, zone

Doc = dict[str, Any]


@dataclass
class ImportSummary:
    org_key: str
    counts: dict[str, int] = field(default_factory=dict)
    # What --replace removed, per table (rows of the organisation before the file was written).
    removed: dict[str, int] = field(default_factory=dict)


# What a replace clears: the practice's set-up and calendar, and the fill history hanging on them
# (gaps, campaigns, offers and messages cascade). Children first; each statement counts its rows.
PRACTICE_TABLES = (
    "waitlist_entry",
    "appointment",
    "gap",
    "buffer_rule",
    "closure",
    "customer",
    "provider",
    "service",
    "location",
)
# What it keeps unless --drop-keys: who may get in (API keys, analyst logins) and the history that
# is not the calendar (audit trail, trained models, forecasts, template runs, webhook deliveries).
KEPT_TABLES = ("api_key", "analyst_login")


@dataclass
class _Ids:
    org: int = 0
    locations: dict[str, int] = field(default_factory=dict)
    services: dict[str, int] = field(default_factory=dict)
    service_minutes: dict[str, int] = field(default_factory=dict)
    providers: dict[str, int] = field(default_factory=dict)
    provider_zones: dict[str, ZoneInfo] = field(default_factory=dict)
    customers: dict[str, int] = field(default_factory=dict)


def import_practice(
    conn: psycopg.Connection[Any],
    document: Doc,
    *,
    replace: bool = False,
    drop_keys: bool = False,
    merge: bool = False,
) -> ImportSummary:
    """Writes the practice; raises PracticeError (and rolls back) on the first problem.

    ``replace``: an existing organisation's practice data is removed first, but its API keys,
    analyst logins and non-calendar history stay (``drop_keys`` removes the organisation whole,
    its analyst LOGIN roles included). ``merge``: rows are added or updated by key (a provider in
    the file gets the file's services, hours and closures); nothing the file does not mention changes."""
    org = document["organisation"]
    org_zone = zone(org["timezone"], "organisation.timezone")
    with conn.transaction():
        existing = fetch_dict(conn, "select id from slotoptim_private.organisation where key = %s", (org["key"],))
        summary = ImportSummary(org_key=org["key"])
        ids = _Ids()
        if existing is not None:
            if not (replace or merge):
                raise PracticeError(
                    "organisation.key",
                    f"organisation {org['key']!r} already exists (import with --merge or --replace)",
                )
            if merge:
                _load_existing(conn, ids, int(existing["id"]))
            elif drop_keys:
                summary.removed = _drop_organisation(conn, int(existing["id"]))
                existing = None
            else:
                summary.removed = _clear_practice(conn, int(existing["id"]))
        if existing is None:
            ids.org = _scalar(
                conn,
                "organisation",
                "insert into slotoptim_private.organisation (key, name, timezone, currency)"
                " values (%s, %s, %s, %s) returning id",
                (org["key"], org["name"], org["timezone"], org.get("currency", "USD")),
            )
        else:
            ids.org = int(existing["id"])
            _exec(
                conn,
                "organisation",
                "update slotoptim_private.organisation set name = %s, timezone = %s, currency = %s where id = %s",
                (org["name"], org["timezone"], org.get("currency", "USD"), ids.org),
            )
        import_settings(conn, ids.org, document.get("settings", {}), reset=not (merge and existing is not None))
        summary.counts["locations"] = _locations(conn, ids, document.get("locations", []))
        summary.counts["services"] = _services(conn, ids, document.get("services", []))
        summary.counts["providers"] = _providers(conn, ids, document.get("providers", []))
        summary.counts["closures"] = _closures(conn, ids, document.get("closures", []), "closures", None, org_zone)
        summary.counts["buffer_rules"] = _buffer_rules(conn, ids, document.get("buffer_rules", []))
        summary.counts["customers"] = _customers(conn, ids, document.get("customers", []))
        summary.counts["appointments"] = _appointments(conn, ids, document.get("appointments", []))
        summary.counts["waitlist"] = _waitlist(conn, ids, document.get("waitlist", []))
    return summary


def _load_existing(conn: psycopg.Connection[Any], ids: _Ids, org_id: int) -> None:
    """What a merge may refer to without the file repeating it."""
    for table, target in (("location", ids.locations), ("customer", ids.customers)):
        rows = fetch_dicts(conn, f"select key, id from slotoptim_private.{table} where org_id = %s", (org_id,))
        target.update({r["key"]: int(r["id"]) for r in rows})
    for r in fetch_dicts(conn, "select key, id, minutes from slotoptim_private.service where org_id = %s", (org_id,)):
        ids.services[r["key"]] = int(r["id"])
        ids.service_minutes[r["key"]] = int(r["minutes"])
    for r in fetch_dicts(conn, "select key, id, timezone from slotoptim_private.provider where org_id = %s", (org_id,)):
        ids.providers[r["key"]] = int(r["id"])
        ids.provider_zones[r["key"]] = ZoneInfo(r["timezone"])


def _clear_practice(conn: psycopg.Connection[Any], org_id: int) -> dict[str, int]:
    removed: dict[str, int] = {}
    for table in PRACTICE_TABLES:
        cur = conn.execute(
            sql.SQL("delete from {} where org_id = %s").format(sql.Identifier("slotoptim_private", table)), (org_id,)
        )
        if cur.rowcount:
            removed[table] = cur.rowcount
    return removed


def _drop_organisation(conn: psycopg.Connection[Any], org_id: int) -> dict[str, int]:
    """Everything, keys and analyst logins included (their LOGIN roles are dropped, not orphaned)."""
    removed = _clear_practice(conn, org_id)
    for table in KEPT_TABLES:
        row = fetch_dict(
            conn,
            sql.SQL("select count(*) as n from {} where org_id = %s")
            .format(sql.Identifier("slotoptim_private", table))
            .as_string(conn),
            (org_id,),
        )
        if row and row["n"]:
            removed[table] = int(row["n"])
    logins = conn.execute(
        "select role_name from slotoptim_private.analyst_login where org_id = %s", (org_id,)
    ).fetchall()
    for login in logins:
        name = login["role_name"] if isinstance(login, dict) else login[0]
        conn.execute("select slotoptim.drop_analyst_login(%s)", (name,))
    conn.execute("delete from slotoptim_private.organisation where id = %s", (org_id,))
    return removed


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
            " values (%s, %s, %s, %s, %s) on conflict (org_id, key) do update"
            " set name = excluded.name, timezone = excluded.timezone, address = excluded.address returning id",
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
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s) on conflict (org_id, key) do update"
            " set name = excluded.name, minutes = excluded.minutes, price = excluded.price,"
            " buffer_after_minutes = excluded.buffer_after_minutes, category = excluded.category,"
            " complexity = excluded.complexity, active = excluded.active returning id",
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
            " values (%s, %s, %s, %s, %s, %s) on conflict (org_id, key) do update"
            " set name = excluded.name, location_id = excluded.location_id, timezone = excluded.timezone,"
            " active = excluded.active returning id",
            (ids.org, prov["key"], prov["name"], location_id, prov["timezone"], prov.get("active", True)),
        )
        # A provider the file names gets the file's services, hours and closures (a merge).
        for table in ("provider_service", "working_hours", "closure"):
            conn.execute(
                sql.SQL("delete from {} where org_id = %s and provider_id = %s").format(
                    sql.Identifier("slotoptim_private", table)
                ),
                (ids.org, provider_id),
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
            " select %s, %s, tstzrange(%s, %s, '[)'), %s where not exists (select 1 from slotoptim_private.closure c"
            " where c.org_id = %s and c.provider_id is not distinct from %s and c.during = tstzrange(%s, %s, '[)'))",
            (ids.org, provider_id, start, end, item.get("reason", ""), ids.org, provider_id, start, end),
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
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s) on conflict (org_id, name) do update"
            " set when_new_customer = excluded.when_new_customer, when_category = excluded.when_category,"
            " when_min_complexity = excluded.when_min_complexity, when_service_id = excluded.when_service_id,"
            " when_provider_id = excluded.when_provider_id, extra_minutes = excluded.extra_minutes,"
            " active = excluded.active",
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
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) on conflict (org_id, key) do update"
            " set name = excluded.name, phone = excluded.phone, email = excluded.email, timezone = excluded.timezone,"
            " birth_date = excluded.birth_date, consent_sms = excluded.consent_sms,"
            " consent_whatsapp = excluded.consent_whatsapp, consent_email = excluded.consent_email,"
            " opted_out_at = excluded.opted_out_at returning id",
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
            " values (%s, %s, %s, %s, %s, tstzrange(%s, %s, '[)'), %s, %s, %s, coalesce(%s, now()), %s, %s, %s, %s)"
            " on conflict (org_id, key) do update set provider_id = excluded.provider_id,"
            " service_id = excluded.service_id, customer_id = excluded.customer_id, period = excluded.period,"
            " buffer_after_minutes = excluded.buffer_after_minutes, status = excluded.status,"
            " cancelled_at = excluded.cancelled_at, actual_start = excluded.actual_start,"
            " actual_end = excluded.actual_end, sms_reminder = excluded.sms_reminder",
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
            " coalesce(%s, now())) on conflict (org_id, key) do update set customer_id = excluded.customer_id,"
            " status = excluded.status, preferred_days = excluded.preferred_days, window_start = excluded.window_start,"
            " window_end = excluded.window_end, earliest_date = excluded.earliest_date,"
            " latest_date = excluded.latest_date, service_ids = excluded.service_ids,"
            " provider_ids = excluded.provider_ids, excluded_provider_ids = excluded.excluded_provider_ids,"
            " travel_minutes = excluded.travel_minutes, max_travel_minutes = excluded.max_travel_minutes,"
            " lead_time_minutes = excluded.lead_time_minutes, tier = excluded.tier",
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
