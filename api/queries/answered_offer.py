"""The open offer a YES from a phone answers, across organisations: the same choice as
slotoptim.inbound_text makes within one. Offers of a gap a claim just filled, whose retraction
the engine has yet to run (slotoptim_private.retraction_pending), come last; else the latest sent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from slotoptim.api.db import Conn


@dataclass(frozen=True)
class AnsweredOffer:
    org_id: int
    send_at: dt.datetime


def answered_offer(conn: Conn, phone: str, at: dt.datetime) -> AnsweredOffer | None:
    row = conn.execute(
        "select o.org_id, o.send_at from slotoptim_private.offer as o"
        " join slotoptim_private.customer as c on c.id = o.customer_id"
        " where c.phone = %s and o.status = 'open' and o.send_at <= %s and o.channel in ('sms', 'whatsapp')"
        " order by slotoptim_private.retraction_pending(o.gap_id), o.send_at desc, o.id desc limit 1",
        (phone, at),
    ).fetchone()
    return None if row is None else AnsweredOffer(int(row["org_id"]), row["send_at"])
