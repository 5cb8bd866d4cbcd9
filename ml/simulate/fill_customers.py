"""Simulated waitlist customers who answer the same way whichever strategy asks them.

Each customer's answer to an opening is drawn from a random stream keyed by (seed, customer,
cancelled appointment): one uniform number decides and one normal number sets the delay. So under
every strategy a customer who is offered the same opening makes the same choice (on the same
channel) after the same delay, and strategies differ only by whom they ask, when and how.

Decision, for a channel with acceptance rate p (seed 002: sms 34 %, whatsapp 31 %, email 12 %,
phone call 41 %): accept when u < p, decline when u < p + (1 - p) * 0.4, else stay silent. The
delay is log-normal around the channel's median (sms 3.2, whatsapp 7.1, email 47, phone 1.4
minutes; sigma 1). Nobody answers between 22:00 and 07:00 in their own time zone: an answer that
would fall then comes the next morning, 07:00 plus the delay's minutes past the hour.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from slotoptim.listener.simulation import CHANNEL_BEHAVIOUR, DECLINE_SHARE, OfferReceived, Response

NIGHT_STARTS = dt.time(22)
MORNING = dt.time(7)


@dataclass(frozen=True)
class Draw:
    decision: float
    delay_z: float


class Customers:
    def __init__(self, seed: int) -> None:
        self.seed = seed

    def draw(self, customer_key: str, opening: str) -> Draw:
        rng = random.Random(f"{self.seed}/answer/{customer_key}/{opening}")
        return Draw(rng.random(), rng.gauss(0.0, 1.0))

    def answer(self, customer_key: str, opening: str, channel: str) -> Response | None:
        """Accept, decline (each after a delay) or None (silence) to an offer on ``channel``."""
        median, accept = CHANNEL_BEHAVIOUR[channel]
        draw = self.draw(customer_key, opening)
        delay = dt.timedelta(minutes=median * math.exp(draw.delay_z))
        if draw.decision < accept:
            return Response("accept", delay)
        if draw.decision < accept + (1 - accept) * DECLINE_SHARE:
            return Response("decline", delay)
        return None

    def __call__(self, offer: OfferReceived) -> Response | None:
        """The engine's responder: answers an offer message, awake hours only."""
        opening = offer.cancelled_key or f"gap-{offer.slot_start.isoformat()}"
        response = self.answer(offer.customer_key, opening, offer.channel)
        if response is None:
            return None
        return Response(response.kind, awake_delay(offer.at, response.delay, offer.customer_tz))


def awake_delay(sent: dt.datetime, delay: dt.timedelta, timezone: str) -> dt.timedelta:
    """``delay``, or longer when the answer would fall in the customer's night (22:00-07:00)."""
    tz = ZoneInfo(timezone)
    local = (sent + delay).astimezone(tz)
    if MORNING <= local.time() < NIGHT_STARTS:
        return delay
    day = local.date() if local.time() < MORNING else local.date() + dt.timedelta(days=1)
    minutes_past = (delay.total_seconds() / 60.0) % 60.0
    morning = dt.datetime.combine(day, MORNING, tzinfo=tz) + dt.timedelta(minutes=minutes_past)
    return morning - sent
