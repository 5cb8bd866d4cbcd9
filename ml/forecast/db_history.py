"""A practice's demand history from the database: appointments per provider, service and local day.

Demand on a day = the appointments that started that day (provider's local time) and were not
cancelled: attended, missed or still marked booked, each was a request for that time. Cancelled
bookings are left out because their time was offered to someone else. Only days before `at`'s
local date count (later days are still filling up), and only bookings made by `at`.

Closures that cover a whole local day (organisation-wide, the provider's location, or the provider)
are that provider's holidays: Prophet is told about them, and the forecast is zero on them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from slotoptim.ml.forecast.series import DemandSeries, demand_series
from slotoptim.ml.noshow.organisations import Organisation

_COUNTS = """
select a.provider_id,
       a.service_id,
       (lower(a.period) at time zone p.timezone)::date as day,
       extract(hour from lower(a.period) at time zone p.timezone)::integer as hour,
       count(*)::integer as n
  from slotoptim_private.appointment as a
  join slotoptim_private.provider as p on p.id = a.provider_id
 where a.org_id = %(org)s
   and a.status <> 'cancelled'
   and a.booked_at <= %(at)s
   and lower(a.period) < %(history_end)s
 group by 1, 2, 3, 4
"""

_CLOSED_DAYS = """
select p.id as provider_id, d.day::date as day
  from slotoptim_private.provider as p
  join slotoptim_private.closure as c
    on c.org_id = p.org_id
   and (c.provider_id = p.id or c.location_id = p.location_id or (c.provider_id is null and c.location_id is null))
  cross join lateral generate_series((lower(c.during) at time zone p.timezone)::date,
                                     (upper(c.during) at time zone p.timezone)::date,
                                     interval '1 day') as d(day)
 where p.org_id = %(org)s
   and c.during @> tstzrange(d.day::date::timestamp at time zone p.timezone,
                             (d.day::date + 1)::timestamp at time zone p.timezone)
"""


@dataclass
class PracticeDemand:
    org: Organisation
    # The first forecast day: `at`'s local date in the organisation's zone. History is the days before it.
    today: dt.date
    first_day: dt.date | None
    providers: dict[int, str]
    services: dict[int, str]
    # (provider, service) -> day -> appointments
    daily: dict[tuple[int, int], dict[dt.date, int]] = field(default_factory=dict)
    # provider -> (weekday Monday = 0, local hour) -> appointments over the whole history
    hour_profile: dict[int, dict[tuple[int, int], int]] = field(default_factory=dict)
    # provider -> whole-day closures (past and future)
    closed: dict[int, set[dt.date]] = field(default_factory=dict)
    # whole-day closures of the organisation itself
    org_holidays: set[dt.date] = field(default_factory=set)

    @property
    def history_days(self) -> int:
        return 0 if self.first_day is None else (self.today - self.first_day).days

    def series(self, provider_id: int | None = None, service_id: int | None = None) -> DemandSeries:
        """Daily counts on the whole history grid (first_day .. today - 1), zeros included."""
        if self.first_day is None:
            raise ValueError("no history")
        totals: dict[dt.date, int] = defaultdict(int)
        for (p, s), days in self.daily.items():
            if (provider_id is None or p == provider_id) and (service_id is None or s == service_id):
                for day, n in days.items():
                    totals[day] += n
        # Zero points at both ends pin the grid to the whole history, whatever the first/last demand.
        edges = [(self.first_day, 0.0), (self.today - dt.timedelta(days=1), 0.0)]
        return demand_series([*edges, *((d, float(n)) for d, n in totals.items())], "daily")

    def holidays_of(self, provider_id: int | None) -> list[dt.date]:
        days = self.org_holidays if provider_id is None else self.closed.get(provider_id, set())
        return sorted(days)


def read_demand(conn: psycopg.Connection[Any], org: Organisation, at: dt.datetime) -> PracticeDemand:
    today = at.astimezone(ZoneInfo(org.timezone)).date()
    history_end = dt.datetime.combine(today, dt.time(0), tzinfo=ZoneInfo(org.timezone))
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "select id, key from slotoptim_private.provider where org_id = %s and active order by key", (org.id,)
        )
        providers = {int(r["id"]): str(r["key"]) for r in cur.fetchall()}
        cur.execute("select id, key from slotoptim_private.service where org_id = %s order by key", (org.id,))
        services = {int(r["id"]): str(r["key"]) for r in cur.fetchall()}
        cur.execute(_COUNTS, {"org": org.id, "at": at, "history_end": history_end})
        counts = cur.fetchall()
        cur.execute(_CLOSED_DAYS, {"org": org.id})
        closures = cur.fetchall()
        cur.execute(
            "select distinct d.day::date as day from slotoptim_private.closure as c"
            " cross join lateral generate_series((lower(c.during) at time zone %(tz)s)::date,"
            " (upper(c.during) at time zone %(tz)s)::date, interval '1 day') as d(day)"
            " where c.org_id = %(org)s and c.provider_id is null and c.location_id is null"
            " and c.during @> tstzrange(d.day::date::timestamp at time zone %(tz)s,"
            " (d.day::date + 1)::timestamp at time zone %(tz)s)",
            {"org": org.id, "tz": org.timezone},
        )
        org_holidays = {r["day"] for r in cur.fetchall()}

    demand = PracticeDemand(org, today, None, providers, services, org_holidays=org_holidays)
    for row in counts:
        provider, service, day = int(row["provider_id"]), int(row["service_id"]), row["day"]
        if provider not in providers:
            continue
        days = demand.daily.setdefault((provider, service), {})
        days[day] = days.get(day, 0) + int(row["n"])
        profile = demand.hour_profile.setdefault(provider, {})
        slot = (day.weekday(), int(row["hour"]))
        profile[slot] = profile.get(slot, 0) + int(row["n"])
        demand.first_day = day if demand.first_day is None else min(demand.first_day, day)
    for row in closures:
        demand.closed.setdefault(int(row["provider_id"]), set()).add(row["day"])
    return demand
