"""The weekly template problem of a practice, read from its database.

What comes from where (every choice is recorded in ``PracticeTemplate.sources``):

- **Providers and hours**: active providers with weekly working hours (``working_hours``, local
  wall-clock time of the provider's zone), split into minutes per hour. Weekdays and hours are the
  providers' local ones, as in ``working_hours`` and the stored template.
- **Visit types**: the active services the providers offer (``provider_service``); a visit type is a
  service key. Its duration is the mean and standard deviation of ``actual_end - actual_start`` of
  completed appointments in the history window when there are at least ``MIN_DURATION_SAMPLES``,
  else the scheduled minutes with a coefficient of variation of ``DEFAULT_CV`` (0.45, about what the
  hangu consultation times show: mean 13.4, sd 6.2 minutes). The service's default buffer after
  (turnover) is added to the mean: the provider's time is taken by it too.
- **No-show rate** per service: no-shows / (no-shows + attended) in the history window when at least
  ``MIN_NOSHOW_SAMPLES`` are marked, else the mean ``no_show_risk`` of upcoming appointments (the
  learning jobs write it) when at least ``MIN_RISK_SAMPLES`` are scored, else the practice-wide
  history rate, else ``DEFAULT_NO_SHOW``.
- **Demand** per weekday, hour and service (requests per week, all providers together): the stored
  forecast (``demand_forecast``) when it has hourly rows: each provider's hourly forecast split over
  services in the proportions of that provider's per-service daily forecast, averaged over the
  forecast days of each weekday the practice is open (a day forecast at zero everywhere is a
  closure, left out: the template is for an ordinary week). Without a forecast: the booked history
  (not cancelled) of the window, per weekday divided by the number of dates of that weekday with
  appointments. Demand on weekdays nobody works is dropped (and counted).
- **Waiting curve**: the arrival irregularity (``arrival_scv``) is the practice's: 2 * (sd of start
  delays / mean visit)^2 from actual starts (see ``_Reader._arrival_scv``); everything else of
  ``TemplateSettings`` keeps its default unless the caller passes settings.
- **Current template**: the practice's own booked appointments (not cancelled) in the same window,
  per provider, weekday and hour: the mean number per working date of that weekday, rounded per hour
  and shared out over services by largest remainder (so an hour keeps its load). Appointments outside
  working hours are left out (and counted).

The history window is the ``history_weeks`` weeks before ``at``; a practice with no past
appointments yet (a fresh import) uses its bookings of the next ``history_weeks`` weeks instead.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row

from slotoptim.ml.optimize.template_input import availability_minutes
from slotoptim.ml.optimize.template_problem import SlotKey, TemplateProblem, TemplateSettings, VisitType

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_CV = 0.45
MIN_DURATION_SAMPLES = 20
MIN_NOSHOW_SAMPLES = 30
MIN_RISK_SAMPLES = 10
DEFAULT_NO_SHOW = 0.10
MAX_NO_SHOW = 0.9
HISTORY_WEEKS = 12
DEFAULT_PUNCTUALITY_SD = 8.0


class PracticeDataError(LookupError):
    """The organisation is unknown, ambiguous, or has nothing to plan (no providers with hours)."""


@dataclass(frozen=True)
class Organisation:
    id: int
    key: str


@dataclass(frozen=True)
class PracticeTemplate:
    organisation: Organisation
    problem: TemplateProblem
    current_slots: Mapping[SlotKey, int]
    provider_ids: Mapping[str, int]
    service_ids: Mapping[str, int]
    sources: Mapping[str, Any] = field(default_factory=dict)
    """Where each input came from (JSON-ready), for the output and the stored run."""


def resolve_organisation(conn: psycopg.Connection[Any], key: str | None) -> Organisation:
    """The organisation named by ``key``; without one, the database's only organisation."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "select id, key from slotoptim_private.organisation where %(key)s::text is null or key = %(key)s"
            " order by key",
            {"key": key},
        ).fetchall()
    if key is not None and not rows:
        raise PracticeDataError(f"no organisation with key {key!r}")
    if not rows:
        raise PracticeDataError("the database has no organisation; import one (slotoptim import) or use --example")
    if len(rows) > 1:
        keys = ", ".join(str(r["key"]) for r in rows)
        raise PracticeDataError(f"the database has {len(rows)} organisations ({keys}); name one with --org")
    return Organisation(int(rows[0]["id"]), str(rows[0]["key"]))


def load_practice_template(
    conn: psycopg.Connection[Any],
    organisation: Organisation,
    at: dt.datetime,
    *,
    history_weeks: int = HISTORY_WEEKS,
    settings: TemplateSettings | None = None,
) -> PracticeTemplate:
    if history_weeks < 1:
        raise PracticeDataError(f"history_weeks must be >= 1, got {history_weeks}")
    with conn.cursor(row_factory=dict_row) as cur:
        reader = _Reader(cur, organisation.id, at, history_weeks)
        return reader.build(organisation, settings)


class _Reader:
    def __init__(self, cur: psycopg.Cursor[dict[str, Any]], org_id: int, at: dt.datetime, weeks: int) -> None:
        self.cur = cur
        self.org = org_id
        self.at = at
        self.weeks = weeks
        self.sources: dict[str, Any] = {"at": at.isoformat(), "history_weeks": weeks}

    def build(self, organisation: Organisation, settings: TemplateSettings | None) -> PracticeTemplate:
        providers, hours_rows = self._providers()
        offered, services = self._services(providers)
        window = self._window()
        weekdays = tuple(w for w in WEEKDAY_NAMES if any(r["weekday"] == w for r in hours_rows))
        demand, demand_hours = self._demand(services, window, set(weekdays))
        current, current_hours = self._current(providers, services, window)
        clock_hours = set()
        for row in hours_rows:
            start, end = _minutes(row["start"]), _minutes(row["end"])
            clock_hours |= set(range(start // 60, -(-end // 60)))
        hours = tuple(sorted(clock_hours | demand_hours | current_hours))
        available = availability_minutes(hours_rows, hours)
        dropped = {k: n for k, n in current.items() if available.get(k[:3], 0.0) <= 0}
        if dropped:
            self.sources["current_outside_hours"] = sum(dropped.values())
        current = {k: n for k, n in current.items() if k not in dropped}
        visit_types = self._visit_types(services)
        if settings is None:
            settings = TemplateSettings(arrival_scv=self._arrival_scv(visit_types, demand))
        problem = TemplateProblem(
            providers=tuple(sorted(providers)),
            weekdays=weekdays,
            hours=hours,
            available_minutes=available,
            visit_types=visit_types,
            demand=demand,
            provider_visit_types={p: tuple(sorted(v)) for p, v in offered.items()},
            settings=settings,
        )
        return PracticeTemplate(
            organisation=organisation,
            problem=problem,
            current_slots=current,
            provider_ids={k: int(v["id"]) for k, v in providers.items()},
            service_ids={k: int(v["id"]) for k, v in services.items()},
            sources=self.sources,
        )

    # ---- set-up -----------------------------------------------------------------------------

    def _providers(self) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
        rows = self.cur.execute(
            "select p.id, p.key, p.timezone, wh.weekday, wh.starts_at, wh.ends_at"
            "  from slotoptim_private.provider as p"
            "  join slotoptim_private.working_hours as wh on wh.provider_id = p.id"
            " where p.org_id = %s and p.active order by p.key, wh.weekday, wh.starts_at",
            (self.org,),
        ).fetchall()
        if not rows:
            raise PracticeDataError("the organisation has no active provider with working hours")
        providers = {str(r["key"]): {"id": r["id"], "timezone": r["timezone"]} for r in rows}
        hours = [
            {
                "provider": str(r["key"]),
                "weekday": WEEKDAY_NAMES[int(r["weekday"]) - 1],
                "start": r["starts_at"].strftime("%H:%M"),
                # 23:59:59 style ends round up to the next minute.
                "end": _clock_text(r["ends_at"]),
            }
            for r in rows
        ]
        return providers, hours

    def _services(
        self, providers: Mapping[str, Mapping[str, Any]]
    ) -> tuple[dict[str, set[str]], dict[str, dict[str, Any]]]:
        rows = self.cur.execute(
            "select p.key as provider, s.id, s.key, s.minutes, s.buffer_after_minutes"
            "  from slotoptim_private.provider_service as ps"
            "  join slotoptim_private.provider as p on p.id = ps.provider_id"
            "  join slotoptim_private.service as s on s.id = ps.service_id"
            " where ps.org_id = %s and s.active and p.active order by p.key, s.key",
            (self.org,),
        ).fetchall()
        offered: dict[str, set[str]] = defaultdict(set)
        services: dict[str, dict[str, Any]] = {}
        for r in rows:
            if r["provider"] in providers:
                offered[str(r["provider"])].add(str(r["key"]))
                services[str(r["key"])] = dict(r)
        if not services:
            raise PracticeDataError("the providers offer no active service")
        for provider in providers:
            offered.setdefault(provider, set())
        return dict(offered), services

    # ---- history ----------------------------------------------------------------------------

    def _window(self) -> tuple[dt.datetime, dt.datetime, str]:
        span = dt.timedelta(weeks=self.weeks)
        past = self.cur.execute(
            "select count(*)::integer as n from slotoptim_private.appointment"
            " where org_id = %s and status <> 'cancelled' and lower(period) >= %s and lower(period) < %s",
            (self.org, self.at - span, self.at),
        ).fetchone()
        if past and past["n"] > 0:
            window = (self.at - span, self.at, "history")
        else:
            window = (self.at, self.at + span, "upcoming bookings")
        self.sources["window"] = {"from": window[0].isoformat(), "to": window[1].isoformat(), "kind": window[2]}
        return window

    def _visit_types(self, services: Mapping[str, Mapping[str, Any]]) -> tuple[VisitType, ...]:
        start, end, _ = self._history_span()
        durations = {
            str(r["key"]): r
            for r in self.cur.execute(
                "select s.key, count(*)::integer as n,"
                "       avg(extract(epoch from a.actual_end - a.actual_start) / 60)::float8 as mean,"
                "       coalesce(stddev_samp(extract(epoch from a.actual_end - a.actual_start) / 60), 0)::float8 as sd"
                "  from slotoptim_private.appointment as a"
                "  join slotoptim_private.service as s on s.id = a.service_id"
                " where a.org_id = %s and a.status = 'completed'"
                "   and a.actual_start is not null and a.actual_end is not null"
                "   and a.actual_end - a.actual_start between interval '1 minute' and interval '8 hours'"
                "   and lower(a.period) >= %s and lower(a.period) < %s"
                " group by s.key",
                (self.org, start, end),
            ).fetchall()
        }
        marked = {
            str(r["key"]): r
            for r in self.cur.execute(
                "select s.key, count(*) filter (where a.status = 'no_show')::integer as missed,"
                "       count(*)::integer as n"
                "  from slotoptim_private.appointment as a"
                "  join slotoptim_private.service as s on s.id = a.service_id"
                " where a.org_id = %s and a.status in ('completed', 'arrived', 'no_show')"
                "   and lower(a.period) >= %s and lower(a.period) < %s"
                " group by s.key",
                (self.org, start, end),
            ).fetchall()
        }
        risks = {
            str(r["key"]): r
            for r in self.cur.execute(
                "select s.key, count(*)::integer as n, avg(a.no_show_risk)::float8 as mean"
                "  from slotoptim_private.appointment as a"
                "  join slotoptim_private.service as s on s.id = a.service_id"
                " where a.org_id = %s and a.status in ('booked', 'confirmed') and a.no_show_risk is not null"
                "   and lower(a.period) >= %s"
                " group by s.key",
                (self.org, self.at),
            ).fetchall()
        }
        all_marked = sum(int(r["n"]) for r in marked.values())
        practice_rate = (
            sum(int(r["missed"]) for r in marked.values()) / all_marked
            if all_marked >= MIN_NOSHOW_SAMPLES
            else DEFAULT_NO_SHOW
        )
        visit_types = []
        described: dict[str, Any] = {}
        for key in sorted(services):
            service = services[key]
            scheduled = float(service["minutes"])
            turnover = float(service["buffer_after_minutes"])
            seen = durations.get(key)
            if seen is not None and int(seen["n"]) >= MIN_DURATION_SAMPLES:
                mean, sd = float(seen["mean"]), float(seen["sd"])
                duration_source = f"actual durations (n={int(seen['n'])})"
            else:
                mean, sd = scheduled, DEFAULT_CV * scheduled
                duration_source = (
                    f"scheduled minutes, CV {DEFAULT_CV} (actual durations: {int(seen['n']) if seen else 0})"
                )
            counted = marked.get(key)
            scored = risks.get(key)
            if counted is not None and int(counted["n"]) >= MIN_NOSHOW_SAMPLES:
                rate = int(counted["missed"]) / int(counted["n"])
                rate_source = f"history ({int(counted['missed'])} of {int(counted['n'])})"
            elif scored is not None and int(scored["n"]) >= MIN_RISK_SAMPLES:
                rate = float(scored["mean"])
                rate_source = f"mean no_show_risk of {int(scored['n'])} upcoming appointments"
            elif all_marked >= MIN_NOSHOW_SAMPLES:
                rate = practice_rate
                rate_source = f"practice-wide history ({all_marked} marked)"
            else:
                rate = DEFAULT_NO_SHOW
                rate_source = "default"
            rate = min(max(rate, 0.0), MAX_NO_SHOW)
            visit_types.append(VisitType(key, mean_minutes=mean + turnover, std_minutes=sd, no_show_rate=rate))
            described[key] = {
                "mean_minutes": round(mean + turnover, 2),
                "std_minutes": round(sd, 2),
                "turnover_minutes": turnover,
                "duration_source": duration_source,
                "no_show_rate": round(rate, 4),
                "no_show_source": rate_source,
            }
        self.sources["visit_types"] = described
        return tuple(visit_types)

    def _arrival_scv(self, visit_types: tuple[VisitType, ...], demand: Mapping[tuple[str, int, str], float]) -> float:
        """Irregularity of arrivals for the waiting curve: 2 * (sd of start delays / mean visit)^2.

        Booked patients arrive at their slots give or take their punctuality, so the squared
        coefficient of variation of the time between two arrivals is that of the difference of two
        independent deviations over the mean interval. The deviation is the spread of actual_start -
        scheduled start in the history (it includes waiting caused by the provider running late, so
        it errs on the cautious side), or DEFAULT_PUNCTUALITY_SD minutes without enough data.
        """
        start, end, _ = self._history_span()
        row = self.cur.execute(
            "select count(*)::integer as n,"
            "       stddev_samp(extract(epoch from a.actual_start - lower(a.period)) / 60)::float8 as sd"
            "  from slotoptim_private.appointment as a"
            " where a.org_id = %s and a.status = 'completed' and a.actual_start is not null"
            "   and lower(a.period) >= %s and lower(a.period) < %s",
            (self.org, start, end),
        ).fetchone()
        measured = row is not None and int(row["n"]) >= MIN_DURATION_SAMPLES and row["sd"] is not None
        sd = float(row["sd"]) if measured and row is not None else DEFAULT_PUNCTUALITY_SD
        weights: dict[str, float] = defaultdict(float)
        for (_, _, visit), requests in demand.items():
            weights[visit] += requests
        total = sum(weights.values())
        mean = (
            sum(weights[v.name] * v.mean_minutes for v in visit_types) / total
            if total > 0
            else sum(v.mean_minutes for v in visit_types) / len(visit_types)
        )
        scv = 2.0 * (sd / mean) ** 2
        self.sources["arrival_scv"] = {
            "value": round(scv, 4),
            "start_delay_sd_minutes": round(sd, 2),
            "source": f"actual starts (n={int(row['n'])})" if measured and row is not None else "default",
            "mean_visit_minutes": round(mean, 2),
        }
        return scv

    def _history_span(self) -> tuple[dt.datetime, dt.datetime, str]:
        """The window for durations and no-shows: always the past (upcoming visits have no outcome)."""
        return self.at - dt.timedelta(weeks=self.weeks), self.at, "history"

    def _demand(
        self,
        services: Mapping[str, Mapping[str, Any]],
        window: tuple[dt.datetime, dt.datetime, str],
        weekdays: set[str],
    ) -> tuple[dict[tuple[str, int, str], float], set[int]]:
        demand = self._forecast_demand(services)
        if demand is None:
            demand = self._booked_demand(window)
        kept = {k: v for k, v in demand.items() if k[0] in weekdays and k[2] in services and v > 0}
        dropped = sum(v for k, v in demand.items() if k not in kept)
        if dropped > 0:
            self.sources["demand_dropped_per_week"] = round(dropped, 3)
        self.sources["demand_per_week"] = round(sum(kept.values()), 2)
        return kept, {h for _, h, _ in kept}

    def _forecast_demand(self, services: Mapping[str, Mapping[str, Any]]) -> dict[tuple[str, int, str], float] | None:
        hourly = self.cur.execute(
            "select f.provider_id, f.day, f.hour, f.expected::float8 as expected, f.method, f.generated_at"
            "  from slotoptim_private.demand_forecast as f"
            " where f.org_id = %s and f.hour is not null and f.service_id is null",
            (self.org,),
        ).fetchall()
        if not hourly:
            return None
        by_service = self.cur.execute(
            "select f.provider_id, f.day, s.key, f.expected::float8 as expected"
            "  from slotoptim_private.demand_forecast as f"
            "  join slotoptim_private.service as s on s.id = f.service_id"
            " where f.org_id = %s and f.hour is null",
            (self.org,),
        ).fetchall()
        mix: dict[tuple[int, dt.date], dict[str, float]] = defaultdict(dict)
        for r in by_service:
            mix[(int(r["provider_id"]), r["day"])][str(r["key"])] = float(r["expected"])
        fallback = self._booked_mix()
        days_of: dict[int, set[dt.date]] = defaultdict(set)
        totals: dict[tuple[str, int, str], float] = defaultdict(float)
        for r in hourly:
            day: dt.date = r["day"]
            if float(r["expected"]) > 0:
                # A day the forecast leaves empty is a closure: the template is for an ordinary week.
                days_of[day.isoweekday()].add(day)
            provider = int(r["provider_id"])
            shares = mix.get((provider, day)) or fallback.get(provider) or {}
            weight = sum(shares.values())
            if weight <= 0:
                continue
            for service, share in shares.items():
                totals[(WEEKDAY_NAMES[day.isoweekday() - 1], int(r["hour"]), service)] += (
                    float(r["expected"]) * share / weight
                )
        demand = {k: v / len(days_of[WEEKDAY_NAMES.index(k[0]) + 1]) for k, v in totals.items() if v > 0}
        first = min(hourly, key=lambda r: r["day"])
        last = max(hourly, key=lambda r: r["day"])
        self.sources["demand"] = {
            "source": "forecast",
            "method": str(first["method"]),
            "generated_at": first["generated_at"].isoformat(),
            "days": f"{first['day'].isoformat()}..{last['day'].isoformat()}",
        }
        return demand

    def _booked_mix(self) -> dict[int, dict[str, float]]:
        """Each provider's share of appointments per service over the history window."""
        start, end, _ = self._history_span()
        rows = self.cur.execute(
            "select a.provider_id, s.key, count(*)::integer as n"
            "  from slotoptim_private.appointment as a"
            "  join slotoptim_private.service as s on s.id = a.service_id"
            " where a.org_id = %s and a.status <> 'cancelled' and lower(a.period) >= %s and lower(a.period) < %s"
            " group by a.provider_id, s.key",
            (self.org, start, end),
        ).fetchall()
        mix: dict[int, dict[str, float]] = defaultdict(dict)
        for r in rows:
            mix[int(r["provider_id"])][str(r["key"])] = float(r["n"])
        return dict(mix)

    def _booked(self, window: tuple[dt.datetime, dt.datetime, str]) -> list[dict[str, Any]]:
        """Appointments per provider, local date, local hour and service in the window (not cancelled)."""
        start, end, _ = window
        return self.cur.execute(
            "select p.key as provider, (lower(a.period) at time zone p.timezone)::date as day,"
            "       extract(hour from lower(a.period) at time zone p.timezone)::integer as hour,"
            "       s.key as service, count(*)::integer as n"
            "  from slotoptim_private.appointment as a"
            "  join slotoptim_private.provider as p on p.id = a.provider_id"
            "  join slotoptim_private.service as s on s.id = a.service_id"
            " where a.org_id = %s and a.status <> 'cancelled' and lower(a.period) >= %s and lower(a.period) < %s"
            " group by 1, 2, 3, 4",
            (self.org, start, end),
        ).fetchall()

    def _booked_demand(self, window: tuple[dt.datetime, dt.datetime, str]) -> dict[tuple[str, int, str], float]:
        rows = self._booked(window)
        dates: dict[int, set[dt.date]] = defaultdict(set)
        totals: dict[tuple[str, int, str], float] = defaultdict(float)
        for r in rows:
            day: dt.date = r["day"]
            dates[day.isoweekday()].add(day)
            totals[(WEEKDAY_NAMES[day.isoweekday() - 1], int(r["hour"]), str(r["service"]))] += int(r["n"])
        self.sources["demand"] = {"source": f"booked appointments ({window[2]})", "appointments": sum(totals.values())}
        return {k: v / len(dates[WEEKDAY_NAMES.index(k[0]) + 1]) for k, v in totals.items()}

    def _current(
        self,
        providers: Mapping[str, Mapping[str, Any]],
        services: Mapping[str, Mapping[str, Any]],
        window: tuple[dt.datetime, dt.datetime, str],
    ) -> tuple[dict[SlotKey, int], set[int]]:
        rows = [r for r in self._booked(window) if r["provider"] in providers and r["service"] in services]
        dates: dict[tuple[str, int], set[dt.date]] = defaultdict(set)
        counts: dict[tuple[str, str, int], dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for r in rows:
            day: dt.date = r["day"]
            weekday = WEEKDAY_NAMES[day.isoweekday() - 1]
            dates[(str(r["provider"]), day.isoweekday())].add(day)
            counts[(str(r["provider"]), weekday, int(r["hour"]))][str(r["service"])] += int(r["n"])
        slots: dict[SlotKey, int] = {}
        for (provider, weekday, hour), per_service in counts.items():
            working_dates = len(dates[(provider, WEEKDAY_NAMES.index(weekday) + 1)])
            mean = {s: n / working_dates for s, n in per_service.items()}
            for service, n in _largest_remainder(mean, round(sum(mean.values()))).items():
                slots[(provider, weekday, hour, service)] = n
        self.sources["current"] = {
            "source": f"booked appointments ({window[2]})",
            "appointments": sum(int(r["n"]) for r in rows),
            "slots_per_week": sum(slots.values()),
        }
        return slots, {h for _, _, h, _ in slots}


def _minutes(text: str) -> int:
    hours, _, minutes = text.partition(":")
    return int(hours) * 60 + int(minutes)


def _clock_text(value: dt.time) -> str:
    total = value.hour * 60 + value.minute + (1 if value.second or value.microsecond else 0)
    return f"{total // 60:02d}:{total % 60:02d}"


def _largest_remainder(shares: Mapping[str, float], total: int) -> dict[str, int]:
    """Integers summing to ``total`` in proportion to ``shares`` (Hamilton's method)."""
    weight = sum(shares.values())
    if total <= 0 or weight <= 0:
        return {}
    exact = {k: total * v / weight for k, v in shares.items()}
    counts = {k: math.floor(x) for k, x in exact.items()}
    left = total - sum(counts.values())
    for key in sorted(exact, key=lambda k: (-(exact[k] - counts[k]), k))[:left]:
        counts[key] += 1
    return {k: n for k, n in counts.items() if n > 0}
