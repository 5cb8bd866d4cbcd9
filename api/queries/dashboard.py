"""The staff dashboard's numbers, read inside the caller's tenant transaction (row-level security).

Open gaps and live offers now, and for open gaps without offers why: the campaign's last reason
and each waitlist entry's first excluding filter (slotoptim.candidate_exclusions); today's fill
rate and minutes to fill (slotoptim.fill_kpis);
revenue recovered by day this month and its week and month totals (slotoptim.revenue_recovered);
and a demand heatmap from the calendar: per ISO weekday and local hour, the booked share of the
providers' working time and the number of cancellations, over the four weeks before today and the
two weeks after (what is on the books); the message experiment's readout (issue 16).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from slotoptim.api.db import Conn
from slotoptim.api.queries.claim_page import clock_time, money
from slotoptim.api.queries.dashboard_experiments import ExperimentCard, experiment_card

ORG_KEY = "(select o.key from slotoptim_private.organisation as o where o.id = slotoptim_private.current_org())"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HEATMAP_DAYS_BEFORE = 28
HEATMAP_DAYS_AFTER = 14

_HEATMAP = """
with days as (
  select d::date as day from generate_series(%(start)s::date, %(end)s::date - 1, interval '1 day') as d
), capacity as (
  select extract(isodow from d.day)::int as weekday, h.hour,
         sum(greatest(0, least(extract(epoch from wh.ends_at), (h.hour + 1) * 3600)
                         - greatest(extract(epoch from wh.starts_at), h.hour * 3600)) / 60) as minutes
    from slotoptim_private.working_hours as wh
    join days as d on extract(isodow from d.day) = wh.weekday
    cross join generate_series(0, 23) as h(hour)
   where wh.org_id = slotoptim_private.current_org()
   group by 1, 2
), local_appointments as (
  select a.status, lower(a.period) at time zone p.timezone as starts, upper(a.period) at time zone p.timezone as ends
    from slotoptim_private.appointment as a
    join slotoptim_private.provider as p on p.id = a.provider_id
   where a.org_id = slotoptim_private.current_org()
     and a.period && tstzrange(%(start_at)s, %(end_at)s)
), booked as (
  select extract(isodow from b.hour_start)::int as weekday, extract(hour from b.hour_start)::int as hour,
         sum(extract(epoch from least(la.ends, b.hour_start + interval '1 hour') - greatest(la.starts, b.hour_start))
             / 60) as minutes
    from local_appointments as la
    cross join lateral generate_series(date_trunc('hour', la.starts), la.ends - interval '1 microsecond',
                                       interval '1 hour') as b(hour_start)
   where la.status <> 'cancelled'
   group by 1, 2
), cancelled as (
  select extract(isodow from la.starts)::int as weekday, extract(hour from la.starts)::int as hour,
         count(*)::int as n
    from local_appointments as la
   where la.status = 'cancelled'
   group by 1, 2
)
select k.weekday, k.hour, coalesce(c.minutes, 0)::float8 as capacity, coalesce(b.minutes, 0)::float8 as booked,
       coalesce(x.n, 0) as cancellations
  from (select weekday, hour from capacity where minutes > 0
        union select weekday, hour from booked union select weekday, hour from cancelled) as k
  left join capacity as c using (weekday, hour)
  left join booked as b using (weekday, hour)
  left join cancelled as x using (weekday, hour)
 order by 1, 2
"""


# Gaps without offers whose waitlist is explained, and entries listed per gap: the explanation
# evaluates every active entry, so the page bounds it.
EXPLAINED_GAPS = 5
EXCLUSIONS_SHOWN = 25
# Above this many active entries the explanation is too slow for a page (it is not bounded yet):
# the page points to slotoptim.candidate_exclusions instead.
EXPLAINED_MAX_ENTRIES = 2000


@dataclass(frozen=True)
class GapRow:
    provider: str
    when: str
    minutes: int
    status: str
    open_offers: int
    why: str  # why it has no open offers ("" when it has some)


@dataclass(frozen=True)
class Exclusion:
    customer: str
    entry: str
    reason: str
    detail: str


@dataclass(frozen=True)
class GapExplanation:
    gap: GapRow
    campaign: str  # the last campaign's reason, or that none has started
    reasons: str  # e.g. "lead time 4, window 2"
    entries: list[Exclusion]
    more: int  # entries not listed


@dataclass(frozen=True)
class OfferRow:
    slot: str
    provider: str
    customer: str
    channel: str
    wave: int
    strategy: str
    status: str
    expires: str
    # The offer's text waits for the recipient's quiet hours to end: when it goes out (local time).
    sends_at: str | None = None


@dataclass(frozen=True)
class Bar:
    label: str
    amount: float
    text: str


@dataclass(frozen=True)
class Cell:
    share: float | None  # booked share of working time; None: no working time
    cancellations: int
    text: str
    level: int  # 0..4, the colour step


@dataclass
class CalendarRow:
    provider: str
    kind: str
    state: str
    last_sync: str
    note: str  # the last error of a broken calendar, or what was synced


@dataclass
class Dashboard:
    practice: str
    timezone: str
    today: str
    now: str
    gaps: list[GapRow]
    explained: list[GapExplanation]
    offers: list[OfferRow]
    gaps_opened_today: int
    gaps_filled_today: int
    fill_rate_today: str
    minutes_to_fill_today: str
    revenue_week: str
    revenue_month: str
    month_name: str
    revenue_days: list[Bar]
    revenue_max: float
    heatmap_hours: list[int] = field(default_factory=list)
    heatmap: list[tuple[str, list[Cell]]] = field(default_factory=list)
    heatmap_from: str = ""
    heatmap_to: str = ""
    calendars: list[CalendarRow] = field(default_factory=list)
    experiment: ExperimentCard | None = None


def _when(at: dt.datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    return f"{local:%a %b} {local.day}, {clock_time(local)}"


def _level(share: float | None) -> int:
    if share is None:
        return 0
    return 1 if share < 0.25 else 2 if share < 0.5 else 3 if share < 0.75 else 4


def heatmap(conn: Conn, start: dt.date, end: dt.date, tz: ZoneInfo) -> tuple[list[int], list[tuple[str, list[Cell]]]]:
    rows = conn.execute(
        _HEATMAP,
        {
            "start": start,
            "end": end,
            "start_at": dt.datetime.combine(start, dt.time(), tz),
            "end_at": dt.datetime.combine(end, dt.time(), tz),
        },
    ).fetchall()
    if not rows:
        return [], []
    values = {(int(r["weekday"]), int(r["hour"])): r for r in rows}
    hours = list(range(min(h for _, h in values), max(h for _, h in values) + 1))
    grid: list[tuple[str, list[Cell]]] = []
    for weekday in range(1, 8):
        cells = []
        for hour in hours:
            r = values.get((weekday, hour))
            capacity = 0.0 if r is None else float(r["capacity"])
            share = None if capacity <= 0 else min(1.0, float(r["booked"]) / capacity) if r else None
            cancellations = 0 if r is None else int(r["cancellations"])
            text = "–" if share is None else f"{round(share * 100)}%"
            if cancellations:
                text += f" · {cancellations}✕"
            cells.append(Cell(share, cancellations, text, _level(share)))
        grid.append((WEEKDAYS[weekday - 1], cells))
    return hours, grid


def explain_gap(conn: Conn, gap_id: int, row: GapRow, now: dt.datetime) -> GapExplanation:
    """Who on the waitlist is not offered this gap, and the first filter that says why."""
    rows = conn.execute(
        "select c.name as customer, coalesce(x.entry_key, '') as entry, x.excluded_by as reason, x.detail"
        " from slotoptim.candidate_exclusions(%s, %s) as x"
        " join slotoptim_private.customer as c on c.org_id = slotoptim_private.current_org() and c.key = x.customer_key"
        " order by x.excluded_by nulls first, c.name, x.entry_key",
        (gap_id, now),
    ).fetchall()
    counts: dict[str, int] = {}
    for r in rows:
        reason = str(r["reason"] or "candidate")
        counts[reason] = counts.get(reason, 0) + 1
    entries = [
        Exclusion(str(r["customer"]), str(r["entry"]), str(r["reason"] or "candidate"), str(r["detail"] or ""))
        for r in rows
    ]
    return GapExplanation(
        gap=row,
        campaign=row.why,
        reasons=", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        or "no active waitlist entries",
        entries=entries[:EXCLUSIONS_SHOWN],
        more=max(0, len(entries) - EXCLUSIONS_SHOWN),
    )


def dashboard(conn: Conn, now: dt.datetime) -> Dashboard:
    org = conn.execute(
        "select name, timezone, currency from slotoptim_private.organisation where id = slotoptim_private.current_org()"
    ).fetchone()
    assert org is not None
    tz = ZoneInfo(str(org["timezone"]))
    currency = str(org["currency"])
    today = now.astimezone(tz).date()
    week_start = today - dt.timedelta(days=today.weekday())
    month_start = today.replace(day=1)
    month_end = month_start.replace(day=calendar.monthrange(today.year, today.month)[1])

    gap_rows = conn.execute(
        "select g.id, p.name as provider, lower(g.during) as starts, g.status,"
        " (extract(epoch from upper(g.during) - lower(g.during)) / 60)::int as minutes,"
        " (select count(*) from slotoptim_private.offer as o where o.gap_id = g.id and o.status = 'open')"
        " as open_offers,"
        " (select c.status_reason from slotoptim_private.offer_campaign as c where c.gap_id = g.id"
        "   order by c.id desc limit 1) as campaign_reason"
        " from slotoptim_private.gap as g join slotoptim_private.provider as p on p.id = g.provider_id"
        " where g.org_id = slotoptim_private.current_org() and g.status in ('open', 'offering')"
        " and g.kind = 'bookable' and upper(g.during) > %s order by lower(g.during) limit 50",
        (now,),
    ).fetchall()
    gaps = [
        GapRow(
            provider=str(r["provider"]),
            when=_when(r["starts"], tz),
            minutes=int(r["minutes"]),
            status=str(r["status"]),
            open_offers=int(r["open_offers"]),
            why="" if r["open_offers"] else str(r["campaign_reason"] or "not offered yet"),
        )
        for r in gap_rows
    ]
    waiting = conn.execute(
        "select count(*) as n from slotoptim_private.waitlist_entry"
        " where org_id = slotoptim_private.current_org() and status = 'active'"
    ).fetchone()
    assert waiting is not None
    unexplained = [(int(r["id"]), row) for r, row in zip(gap_rows, gaps, strict=True) if not row.open_offers]
    explained = (
        [explain_gap(conn, gap_id, row, now) for gap_id, row in unexplained[:EXPLAINED_GAPS]]
        if int(waiting["n"]) <= EXPLAINED_MAX_ENTRIES
        else [
            GapExplanation(
                row,
                row.why,
                f"{waiting['n']} active entries: too many to explain here (slotoptim.candidate_exclusions lists them)",
                [],
                0,
            )
            for _, row in unexplained[:EXPLAINED_GAPS]
        ]
    )
    offers = [
        OfferRow(
            slot=_when(r["starts"], tz),
            provider=str(r["provider"]),
            customer=str(r["customer"]),
            channel=str(r["channel"]),
            wave=int(r["wave"]),
            strategy=str(r["strategy"]),
            status=str(r["status"]),
            expires=_when(r["expires_at"], tz),
            sends_at=None if r["sends_at"] is None else clock_time(r["sends_at"].astimezone(tz)),
        )
        for r in conn.execute(
            "select lower(o.slot) as starts, p.name as provider, cu.name as customer, o.channel, o.wave,"
            " c.strategy, o.status, o.expires_at,"
            " (select min(m.not_before) from slotoptim_private.message as m where m.offer_id = o.id"
            "   and m.kind = 'offer' and m.status = 'queued' and m.not_before > %s) as sends_at"
            " from slotoptim_private.offer as o"
            " join slotoptim_private.offer_campaign as c on c.id = o.campaign_id"
            " join slotoptim_private.gap as g on g.id = o.gap_id"
            " join slotoptim_private.provider as p on p.id = g.provider_id"
            " join slotoptim_private.customer as cu on cu.id = o.customer_id"
            " where o.org_id = slotoptim_private.current_org() and c.status in ('running', 'awaiting_approval')"
            " order by lower(o.slot), o.wave, o.id limit 100",
            (now,),
        ).fetchall()
    ]
    fill = conn.execute(
        "select coalesce(sum(gaps_opened), 0)::int as opened, coalesce(sum(gaps_filled), 0)::int as filled,"
        " sum(median_minutes_to_fill * gaps_filled)::float8 as weighted"
        " from slotoptim.fill_kpis where org_key = " + ORG_KEY + " and day = %s",
        (today,),
    ).fetchone()
    assert fill is not None
    opened, filled = int(fill["opened"]), int(fill["filled"])
    revenue: dict[dt.date, Decimal] = {
        r["day"]: r["revenue"] or Decimal(0)
        for r in conn.execute(
            "select day, sum(revenue) as revenue from slotoptim.revenue_recovered where org_key = " + ORG_KEY + ""
            " and day between %s and %s group by day",
            (min(week_start, month_start), month_end),
        ).fetchall()
    }
    week = sum((v for d, v in revenue.items() if week_start <= d <= week_start + dt.timedelta(days=6)), Decimal(0))
    month = sum((v for d, v in revenue.items() if month_start <= d <= month_end), Decimal(0))
    days = [month_start + dt.timedelta(days=i) for i in range(month_end.day)]
    bars = [Bar(str(d.day), float(revenue.get(d, 0)), money(revenue.get(d, Decimal(0)), currency)) for d in days]
    heat_start = today - dt.timedelta(days=HEATMAP_DAYS_BEFORE)
    heat_end = today + dt.timedelta(days=HEATMAP_DAYS_AFTER)
    hours, grid = heatmap(conn, heat_start, heat_end, tz)
    local_now = now.astimezone(tz)
    return Dashboard(
        practice=str(org["name"]),
        timezone=f"{org['timezone']} ({local_now.tzname()})",
        today=f"{today:%A, %B} {today.day}",
        now=clock_time(local_now),
        gaps=gaps,
        explained=explained,
        offers=offers,
        gaps_opened_today=opened,
        gaps_filled_today=filled,
        fill_rate_today="–" if opened == 0 else f"{round(100 * filled / opened)}%",
        minutes_to_fill_today="–" if not filled or fill["weighted"] is None else f"{fill['weighted'] / filled:.0f}",
        revenue_week=money(week, currency),
        revenue_month=money(month, currency),
        month_name=f"{today:%B %Y}",
        revenue_days=bars,
        revenue_max=max([b.amount for b in bars] + [1.0]),
        heatmap_hours=hours,
        heatmap=grid,
        heatmap_from=f"{heat_start:%b} {heat_start.day}",
        heatmap_to=f"{heat_end - dt.timedelta(days=1):%b} {(heat_end - dt.timedelta(days=1)).day}",
        calendars=calendars(conn, tz),
        experiment=experiment_card(conn),
    )


def calendars(conn: Conn, tz: ZoneInfo) -> list[CalendarRow]:
    """Linked calendars, broken ones first: a revoked grant must not go unnoticed."""
    rows = conn.execute(
        "select provider_key, kind, state, last_sync_at, last_error, items_imported, writes_done, writes_pending"
        " from slotoptim.calendar_connections order by state = 'ok', provider_key"
    ).fetchall()
    return [
        CalendarRow(
            provider=str(r["provider_key"]),
            kind=str(r["kind"]),
            state=str(r["state"]),
            last_sync="never" if r["last_sync_at"] is None else _when(r["last_sync_at"], tz),
            note=(
                f"Reconnect: {r['last_error']}"
                if r["state"] == "broken"
                else f"{r['items_imported']} events imported, {r['writes_done']} bookings written,"
                f" {r['writes_pending']} waiting"
            ),
        )
        for r in rows
    ]
