"""What a strategy achieved in one simulated run, measured on its database after the run.

Definitions (the same for every strategy):
- a **cancellation is filled** when an appointment booked from the waitlist (source 'waitlist')
  for the same provider overlaps the cancelled appointment's time; **time to fill** runs from the
  cancellation to the first such booking. Fill rates are over all simulated cancellations; the
  same-day fill rate over those made less than 24 hours before the appointment.
- **offers sent**: offer messages the outbox sent (manual: phone calls made); **per fill**: divided
  by the appointments booked from the waitlist.
- **found it gone**: customers who said yes after the slot was taken (claims answered "filled"),
  and the "filled" notices sent to customers whose offer was withdrawn because someone else took it.
- **utilisation gain**: minutes booked from the waitlist (service minutes, appointments starting in
  the simulated weeks) as a percentage of the minutes that stayed booked otherwise (the practice's
  own appointments in those weeks after the cancellations): the billable time the fill won back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from slotoptim.listener.simulation import SimulationLog
from slotoptim.ml.simulate.fill_practice import FillScenario

WITHIN_MINUTES = 60.0


@dataclass(frozen=True)
class StrategyResult:
    strategy: str
    cancellations: int
    filled: int
    filled_within_60: int
    fill_rate: float
    fill_rate_60: float
    same_day_cancellations: int
    same_day_fill_rate: float
    """Fill rate of the cancellations made less than 24 hours before the appointment."""
    median_minutes_to_fill: float | None
    p90_minutes_to_fill: float | None
    waitlist_bookings: int
    offers_sent: int
    offers_per_fill: float | None
    customers_contacted: int
    late_claims: int
    filled_notices: int
    expired_claims: int
    cancelled_minutes: float
    booked_minutes: float
    recovered_minutes: float
    utilisation_gain_pct: float
    recovered_share_of_cancelled: float
    revenue_recovered: float
    staff_phone_minutes: float | None
    """Manual only: minutes the staff member spent on the phone."""
    minutes_to_fill: tuple[float, ...]
    """Each filled cancellation's minutes to fill, ascending (for the chart)."""
    steps: int
    seconds: float

    def to_plain(self) -> dict[str, Any]:
        return asdict(self)


def measure(
    conn: psycopg.Connection[Any],
    scenario: FillScenario,
    log: SimulationLog,
    strategy: str,
    *,
    calls: int | None,
    phone_minutes: float | None = None,
    steps: int,
    seconds: float,
) -> StrategyResult:
    with conn.cursor(row_factory=dict_row) as cur:
        cancelled = cur.execute(
            "select a.key, a.provider_id, a.period, a.cancelled_at,"
            "       extract(epoch from upper(a.period) - lower(a.period)) / 60 as minutes"
            "  from slotoptim_private.appointment as a"
            " where a.key = any(%s) and a.status = 'cancelled'",
            ([c.appointment_key for c in scenario.cancellations],),
        ).fetchall()
        bookings = cur.execute(
            "select a.provider_id, a.period, a.booked_at, s.minutes, s.price"
            "  from slotoptim_private.appointment as a"
            "  join slotoptim_private.service as s on s.id = a.service_id"
            " where a.source = 'waitlist' and a.status <> 'cancelled'"
            "   and lower(a.period) >= %s and lower(a.period) < %s",
            (scenario.start, scenario.end),
        ).fetchall()
        kept = cur.execute(
            "select coalesce(sum(extract(epoch from upper(a.period) - lower(a.period)) / 60), 0)::float8 as minutes"
            "  from slotoptim_private.appointment as a"
            " where a.source <> 'waitlist' and a.status <> 'cancelled'"
            "   and lower(a.period) >= %s and lower(a.period) < %s",
            (scenario.start, scenario.end),
        ).fetchone()
        messages = cur.execute(
            "select count(*) filter (where kind = 'offer')::integer as offers,"
            "       count(distinct customer_id) filter (where kind = 'offer')::integer as customers,"
            "       count(*) filter (where kind = 'filled')::integer as filled_notices"
            "  from slotoptim_private.message where status in ('sent', 'delivered')"
        ).fetchone()
    times: list[float] = []
    same_day = same_day_filled = 0
    for c in cancelled:
        fills = [
            b["booked_at"]
            for b in bookings
            if b["provider_id"] == c["provider_id"] and _overlaps(b["period"], c["period"])
            if b["booked_at"] >= c["cancelled_at"]
        ]
        late = c["period"].lower - c["cancelled_at"] < dt.timedelta(hours=24)
        same_day += late
        if fills:
            times.append((min(fills) - c["cancelled_at"]).total_seconds() / 60.0)
            same_day_filled += late
    times.sort()
    claims = [e for e in log.events if e["event"] == "claim"]
    staff_calls = [e for e in log.events if e["event"] == "staff_call"]
    offers = calls if calls is not None else int(messages["offers"] if messages else 0)
    if calls is not None:
        customers = len({e["customer_id"] for e in staff_calls})
    else:
        customers = int(messages["customers"] if messages else 0)
    count = len(cancelled)
    recovered = float(sum(b["minutes"] for b in bookings))
    booked = float(kept["minutes"] if kept else 0.0)
    cancelled_minutes = float(sum(c["minutes"] for c in cancelled))
    within = sum(1 for t in times if t <= WITHIN_MINUTES)
    return StrategyResult(
        strategy=strategy,
        cancellations=count,
        filled=len(times),
        filled_within_60=within,
        fill_rate=len(times) / count if count else 0.0,
        fill_rate_60=within / count if count else 0.0,
        same_day_cancellations=same_day,
        same_day_fill_rate=same_day_filled / same_day if same_day else 0.0,
        median_minutes_to_fill=quantile(times, 0.5),
        p90_minutes_to_fill=quantile(times, 0.9),
        waitlist_bookings=len(bookings),
        offers_sent=offers,
        offers_per_fill=offers / len(bookings) if bookings else None,
        customers_contacted=customers,
        late_claims=sum(1 for c in claims if c["outcome"] == "filled"),
        filled_notices=int(messages["filled_notices"] if messages else 0),
        expired_claims=sum(1 for c in claims if c["outcome"] == "expired"),
        cancelled_minutes=cancelled_minutes,
        booked_minutes=booked,
        recovered_minutes=recovered,
        utilisation_gain_pct=100.0 * recovered / booked if booked else 0.0,
        recovered_share_of_cancelled=recovered / cancelled_minutes if cancelled_minutes else 0.0,
        revenue_recovered=float(sum(b["price"] for b in bookings)),
        staff_phone_minutes=None if phone_minutes is None else round(phone_minutes, 1),
        minutes_to_fill=tuple(round(t, 2) for t in times),
        steps=steps,
        seconds=round(seconds, 1),
    )


def quantile(values: list[float], q: float) -> float | None:
    """Linear interpolation between order statistics (numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _overlaps(a: Any, b: Any) -> bool:
    lower_a, upper_a = _bounds(a)
    lower_b, upper_b = _bounds(b)
    return lower_a < upper_b and lower_b < upper_a


def _bounds(value: Any) -> tuple[dt.datetime, dt.datetime]:
    return value.lower, value.upper
