"""Driving the real fill engine on a simulated clock: cancellations, the engine's passes, and
customers who answer offers the way seed 002's channel table says people do.

Used by `slotoptim demo` (one day of the demo practice) and reusable for strategy comparisons.
Nothing sleeps: the clock is a variable that every SQL call receives as its `at`.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
import redis
from psycopg.rows import dict_row

from slotoptim.claims import claim
from slotoptim.listener.channels.base import OutboundMessage, SendResult
from slotoptim.listener.sender import Sender, SenderConfig

# Seed 002: median response time (minutes) and acceptance rate by channel.
CHANNEL_BEHAVIOUR: Mapping[str, tuple[float, float]] = {
    "sms": (3.2, 0.34),
    "whatsapp": (7.1, 0.31),
    "email": (47.0, 0.12),
}
# Of those who do not accept, the share who say no rather than stay silent.
DECLINE_SHARE = 0.4


class RecordingChannel:
    """Stands in for a provider in simulations: accepts every message and remembers it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[OutboundMessage] = []
        self._ids = itertools.count(1)

    def send(self, message: OutboundMessage) -> SendResult:
        self.sent.append(message)
        return SendResult(provider_id=f"sim-{self.name}-{message.message_id}-{next(self._ids)}", status="sent")


@dataclass(order=True)
class _Event:
    at: dt.datetime
    seq: int
    kind: str = field(compare=False)
    payload: dict[str, Any] = field(compare=False)


@dataclass
class SimulationLog:
    events: list[dict[str, Any]] = field(default_factory=list)

    def add(self, at: dt.datetime, what: str, **fields: Any) -> None:
        self.events.append({"at": at.isoformat(), "event": what, **fields})


class FillSimulation:
    """Cancellations happen at given times; each minute the engine ticks and the outbox drains;
    customers who got an offer answer after a log-normal delay with the channel's median."""

    def __init__(self, url: str, rng: random.Random, redis_client: redis.Redis | None, step: dt.timedelta) -> None:
        self.url = url
        self.rng = rng
        self.redis = redis_client
        self.step = step
        self.now = dt.datetime.now(dt.UTC)
        self.channels = {name: RecordingChannel(name) for name in ("sms", "whatsapp", "email", "console")}
        self.sender = Sender(url, self.channels, SenderConfig(threads=4), clock=lambda: self.now, worker="simulation")
        self.queue: list[_Event] = []
        self.seq = itertools.count()
        self.log = SimulationLog()
        self.seen_messages = 0

    def close(self) -> None:
        self.sender.close()

    def schedule(self, at: dt.datetime, kind: str, **payload: Any) -> None:
        heapq.heappush(self.queue, _Event(at, next(self.seq), kind, payload))

    def run(self, start: dt.datetime, end: dt.datetime) -> None:
        self.now = start
        with psycopg.connect(self.url, autocommit=True, row_factory=dict_row) as conn:
            while self.now <= end:
                while self.queue and self.queue[0].at <= self.now:
                    self._handle(conn, heapq.heappop(self.queue))
                conn.execute("select * from slotoptim.tick(%s)", (self.now,))
                self.sender.drain()
                self._answer_new_offers(conn)
                self.now += self.step

    def _handle(self, conn: psycopg.Connection[Any], event: _Event) -> None:
        if event.kind == "cancel":
            gaps = conn.execute(
                "select * from slotoptim.cancel_appointment(%s, %s)", (event.payload["appointment_id"], self.now)
            ).fetchall()
            self.log.add(
                self.now,
                "cancellation",
                appointment_id=event.payload["appointment_id"],
                gaps=[g["cancel_appointment"] for g in gaps],
            )
        elif event.kind == "accept":
            result = claim(conn, self.redis, event.payload["offer_id"], event.payload["customer_id"], self.now)
            self.log.add(self.now, "claim", offer_id=event.payload["offer_id"], outcome=result.outcome)
        elif event.kind == "decline":
            conn.execute(
                "select slotoptim.decline_offer(%s, %s, %s)",
                (event.payload["offer_id"], event.payload["customer_id"], self.now),
            )
            self.log.add(self.now, "decline", offer_id=event.payload["offer_id"])

    def _answer_new_offers(self, conn: psycopg.Connection[Any]) -> None:
        sent = [m for ch in self.channels.values() for m in ch.sent]
        fresh = sent[self.seen_messages :]
        self.seen_messages = len(sent)
        offer_messages = [m.message_id for m in fresh]
        if not offer_messages:
            return
        rows = conn.execute(
            "select m.id, m.channel, o.id as offer_id, o.customer_id, o.wave from slotoptim_private.message m"
            " join slotoptim_private.offer o on o.id = m.offer_id where m.id = any(%s) and m.kind = 'offer'",
            (offer_messages,),
        ).fetchall()
        for row in rows:
            median, accept_rate = CHANNEL_BEHAVIOUR[row["channel"]]
            delay = dt.timedelta(minutes=median * math.exp(self.rng.gauss(0.0, 1.0)))
            draw = self.rng.random()
            if draw < accept_rate:
                self.schedule(self.now + delay, "accept", offer_id=row["offer_id"], customer_id=row["customer_id"])
            elif draw < accept_rate + (1 - accept_rate) * DECLINE_SHARE:
                self.schedule(self.now + delay, "decline", offer_id=row["offer_id"], customer_id=row["customer_id"])
            self.log.add(self.now, "offer_sent", offer_id=row["offer_id"], channel=row["channel"], wave=row["wave"])


def kpis(conn: psycopg.Connection[Any], org_key: str) -> dict[str, Any]:
    """The fill engine's measures for an organisation, straight from the SQL views."""
    fill = conn.execute(
        "select coalesce(sum(gaps_opened), 0)::int as gaps_opened, coalesce(sum(gaps_filled), 0)::int as gaps_filled,"
        " round(coalesce(sum(gaps_filled), 0)::numeric / nullif(sum(gaps_opened), 0), 3) as fill_rate,"
        " round(avg(median_minutes_to_fill), 1) as mean_of_daily_median_minutes_to_fill"
        " from slotoptim.fill_kpis where org_key = %s",
        (org_key,),
    ).fetchone()
    revenue = conn.execute(
        "select coalesce(sum(revenue), 0) as revenue, max(currency) as currency"
        " from slotoptim.revenue_recovered where org_key = %s",
        (org_key,),
    ).fetchone()
    funnel = conn.execute(
        "select strategy, channel, offers, sent, claimed, declined, expired, retracted"
        " from slotoptim.offer_funnel where org_key = %s order by strategy, channel",
        (org_key,),
    ).fetchall()
    return {"fill": dict(fill or {}), "revenue_recovered": dict(revenue or {}), "funnel": [dict(r) for r in funnel]}
