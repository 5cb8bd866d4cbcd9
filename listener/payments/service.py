"""The payments side of the service loop (a SidePass beside the calendar and EHR passes):
1. checkouts whose Stripe session has expired give their slot back (and their Redis hold);
2. deposit holds that would lapse before their appointment ends are released (the card stays on
   file for fees: see README, "authorisation window");
3. the outbox of Stripe calls (charges, captures, releases) is drained.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
import redis
from psycopg.rows import dict_row

from slotoptim.listener.integrations.outbox import OutboxWorker
from slotoptim.listener.payments import charges, checkout


def log(event: str, **fields: Any) -> None:
    # Ids and counts only: never a key, a card detail or a customer's name.
    print(json.dumps({"event": event, **fields}, default=str), file=sys.stderr, flush=True)


@dataclass
class PaymentsService:
    url: str
    cache: redis.Redis | None = None
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    outbox: OutboxWorker | None = None

    def __post_init__(self) -> None:
        if self.outbox is None:
            self.outbox = OutboxWorker(self.url, {charges.KIND: charges.make_handler()}, clock=self.clock)

    def run_pass(self) -> dict[str, int]:
        at = self.clock()
        with psycopg.connect(self.url, autocommit=True, row_factory=dict_row) as conn:
            expired = conn.execute("select * from slotoptim.expire_payment_checkouts(%s)", (at,)).fetchall()
            for row in expired:
                checkout.release_hold(self.cache, int(row["gap_id"]), int(row["checkout_id"]))
            released = conn.execute("select * from slotoptim.release_lapsing_holds(%s)", (at,)).fetchall()
        assert self.outbox is not None
        sent = self.outbox.drain()
        if expired or released or sent:
            log("payments_pass", checkouts_expired=len(expired), holds_released=len(released), stripe_calls=sent)
        return {"checkouts_expired": len(expired), "holds_released": len(released), "stripe_calls": sent}
