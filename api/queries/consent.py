"""Consent answered by text: a YES to the double opt-in request ("Reply YES to confirm").

The request was sent because the customer asked for texts on a page; the YES is routed to every
organisation with a pending request for that phone (each runs as the application role for its
organisation, like the rest of the inbound webhook), and confirms texts there.
"""

from __future__ import annotations

import datetime as dt

from slotoptim.api.db import Conn, Database
from slotoptim.api.identity import Actor, DbContext


def confirm_by_text(db: Database, conn: Conn, phone: str, at: dt.datetime, address: str | None) -> list[int]:
    """Inside the webhook's owner transaction: the organisations where this YES confirmed texts."""
    rows = conn.execute("select slotoptim.pending_text_consent_orgs(%s, %s) as org_id", (phone, at)).fetchall()
    confirmed = []
    for row in rows:
        org_id = int(row["org_id"])
        db.enter_organisation(conn, DbContext(org_id, Actor("system", "twilio-inbound", address)))
        done = conn.execute("select slotoptim.confirm_text_consent(%s, %s, %s) as n", (org_id, phone, at)).fetchone()
        db.leave_organisation(conn)
        if done is not None and int(done["n"]) > 0:
            confirmed.append(org_id)
    return confirmed
