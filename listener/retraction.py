"""After a claim's commit: retract the losers' offers of the gap it filled.

A claim's winner no longer retracts the gap's other offers (and cancels their queued messages)
inside its own transaction: slotoptim_private.consume_gaps queues the gap in
slotoptim_private.offer_retraction, and the engine calls retract_claimed_gaps on every pass (a
claim's NOTIFY wakes it). Each gap is retracted in a transaction of its own that also deletes its
queue row, so an engine killed half-way leaves the rest queued for its next pass (which runs at
start). Until then a late claim is refused by the gap's status and the sender holds back the
offers' queued messages (slotoptim.claim_messages).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import tuple_row

# A pass retracts at most this many gaps, so that a backlog (an engine back after an outage) does
# not delay the pass's other work for long; the next pass, at once, takes the rest.
GAPS_PER_PASS = 200


def retract_claimed_gaps(conn: psycopg.Connection[Any], limit: int = GAPS_PER_PASS) -> int:
    """Retracts the queued gaps' offers, one gap per transaction; returns how many gaps.
    `conn` must be in autocommit mode (each call of the SQL function is its own transaction)."""
    done = 0
    with conn.cursor(row_factory=tuple_row) as cur:
        while done < limit:
            row = cur.execute("select slotoptim_private.retract_claimed_gap()").fetchone()
            if row is None or row[0] is None:
                break
            done += 1
    return done
