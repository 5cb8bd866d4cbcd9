"""Prometheus metrics: HTTP requests and latencies by route, claims by outcome, and what the fill
engine achieved (read from the database at scrape time, cached for a few seconds).

Each app has its own registry, so several apps in one process (tests) do not collide. Labels
carry routes, statuses and organisation keys: never ids of people.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from slotoptim.api.db import Database

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

ENGINE_QUERY = """
select o.key as org,
       (select count(*) from slotoptim_private.offer as f where f.org_id = o.id) as offers_made,
       (select count(*) from slotoptim_private.message as m
         where m.org_id = o.id and m.kind = 'offer' and m.status in ('sent', 'delivered')) as offers_sent,
       (select count(*) from slotoptim_private.offer as f
         where f.org_id = o.id and f.status = 'claimed') as offers_claimed,
       (select sum(k.gaps_filled)::float8 / nullif(sum(k.gaps_opened), 0)
          from slotoptim.fill_kpis as k
         where k.org_key = o.key and k.day > current_date - 7 and k.day <= current_date) as fill_rate_7d,
       (select coalesce(extract(epoch from max(now() - m.not_before)), 0)::float8
          from slotoptim_private.message as m
         where m.org_id = o.id and m.status in ('queued', 'sending') and m.not_before <= now()) as outbox_age_s,
       (select count(*) from slotoptim_private.message as m
         where m.org_id = o.id and m.status in ('failed', 'undelivered')) as messages_failed
  from slotoptim_private.organisation as o
 order by o.key
"""


class EngineCollector(Collector):
    """Offers made, sent and claimed, and the 7-day fill rate, per organisation."""

    def __init__(self, db: Database, ttl_seconds: float = 15.0, per_org: bool = False) -> None:
        self.db = db
        # Off: one total labelled org="all", so a scrape does not list every organisation's key.
        self.per_org = per_org
        self.ttl = ttl_seconds
        self._rows: list[dict[str, Any]] = []
        self._at = -ttl_seconds
        self._ok = False
        self._lock = threading.Lock()

    def describe(self) -> Iterable[Metric]:
        return []  # do not query the database when the collector is registered

    def _refresh(self) -> None:
        with self._lock:
            if time.monotonic() - self._at < self.ttl:
                return
            try:
                with self.db.connection() as conn:
                    conn.execute("set local statement_timeout = '5s'")
                    self._rows = [dict(r) for r in conn.execute(ENGINE_QUERY).fetchall()]
                self._ok = True
            except Exception:  # a scrape must not fail because the database is away
                self._ok = False
            self._at = time.monotonic()

    def collect(self) -> Iterable[Metric]:
        self._refresh()
        up = GaugeMetricFamily("slotoptim_engine_metrics_up", "1 when the engine figures below could be read")
        up.add_metric([], 1.0 if self._ok else 0.0)
        yield up
        made = CounterMetricFamily("slotoptim_offers_made", "Offers the fill engine made", labels=["org"])
        sent = CounterMetricFamily("slotoptim_offers_sent", "Offer messages handed to a channel", labels=["org"])
        claimed = CounterMetricFamily("slotoptim_offers_claimed", "Offers claimed (booked)", labels=["org"])
        fill = GaugeMetricFamily("slotoptim_fill_rate", "Share of bookable gaps filled, last 7 days", labels=["org"])
        # The deployment's alarms watch these two (infra/cdk/stacks/alarms.py).
        outbox_age = GaugeMetricFamily(
            "slotoptim_outbox_oldest_age_seconds", "How long the oldest due, unsent message has waited", labels=["org"]
        )
        failed = CounterMetricFamily(
            "slotoptim_messages_failed", "Messages that failed or were undelivered (sender errors)", labels=["org"]
        )
        rows = self._rows if self.per_org else _totals(self._rows)
        for row in rows:
            made.add_metric([row["org"]], float(row["offers_made"]))
            sent.add_metric([row["org"]], float(row["offers_sent"]))
            claimed.add_metric([row["org"]], float(row["offers_claimed"]))
            if row["fill_rate_7d"] is not None:
                fill.add_metric([row["org"]], float(row["fill_rate_7d"]))
            outbox_age.add_metric([row["org"]], float(row["outbox_age_s"]))
            failed.add_metric([row["org"]], float(row["messages_failed"]))
        yield from (made, sent, claimed, fill, outbox_age, failed)


def _totals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """All organisations as one row; the fill rate is left out (a mean of rates would mislead)."""
    return [
        {
            "org": "all",
            "offers_made": sum(r["offers_made"] for r in rows),
            "offers_sent": sum(r["offers_sent"] for r in rows),
            "offers_claimed": sum(r["offers_claimed"] for r in rows),
            "fill_rate_7d": None,
            "outbox_age_s": max((r["outbox_age_s"] for r in rows), default=0),
            "messages_failed": sum(r["messages_failed"] for r in rows),
        }
    ]


class Metrics:
    def __init__(self, db: Database | None = None, per_org: bool = False) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "slotoptim_http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "slotoptim_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.claims = Counter("slotoptim_claims", "Claims by outcome", ["outcome", "via"], registry=self.registry)
        if db is not None:
            self.registry.register(EngineCollector(db, per_org=per_org))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def claim(self, outcome: str, via: str) -> None:
        self.claims.labels(outcome, via).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
