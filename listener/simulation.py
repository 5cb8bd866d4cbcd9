"""Driving the real fill engine on a simulated clock: cancellations, the engine's passes, and
customers who answer offers the way seed 002's channel table says people do.

Used by `slotoptim demo` (one day of the demo practice) and by `slotoptim simulate fill` (weeks of
the demo practice, strategy against strategy: slotoptim.ml.simulate.fill). Nothing sleeps: the
clock is a variable that every SQL call receives as its `at`. With ``skip_idle`` the clock jumps
over steps in which nothing can happen (no event, campaign, message or new gap due), which is the
same as ticking every step and finding nothing to do, only faster.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
import redis
from psycopg.rows import dict_row

from slotoptim.listener.channels.base import OutboundMessage, SendResult
from slotoptim.listener.claims import claim
from slotoptim.listener.sender import Sender, SenderConfig

# Seed 002: median response time (minutes) and acceptance rate by channel. "phone" is a staff member's
# call (the manual baseline of the strategy comparison); the engine itself sends on the other three.
CHANNEL_BEHAVIOUR: Mapping[str, tuple[float, float]] = {
    "sms": (3.2, 0.34),
    "whatsapp": (7.1, 0.31),
    "email": (47.0, 0.12),
    "phone": (1.4, 0.41),
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


@dataclass(frozen=True)
class OfferReceived:
    """What a customer sees when an offer message reaches them: the input of a responder."""

    offer_id: int
    customer_id: int
    customer_key: str
    customer_tz: str
    channel: str
    wave: int
    gap_id: int
    slot_start: dt.datetime
    cancelled_key: str | None
    """Key of the cancelled appointment whose time the offered slot lies in, if any."""
    at: dt.datetime


@dataclass(frozen=True)
class Response:
    """A customer's answer, "accept" or "decline", after ``delay``; a responder returns None for silence."""

    kind: str
    delay: dt.timedelta


Responder = Callable[[OfferReceived], Response | None]


@dataclass(order=True)
class SimulationEvent:
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
    """Cancellations happen at given times; each step the engine ticks and the outbox drains;
    customers who got an offer answer after a log-normal delay with the channel's median.

    ``responder`` replaces the built-in customers (which draw from ``rng`` in message order) with a
    function of the offer, so that several runs can give one customer the same answer to the same
    opening. Subclasses add event kinds through ``handle_event`` and see cancellations through
    ``cancelled``.
    """

    def __init__(
        self,
        url: str,
        rng: random.Random,
        redis_client: redis.Redis | None,
        step: dt.timedelta,
        *,
        responder: Responder | None = None,
        skip_idle: bool = False,
    ) -> None:
        self.url = url
        self.rng = rng
        self.redis = redis_client
        self.step = step
        self.responder = responder
        self.skip_idle = skip_idle
        self.now = dt.datetime.now(dt.UTC)
        self.channels = {name: RecordingChannel(name) for name in ("sms", "whatsapp", "email", "console")}
        self.sender = Sender(url, self.channels, SenderConfig(threads=4), clock=lambda: self.now, worker="simulation")
        self.queue: list[SimulationEvent] = []
        self.seq = itertools.count()
        self.log = SimulationLog()
        self.seen_messages: dict[str, int] = {}
        self.steps = 0

    def close(self) -> None:
        self.sender.close()

    def schedule(self, at: dt.datetime, kind: str, **payload: Any) -> None:
        heapq.heappush(self.queue, SimulationEvent(at, next(self.seq), kind, payload))

    def run(self, start: dt.datetime, end: dt.datetime) -> None:
        self.now = start
        with psycopg.connect(self.url, autocommit=True, row_factory=dict_row) as conn:
            while self.now <= end:
                while self.queue and self.queue[0].at <= self.now:
                    self._handle(conn, heapq.heappop(self.queue))
                conn.execute("select * from slotoptim.tick(%s)", (self.now,))
                self.sender.drain()
                self._answer_new_offers(conn)
                self.steps += 1
                self.now = self._next_step(conn, start, end) if self.skip_idle else self.now + self.step

    def handle_event(self, conn: psycopg.Connection[Any], event: SimulationEvent) -> None:
        """Events of kinds this class does not know (a subclass's own, e.g. a staff member's call)."""
        raise ValueError(f"unknown simulation event {event.kind!r}")

    def cancelled(self, conn: psycopg.Connection[Any], appointment_id: int, gap_ids: list[int]) -> None:
        """Called after each simulated cancellation with the gaps it opened; subclasses may react."""

    def _next_step(self, conn: psycopg.Connection[Any], start: dt.datetime, end: dt.datetime) -> dt.datetime:
        """The first step on the grid from `start` at which an event, a campaign, a message or a new gap is due."""
        following = self.now + self.step
        row = conn.execute(
            "select least("
            " (select min(c.next_action_at) from slotoptim_private.offer_campaign as c"
            "   where c.status in ('running', 'awaiting_approval')),"
            " (select min(m.not_before) from slotoptim_private.message as m where m.status = 'queued'),"
            " (select min(g.opened_at) from slotoptim_private.gap as g"
            "    join slotoptim_private.organisation_settings as st on st.org_id = g.org_id and st.auto_offer"
            "   where g.status = 'open' and g.kind = 'bookable' and upper(g.during) > %s"
            "     and not exists (select 1 from slotoptim_private.offer_campaign as c where c.gap_id = g.id))"
            ") as due",
            (self.now,),
        ).fetchone()
        due = [d for d in (row["due"] if row else None, self.queue[0].at if self.queue else None) if d is not None]
        if not due:
            return end + self.step
        wanted = min(due)
        if wanted <= following:
            return following
        # Round up onto the step grid, where a step-by-step loop would meet it.
        return start + self.step * math.ceil((wanted - start) / self.step)

    def _handle(self, conn: psycopg.Connection[Any], event: SimulationEvent) -> None:
        if event.kind == "cancel":
            gaps = conn.execute(
                "select * from slotoptim.cancel_appointment(%s, %s)", (event.payload["appointment_id"], self.now)
            ).fetchall()
            gap_ids = [int(g["cancel_appointment"]) for g in gaps]
            self.log.add(self.now, "cancellation", appointment_id=event.payload["appointment_id"], gaps=gap_ids)
            self.cancelled(conn, int(event.payload["appointment_id"]), gap_ids)
        elif event.kind == "accept":
            result = claim(conn, self.redis, event.payload["offer_id"], event.payload["customer_id"], self.now)
            self.log.add(
                self.now,
                "claim",
                offer_id=event.payload["offer_id"],
                customer_id=event.payload["customer_id"],
                outcome=result.outcome,
            )
        elif event.kind == "decline":
            conn.execute(
                "select slotoptim.decline_offer(%s, %s, %s)",
                (event.payload["offer_id"], event.payload["customer_id"], self.now),
            )
            self.log.add(self.now, "decline", offer_id=event.payload["offer_id"])
        else:
            self.handle_event(conn, event)

    def _answer_new_offers(self, conn: psycopg.Connection[Any]) -> None:
        # New messages per channel: each channel's list only grows (a flat list of all channels would
        # not, when an SMS follows an email).
        offer_messages = []
        for name, channel in self.channels.items():
            offer_messages += [m.message_id for m in channel.sent[self.seen_messages.get(name, 0) :]]
            self.seen_messages[name] = len(channel.sent)
        if not offer_messages:
            return
        if self.responder is not None:
            self._answer_with(self.responder, conn, offer_messages)
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

    def _answer_with(self, responder: Responder, conn: psycopg.Connection[Any], message_ids: list[int]) -> None:
        rows = conn.execute(
            "select o.id as offer_id, o.customer_id, o.wave, o.gap_id, o.channel, lower(o.slot) as slot_start,"
            "       c.key as customer_key, coalesce(c.timezone, org.timezone) as customer_tz,"
            "       (select a.key from slotoptim_private.appointment as a"
            "         where a.provider_id = g.provider_id and a.status = 'cancelled' and a.period && o.slot"
            "         order by lower(a.period), a.id limit 1) as cancelled_key"
            "  from slotoptim_private.message as m"
            "  join slotoptim_private.offer as o on o.id = m.offer_id"
            "  join slotoptim_private.gap as g on g.id = o.gap_id"
            "  join slotoptim_private.customer as c on c.id = o.customer_id"
            "  join slotoptim_private.organisation as org on org.id = o.org_id"
            " where m.id = any(%s) and m.kind = 'offer' order by m.id",
            (message_ids,),
        ).fetchall()
        for row in rows:
            received = OfferReceived(
                offer_id=int(row["offer_id"]),
                customer_id=int(row["customer_id"]),
                customer_key=str(row["customer_key"]),
                customer_tz=str(row["customer_tz"]),
                channel=str(row["channel"]),
                wave=int(row["wave"]),
                gap_id=int(row["gap_id"]),
                slot_start=row["slot_start"],
                cancelled_key=row["cancelled_key"],
                at=self.now,
            )
            response = responder(received)
            if response is not None:
                self.schedule(
                    self.now + response.delay,
                    response.kind,
                    offer_id=received.offer_id,
                    customer_id=received.customer_id,
                )
            self.log.add(
                self.now,
                "offer_sent",
                offer_id=received.offer_id,
                customer_id=received.customer_id,
                channel=received.channel,
                wave=received.wave,
                response=response.kind if response is not None else "ignore",
            )


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
