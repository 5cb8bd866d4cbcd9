"""Replies to reminders (issue 12): which organisation and appointment a text answers, and what
SlotOptim answers back (short, no health details: anyone holding the phone reads it).

C cancels the reminded appointment at once, so its gap opens and the engine offers it; Y/CONFIRM
confirm it when the reminder is the latest thing we sent that phone (else YES claims the latest
offer, as before); R asks the front desk for another time; EARLIER enrols the appointment in
move-up. CANCEL alone is an opt-out (Twilio stops delivering after it on long codes) and also
cancels the reminded appointment. The work runs in slotoptim.reminder_reply as the application
role of the organisation whose reminder reached that phone last.
"""

from __future__ import annotations

import datetime as dt

from slotoptim.api.db import Conn, Database
from slotoptim.api.identity import Actor, DbContext
from slotoptim.api.queries.answered_offer import answered_offer

REPLY_OF_INTENT = {"cancel_visit": "cancel", "reschedule": "reschedule", "earlier": "earlier", "yes": "confirm"}

ANSWERS = {
    "cancelled": "Your appointment is cancelled. Thanks for letting us know.",
    "confirmed": "Thanks, your appointment is confirmed.",
    "reschedule_requested": "Thanks. The practice will contact you to find another time.",
    "enrolled_earlier": "You're on the list for an earlier time. We'll text you if one opens.",
}
NO_REMINDER = "We couldn't find an upcoming appointment for this number. Please call the practice."
CANCELLED_AND_STOPPED = (
    "Your appointment is cancelled. You'll get no more texts from us. Reply START to subscribe again."
)


def _latest_reminder(conn: Conn, phone: str, at: dt.datetime) -> tuple[int, dt.datetime] | None:
    """The organisation whose reminder reached this phone last (for an upcoming appointment)."""
    row = conn.execute(
        "select m.org_id, coalesce(m.sent_at, m.not_before) as reminded_at"
        "  from slotoptim_private.message as m"
        "  join slotoptim_private.customer as c on c.id = m.customer_id"
        "  join slotoptim_private.appointment as a on a.id = m.appointment_id"
        " where c.phone = %s and m.kind = 'reminder' and m.channel in ('sms', 'whatsapp')"
        "   and m.status in ('sent', 'delivered') and a.status in ('booked', 'confirmed') and lower(a.period) > %s"
        " order by coalesce(m.sent_at, m.not_before) desc, m.id desc limit 1",
        (phone, at),
    ).fetchone()
    return None if row is None else (int(row["org_id"]), row["reminded_at"])


def _act(db: Database, conn: Conn, org_id: int, phone: str, reply: str, at: dt.datetime, address: str | None) -> str:
    db.enter_organisation(conn, DbContext(org_id, Actor("system", "twilio-inbound", address)))
    row = conn.execute(
        "select action from slotoptim.reminder_reply(%s, %s, %s, %s)", (org_id, phone, reply, at)
    ).fetchone()
    db.leave_organisation(conn)
    return str(row["action"]) if row else "no_reminder"


def answer(
    db: Database, conn: Conn, phone: str, intent: str, words: str, at: dt.datetime, address: str | None
) -> tuple[int | None, str] | None:
    """(organisation, answer) when the text answers a reminder; None when it is for the other flows.

    For CANCEL (an opt-out), the reminded appointment is cancelled here and None is returned, so
    the opt-out still runs everywhere; the caller words its answer with ``cancelled_too``."""
    if intent == "stop":
        return None
    reply = REPLY_OF_INTENT.get(intent)
    if reply is None:
        return None
    latest = _latest_reminder(conn, phone, at)
    if intent == "yes":
        # The offer a YES would claim (api/queries/answered_offer.py), not merely the newest one.
        offered = answered_offer(conn, phone, at)
        if latest is None or (offered is not None and offered.send_at >= latest[1]):
            return None  # YES answers the offer
    if latest is None:
        return None, NO_REMINDER
    action = _act(db, conn, latest[0], phone, reply, at, address)
    return latest[0], ANSWERS.get(action, NO_REMINDER)


def cancel_before_opt_out(
    db: Database, conn: Conn, phone: str, words: str, at: dt.datetime, address: str | None
) -> bool:
    """CANCEL to a reminder: cancel the reminded appointment (the opt-out follows). True if one was."""
    if words != "cancel":
        return False
    latest = _latest_reminder(conn, phone, at)
    if latest is None:
        return False
    return _act(db, conn, latest[0], phone, "cancel", at, address) == "cancelled"
