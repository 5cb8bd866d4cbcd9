"""`slotoptim ml forecast` against a database: history too short, a stored forecast with its closures,
hours that add up to the day, the heatmap, and a Prophet backtest."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import psycopg
import pytest

from slotoptim.ml.forecast.db_forecast import BacktestOptions, forecast_demand
from slotoptim.ml.noshow.organisations import organisations


def test_a_fortnight_of_demo_is_too_short_and_says_so(
    demo_conn: psycopg.Connection[dict[str, Any]], demo_at: dt.datetime
) -> None:
    (org,) = organisations(demo_conn)
    summary = forecast_demand(demo_conn, org, demo_at, backtest_options=BacktestOptions())
    assert summary["history"]["days"] == 3
    assert summary["forecast"]["stored"] is False
    assert "history too short: 3 days" in summary["forecast"]["note"]
    assert all("history too short" in b["error"] for b in summary["backtest"])
    assert demo_conn.execute("select count(*) as n from slotoptim_private.demand_forecast").fetchone() == {"n": 0}


def test_stored_forecast_respects_closures_and_hours_add_up(
    history_conn: psycopg.Connection[dict[str, Any]], history_at: dt.datetime, history_today: dt.date
) -> None:
    (org,) = organisations(history_conn)
    summary = forecast_demand(history_conn, org, history_at, days=14, method="seasonal_naive")
    assert summary["forecast"]["method"] == "seasonal_naive" and summary["forecast"]["stored"]
    rows = history_conn.execute("select * from slotoptim.demand_forecasts").fetchall()
    assert {r["day"] for r in rows} == {history_today + dt.timedelta(days=i) for i in range(14)}
    daily = {
        (r["provider_key"], r["day"]): float(r["expected"])
        for r in rows
        if r["service_key"] is None and r["hour"] is None
    }
    # The organisation's upcoming holiday, and okafor-pt's own training day, forecast nothing.
    holiday = dt.date.fromisoformat(summary["holidays"][-1])
    assert holiday > history_today and all(daily[(p, holiday)] == 0 for p in ("dr-chen", "dr-patel", "okafor-pt"))
    assert daily[("okafor-pt", history_today + dt.timedelta(days=10))] == 0
    assert daily[("dr-chen", history_today)] > 3  # a Monday
    hours: dict[tuple[str, dt.date], float] = defaultdict(float)
    for r in rows:
        if r["hour"] is not None:
            hours[(r["provider_key"], r["day"])] += float(r["expected"])
    for key, total in daily.items():
        assert hours.get(key, 0.0) == pytest.approx(total, abs=0.02)
    # Services add up to the provider's total within the rounding of each row.
    assert summary["version"]

    heat = history_conn.execute(
        "select * from slotoptim.demand_heatmap where provider_key = 'dr-chen' and weekday = 1 order by hour"
    ).fetchall()
    assert [h["hour"] for h in heat] == list(range(8, 17))
    assert all(h["capacity_minutes"] > 0 and h["demand_per_hour"] is not None and h["ratio"] > 0 for h in heat)
    weekly = history_conn.execute(
        "select * from slotoptim.weekly_demand_forecast where provider_key = 'dr-chen' and service_key is null"
    ).fetchall()
    assert [w["days_covered"] for w in weekly] == [7, 7]


def test_prophet_backtest_reports_both_methods(
    history_conn: psycopg.Connection[dict[str, Any]], history_at: dt.datetime
) -> None:
    (org,) = organisations(history_conn)
    options = BacktestOptions(initial=35, horizon=7, step=7, max_origins=1)
    summary = forecast_demand(history_conn, org, history_at, days=7, backtest_options=options, store=False)
    total = summary["backtest"][0]
    assert total["series"] == "total" and len(total["origins"]) == 1
    methods = {s["method"]: s for s in total["summaries"]}
    assert set(methods) == {"prophet", "seasonal_naive"}
    assert all(m["mase"] is not None and m["mape"] is not None for m in methods.values())
    assert summary["forecast"]["method"] == "prophet" and not summary["forecast"]["stored"]
    assert history_conn.execute("select count(*) as n from slotoptim_private.demand_forecast").fetchone() == {"n": 0}
