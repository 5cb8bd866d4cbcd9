"""What the fill engine achieved over a period, from the KPI views."""

from __future__ import annotations

import datetime as dt

import msgspec


class Funnel(msgspec.Struct, kw_only=True):
    offers: int
    sent: int
    delivered: int
    clicked: int
    claimed: int
    declined: int
    expired: int
    retracted: int


class Revenue(msgspec.Struct, kw_only=True):
    amount: float
    currency: str
    appointments: int


class KpiDay(msgspec.Struct, kw_only=True):
    day: dt.date
    gaps_opened: int
    gaps_filled: int
    fill_rate: float | None
    # Median over the day's filled gaps, per provider, averaged over providers weighted by fills.
    median_minutes_to_fill: float | None
    revenue_recovered: float


class Kpis(msgspec.Struct, kw_only=True, rename={"from_": "from"}):
    from_: dt.date
    to: dt.date
    gaps_opened: int
    gaps_filled: int
    # gaps_filled / gaps_opened over the period (bookable gaps only).
    fill_rate: float | None
    # The daily medians of minutes from opening to fill, averaged (weighted by fills).
    minutes_to_fill: float | None
    revenue_recovered: Revenue
    funnel: Funnel
    days: list[KpiDay]
