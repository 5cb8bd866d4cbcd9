"""Acting on Twilio's webhooks, once per delivery.

Routing an inbound text: SlotOptim sends from one number for every organisation (TWILIO_FROM), so
the To number cannot tell organisations apart; the sender's phone does. STOP and START apply in
every organisation where a customer has that phone (they share the sending number, and a refusal
must be honoured everywhere it could be ignored); YES first confirms a pending "Reply YES to
confirm" request for texts (api/queries/consent.py) in every organisation that asked, else goes
to the organisation whose open offer reached that phone last (the one the customer is
answering; an offer of a gap a claim just filled, not yet retracted by the engine, comes last,
as in slotoptim.inbound_text: api/queries/answered_offer.py); HERE checks in at the organisation
whose appointment with that phone starts soonest around now; HELP and anything else change
nothing. Each organisation's work runs as the application role for that organisation.

Idempotency: the delivery's row in slotoptim_private.webhook_event is inserted in the same
transaction, first; a retry finds it and gets the first answer again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from slotoptim.api import webhook_replies as replies
from slotoptim.api.db import Conn, Database
from slotoptim.api.identity import Actor, DbContext
from slotoptim.api.queries import consent, reminder_replies
from slotoptim.api.queries.answered_offer import answered_offer
from slotoptim.listener.channels.opt_out import classify_inbound, normalize
from slotoptim.listener.selfservice.consent import CONFIRMED_REPLY


@dataclass(frozen=True)
class InboundResult:
    reply: str
    intent: str
    claim_outcome: str | None
    duplicate: bool


def _phone(address: str) -> str:
    return address.removeprefix("whatsapp:").strip()


def _record(conn: Conn, provider_id: str, kind: str) -> bool:
    """True the first time this delivery is seen (the row is ours until commit)."""
    row = conn.execute(
        "insert into slotoptim_private.webhook_event (provider_id, kind) values (%s, %s)"
        " on conflict (provider_id, kind) do nothing returning provider_id",
        (provider_id, kind),
    ).fetchone()
    return row is not None


def _orgs_for(conn: Conn, phone: str, intent: str, at: dt.datetime) -> list[int]:
    if intent in ("stop", "start"):
        rows = conn.execute(
            "select distinct org_id from slotoptim_private.customer where phone = %s order by org_id", (phone,)
        ).fetchall()
        return [int(r["org_id"]) for r in rows]
    if intent == "yes":
        offer = answered_offer(conn, phone, at)
        return [] if offer is None else [offer.org_id]
    if intent == "here":
        # The organisation whose appointment with this phone starts soonest around now.
        row = conn.execute(
            "select a.org_id from slotoptim_private.appointment as a"
            " join slotoptim_private.customer as c on c.id = a.customer_id"
            " where c.phone = %s and a.status in ('booked', 'confirmed', 'arrived')"
            " and upper(a.period) > %s - interval '2 hours' and lower(a.period) < %s + interval '14 hours'"
            " order by lower(a.period), a.id limit 1",
            (phone, at, at),
        ).fetchone()
        return [] if row is None else [int(row["org_id"])]
    return []


def inbound(
    db: Database, message_sid: str, from_address: str, body: str, at: dt.datetime, address: str | None
) -> InboundResult:
    intent = classify_inbound(body)
    with db.owner() as conn:
        if not _record(conn, message_sid, "inbound"):
            prior = conn.execute(
                "select reply from slotoptim_private.webhook_event where provider_id = %s and kind = 'inbound'",
                (message_sid,),
            ).fetchone()
            return InboundResult(prior["reply"] if prior else "", intent, None, duplicate=True)
        phone = _phone(from_address)
        if intent == "yes":
            # A YES answering "Reply YES to confirm" confirms texts; it claims nothing.
            confirmed = consent.confirm_by_text(db, conn, phone, at, address)
            if confirmed:
                _remember(conn, message_sid, confirmed[0], CONFIRMED_REPLY)
                return InboundResult(CONFIRMED_REPLY, "consent", None, duplicate=False)
        # Issue 12 hook: answers to a reminder (C, R, EARLIER; Y when a reminder came last).
        words = normalize(body)
        to_reminder = reminder_replies.answer(db, conn, phone, intent, words, at, address)
        if to_reminder is not None:
            _remember(conn, message_sid, to_reminder[0], to_reminder[1])
            return InboundResult(to_reminder[1], intent, None, duplicate=False)
        cancelled_too = intent == "stop" and reminder_replies.cancel_before_opt_out(db, conn, phone, words, at, address)
        orgs = _orgs_for(conn, phone, intent, at)
        actions: list[tuple[str | None, str | None]] = []
        for org_id in orgs:
            db.enter_organisation(conn, DbContext(org_id, Actor("system", "twilio-inbound", address)))
            row = conn.execute(
                "select action, outcome from slotoptim.inbound_text(%s, %s, %s, %s)", (org_id, phone, intent, at)
            ).fetchone()
            db.leave_organisation(conn)
            if row is not None:
                actions.append((row["action"], row["outcome"]))
        outcome = next((o for a, o in actions if a == "claim"), None)
        if intent == "yes" and outcome is None:
            outcome = _late_outcome(conn, phone, at)
        checked_in = any(a == "checked_in" for a, _ in actions)
        reply = (
            reminder_replies.CANCELLED_AND_STOPPED if cancelled_too else _reply(intent, bool(orgs), outcome, checked_in)
        )
        _remember(conn, message_sid, orgs[0] if orgs else None, reply)
    return InboundResult(reply, intent, outcome, duplicate=False)


def _remember(conn: Conn, message_sid: str, org_id: int | None, reply: str) -> None:
    conn.execute(
        "update slotoptim_private.webhook_event set org_id = %s, reply = %s"
        " where provider_id = %s and kind = 'inbound'",
        (org_id, reply, message_sid),
    )


def _late_outcome(conn: Conn, phone: str, at: dt.datetime) -> str | None:
    """A YES after the offer closed: say it was filled or expired rather than "no offer"."""
    row = conn.execute(
        "select o.status from slotoptim_private.offer as o"
        " join slotoptim_private.customer as c on c.id = o.customer_id"
        " where c.phone = %s and o.send_at <= %s and o.send_at > %s - interval '1 day'"
        " and o.channel in ('sms', 'whatsapp') order by o.send_at desc, o.id desc limit 1",
        (phone, at, at),
    ).fetchone()
    if row is None:
        return None
    return {"retracted": "filled", "expired": "expired", "claimed": "already_yours"}.get(str(row["status"]))


def _reply(intent: str, known: bool, outcome: str | None, checked_in: bool = False) -> str:
    if intent == "stop":
        return replies.STOPPED
    if intent == "start":
        return replies.STARTED if known else replies.HELP
    if intent == "yes":
        return replies.claim_reply(outcome)
    if intent == "here":
        return replies.CHECKED_IN if checked_in else replies.NO_VISIT_TODAY
    return replies.HELP


def status(db: Database, message_sid: str, message_status: str, at: dt.datetime, address: str | None) -> bool:
    """Records a delivery status; False when this (message, status) was already processed."""
    with db.owner() as conn:
        if not _record(conn, message_sid, f"status:{message_status}"):
            return False
        row = conn.execute(
            "select org_id from slotoptim_private.message where provider_id = %s", (message_sid,)
        ).fetchone()
        if row is None:
            return True  # not ours, or already gone: nothing to update
        org_id = int(row["org_id"])
        db.enter_organisation(conn, DbContext(org_id, Actor("system", "twilio-status", address)))
        conn.execute("select slotoptim.message_status(%s, %s, %s)", (message_sid, message_status, at))
        db.leave_organisation(conn)
        conn.execute(
            "update slotoptim_private.webhook_event set org_id = %s where provider_id = %s and kind = %s",
            (org_id, message_sid, f"status:{message_status}"),
        )
    return True
