"""Customer models for `slotoptim simulate fill --customers`.

- ``seed002``: slotoptim.ml.simulate.fill_customers as it was: seed 002's channel acceptance
  (sms 34 %, whatsapp 31 %, email 12 %), the same for every customer.
- ``fastpass``: calibrated to the only audited figures (Epic Fast Pass, ../shared/reference/peers.md
  section 4.1: 8.3 % and 11 % of offers accepted). Base acceptance sms 10 %, whatsapp 9 %, email
  3.5 %, times a customer's own propensity, a gamma draw with mean 1 and shape 1.5 keyed by
  (seed, customer), so some customers answer far more often than others (what a learning model
  can find) and the per-offer average stays in the published 8-11 % band. Declines, silences and
  delays as in seed002.

Both draw each answer from the stream keyed by (seed, customer, opening): every strategy meets the
same customers making the same choices.
"""

from __future__ import annotations

import datetime as dt
import math
import random

from slotoptim.listener.simulation import CHANNEL_BEHAVIOUR, DECLINE_SHARE, Response
from slotoptim.ml.simulate.fill_customers import Customers

CUSTOMER_MODELS = ("seed002", "fastpass")
FASTPASS_ACCEPT = {"sms": 0.10, "whatsapp": 0.09, "email": 0.035, "phone": 0.12}
PROPENSITY_SHAPE = 1.5


class FastPassCustomers(Customers):
    def propensity(self, customer_key: str) -> float:
        rng = random.Random(f"{self.seed}/propensity/{customer_key}")
        return rng.gammavariate(PROPENSITY_SHAPE, 1.0 / PROPENSITY_SHAPE)

    def answer(self, customer_key: str, opening: str, channel: str) -> Response | None:
        median, _ = CHANNEL_BEHAVIOUR[channel]
        accept = min(0.9, FASTPASS_ACCEPT[channel] * self.propensity(customer_key))
        draw = self.draw(customer_key, opening)
        delay = dt.timedelta(minutes=median * math.exp(draw.delay_z))
        if draw.decision < accept:
            return Response("accept", delay)
        if draw.decision < accept + (1 - accept) * DECLINE_SHARE:
            return Response("decline", delay)
        return None


def customers_for(model: str, seed: int) -> Customers:
    if model == "seed002":
        return Customers(seed)
    if model == "fastpass":
        return FastPassCustomers(seed)
    raise ValueError(f"customer model is one of {', '.join(CUSTOMER_MODELS)}; got {model!r}")
