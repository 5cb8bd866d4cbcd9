"""The claim page's data: which offer a link names, and what the customer should see.

The page is not signed in: the link's token is the capability. The token is checked as the
database owner (the signing key is instance-wide and owner-only, like a webhook's routing); once
it is genuine, everything else runs for the offer's organisation as the application role, so
row-level security still confines what the page can read or book.

The page is what the customer opens from their own link, so it says what they would be booking:
the service and its duration, the provider and the address, the day and time in the customer's
time zone (with the practice's own time when the zones differ), the price in the practice's
currency formatted for the customer's language (Babel), and the expiry. The texts that carry the
link stay free of health details (no service name: listener/templates.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import redis

from slotoptim.api.db import Conn, Database
from slotoptim.api.identity import Actor, DbContext
from slotoptim.listener import claims, holds
from slotoptim.listener import money as babel_money
from slotoptim.listener.tokens import TokenError, read_token, signing_key, verify_token

# Outcomes of slotoptim.listener.claims that the page shows as "this link is not valid" (404).
NOT_FOUND = frozenset({"invalid", "unknown", "not_yours"})


@dataclass(frozen=True)
class Link:
    """A genuine token: its offer, the offer's customer and organisation, the token's expiry."""

    offer_id: int
    customer_id: int
    org_id: int
    expires: int


@dataclass(frozen=True)
class Alternative:
    provider: str
    when: str


@dataclass(frozen=True)
class PaymentInfo:
    """What the practice's no-show protection asks of this booking (slotoptim.payment_requirement)."""

    requirement: str  # card, deposit, prepayment
    amount: str  # the deposit or prepayment, formatted; "" for a card
    terms: str  # the fees, in words


@dataclass
class ClaimView:
    # open, being_confirmed, filled, expired, booked, awaiting_approval, declined,
    # payment_pending (back from Checkout, waiting for Stripe's webhook), payment_unavailable
    state: str
    practice: str
    provider: str
    when: str  # "Tuesday, November 24, 2:00 PM EST"
    short_when: str  # "Tue 2:00 PM"
    price: str
    expires: str
    minutes_left: int
    alternatives: list[Alternative] = field(default_factory=list)
    service: str = ""
    minutes: int = 0
    address: str | None = None
    # "That's 11:00 AM PST at the practice": set only when the customer's zone differs.
    practice_when: str | None = None
    language: str = "en"
    # Other waitlist entries that close after this booking unless the customer keeps them.
    entries_closing: int = 0
    entries_close_at: str | None = None
    opted_out: bool = False
    payment: PaymentInfo | None = None
    checkout_url: str | None = None
    # A move-up offer (issue 12): the appointment it replaces, "Tue Dec 15, 10:00 AM".
    replaces: str | None = None


def clock_time(at: dt.datetime) -> str:
    hour = at.hour % 12 or 12
    return f"{hour}:{at.minute:02d} {'AM' if at.hour < 12 else 'PM'}"


def _short_day(at: dt.datetime) -> str:
    return f"{at:%a %b} {at.day}, {clock_time(at)}"


def long_when(at: dt.datetime) -> str:
    return f"{at:%A, %B} {at.day}, {clock_time(at)} {at.tzname()}"


def money(amount: Decimal, currency: str, language: str | None = None) -> str:
    """The amount for a reader of `language` (Babel, CLDR): "$45.00", "¥4,500", "45,00 €"."""
    return babel_money.money(amount, currency, babel_money.locale_for(language, currency))


def find_link(db: Database, token: str) -> Link | None:
    """The offer a token names, if the token is genuine (expired or not); None otherwise."""
    try:
        parsed = read_token(token)
    except TokenError:
        return None
    with db.owner() as conn:
        row = conn.execute(
            "select customer_id, org_id from slotoptim_private.offer where id = %s", (parsed.offer_id,)
        ).fetchone()
        if row is None:
            return None
        key = signing_key(conn)
    try:
        verify_token(key, token, int(row["customer_id"]), 0.0)
    except TokenError:
        return None
    return Link(parsed.offer_id, int(row["customer_id"]), int(row["org_id"]), parsed.expires)


def context(link: Link, address: str | None) -> DbContext:
    return DbContext(link.org_id, Actor("system", "claim-page", address))


def _details(conn: Conn, offer_id: int) -> dict[str, Any] | None:
    row = conn.execute(
        "select o.id as offer_id, o.status, o.expires_at, lower(o.slot) as starts, o.gap_id, g.status as gap_status,"
        " p.name as provider, org.name as practice, o.customer_id, o.service_id, o.slot,"
        # The price fixed on the offer (last-minute pricing) when there is one, else the list price.
        " coalesce(o.currency, org.currency) as currency, coalesce(o.price_cents / 100.0, s.price) as price,"
        " case when o.price_cents < o.list_price_cents then o.list_price_cents / 100.0 end as list_price,"
        " coalesce(c.timezone, org.timezone) as timezone, org.timezone as practice_timezone,"
        " s.name as service, s.minutes, l.address, c.opted_out_at,"
        " coalesce(c.language, st.default_language) as language,"
        # A move-up offer replaces the appointment its entry was enrolled for (issue 12).
        " (select lower(ma.period) from slotoptim_private.waitlist_entry as we"
        "   join slotoptim_private.appointment as ma on ma.id = we.moveup_appointment_id"
        "  where we.id = o.waitlist_entry_id) as replaces"
        " from slotoptim_private.offer as o"
        " join slotoptim_private.gap as g on g.id = o.gap_id"
        " join slotoptim_private.provider as p on p.id = g.provider_id"
        " left join slotoptim_private.location as l on l.id = p.location_id"
        " join slotoptim_private.organisation_settings as st on st.org_id = o.org_id"
        " join slotoptim_private.organisation as org on org.id = o.org_id"
        " join slotoptim_private.service as s on s.id = o.service_id"
        " join slotoptim_private.customer as c on c.id = o.customer_id"
        " where o.org_id = slotoptim_private.current_org() and o.id = %s",
        (offer_id,),
    ).fetchone()
    return None if row is None else dict(row)


def _alternatives(conn: Conn, offer_id: int, at: dt.datetime, tz: ZoneInfo) -> list[Alternative]:
    rows = conn.execute(
        "select p.name, lower(a.slot) as starts from slotoptim.alternatives(%s, %s) as a"
        " join slotoptim_private.provider as p"
        " on p.org_id = slotoptim_private.current_org() and p.key = a.provider_key"
        " order by lower(a.slot) limit 3",
        (offer_id, at),
    ).fetchall()
    return [Alternative(str(r["name"]), long_when(r["starts"].astimezone(tz))) for r in rows]


def _held(cache: redis.Redis | None, gap_id: int) -> bool:
    if cache is None:
        return False
    try:
        return bool(cache.exists(holds.hold_key(gap_id)))
    except redis.RedisError:
        return False


def view(
    conn: Conn, cache: redis.Redis | None, link: Link, at: dt.datetime, outcome: str | None = None
) -> ClaimView | None:
    """What the page shows for this link now; `outcome` is the answer of a claim just made."""
    d = _details(conn, link.offer_id)
    if d is None:
        return None
    tz = ZoneInfo(str(d["timezone"]))
    starts: dt.datetime = d["starts"]
    local = starts.astimezone(tz)
    expires_at: dt.datetime = min(d["expires_at"], dt.datetime.fromtimestamp(link.expires, dt.UTC))
    status, gap_status = str(d["status"]), str(d["gap_status"])
    if outcome in ("booked", "already_yours") or status == "claimed":
        state = "booked"
    elif outcome == "awaiting_approval" or status == "awaiting_approval":
        state = "awaiting_approval"
    elif outcome == "being_confirmed":
        state = "being_confirmed"
    elif outcome == "filled" or status == "retracted" or gap_status not in ("open", "offering"):
        state = "filled"
    elif outcome == "expired" or status in ("expired", "declined") or at >= expires_at:
        state = "expired"
    elif _pending_checkout(conn, link.offer_id, at) is not None:
        state = "payment_pending"
    elif _held(cache, int(d["gap_id"])):
        state = "being_confirmed"
    else:
        state = "open"
    if state == "expired" and status == "declined":
        state = "declined"
    if outcome in ("payment_unavailable", "payment_pending") and state == "open":
        state = outcome
    result = ClaimView(
        state=state,
        practice=str(d["practice"]),
        provider=str(d["provider"]),
        when=long_when(local),
        short_when=f"{local:%a} {clock_time(local)}",
        price=money(d["price"], str(d["currency"]), str(d["language"]))
        + (
            f" (usually {money(d['list_price'], str(d['currency']), str(d['language']))})"
            if d["list_price"] is not None
            else ""
        ),
        expires=f"{clock_time(expires_at.astimezone(tz))} {expires_at.astimezone(tz).tzname()}",
        minutes_left=max(0, int((expires_at - at).total_seconds() // 60)),
        service=str(d["service"]),
        minutes=int(d["minutes"]),
        address=d["address"],
        practice_when=_practice_when(starts, tz, ZoneInfo(str(d["practice_timezone"]))),
        language=str(d["language"]),
        opted_out=d["opted_out_at"] is not None,
        replaces=_short_day(d["replaces"].astimezone(tz)) if d["replaces"] is not None else None,
    )
    if state in ("filled", "expired"):
        result.alternatives = _alternatives(conn, link.offer_id, at, tz)
    if state == "booked":
        closing = conn.execute(
            "select entries, closes_at from slotoptim.entries_closing(%s)", (link.customer_id,)
        ).fetchone()
        if closing is not None and closing["entries"]:
            result.entries_closing = int(closing["entries"])
            result.entries_close_at = long_when(closing["closes_at"].astimezone(tz))
    if state in ("open", "being_confirmed", "payment_pending", "payment_unavailable"):
        result.payment = payment_info(conn, d, at)
    if state == "payment_pending":
        result.checkout_url = _pending_checkout(conn, link.offer_id, at)
    return result


def _practice_when(starts: dt.datetime, customer: ZoneInfo, practice: ZoneInfo) -> str | None:
    """The practice's wall-clock time when it differs from the customer's ("11:00 AM PST")."""
    mine, theirs = starts.astimezone(customer), starts.astimezone(practice)
    if mine.utcoffset() == theirs.utcoffset() and mine.tzname() == theirs.tzname():
        return None
    day = "" if mine.date() == theirs.date() else f"{theirs:%a} "
    return f"{day}{clock_time(theirs)} {theirs.tzname()}"


def answer(conn: Conn, link: Link, action: str, at: dt.datetime) -> bool:
    """The customer's other answers on the page: decline the offer, keep or close their other
    waitlist entries, or stop all messages (every channel). False when it changed nothing."""
    if action == "decline":
        row = conn.execute("select slotoptim.decline_offer(%s, %s, %s) as done", (link.offer_id, link.customer_id, at))
    elif action == "keep":
        row = conn.execute("select slotoptim.keep_waitlist_entries(%s) > 0 as done", (link.customer_id,))
    elif action == "close":
        row = conn.execute("select slotoptim.close_waitlist_entries_now(%s, %s) > 0 as done", (link.customer_id, at))
    elif action == "stop":
        row = conn.execute("select slotoptim.revoke_consent(%s, 'claim_page', %s) as done", (link.customer_id, at))
    else:
        return False
    found = row.fetchone()
    return bool(found and found["done"])


def _pending_checkout(conn: Conn, offer_id: int, at: dt.datetime) -> str | None:
    """The Checkout URL of this offer's live checkout (the customer is paying or back from it)."""
    row = conn.execute(
        "select coalesce(url, '') as url from slotoptim_private.payment_checkout"
        " where offer_id = %s and status in ('creating', 'open') and expires_at > %s order by id desc limit 1",
        (offer_id, at),
    ).fetchone()
    return None if row is None else str(row["url"])


def payment_info(conn: Conn, d: dict[str, Any], at: dt.datetime) -> PaymentInfo | None:
    """What the policy asks of this offer's booking, priced at what the offer fixed (last-minute
    pricing), so the deposit shown is the one Checkout will hold."""
    row = conn.execute(
        "select r.requirement, r.amount_minor, slotoptim_private.major_units(r.amount_minor, r.currency) as amount,"
        " r.currency, p.grace_minutes, p.late_cancel_hours,"
        " p.late_cancel_far_percent, p.late_cancel_near_percent, p.no_show_percent"
        " from slotoptim.payment_requirement(%s, %s, %s, %s, offer_id => %s) as r"
        " left join slotoptim_private.payment_policy as p on p.id = r.policy_id",
        (d["customer_id"], d["service_id"], d["slot"], at, d["offer_id"]),
    ).fetchone()
    if row is None or row["requirement"] == "none":
        return None
    currency = str(row["currency"])
    amount = money(Decimal(row["amount"]), currency) if row["amount_minor"] else ""
    terms = (
        f"Cancelling is free within {row['grace_minutes']} minutes of booking. After that, cancelling costs "
        f"{row['late_cancel_far_percent']}% of the price up to {row['late_cancel_hours']} hours before the "
        f"appointment and {row['late_cancel_near_percent']}% later; missing it costs {row['no_show_percent']}%."
    )
    if row["requirement"] == "deposit":
        terms += f" Fees are taken from the deposit, up to {amount}."
    return PaymentInfo(str(row["requirement"]), amount, terms)


def claim(conn: Conn, cache: redis.Redis | None, link: Link, at: dt.datetime, hold_ms: int) -> str:
    """Books the offer for its customer (`conn` an autocommit session for the offer's
    organisation, see slotoptim.listener.claims.claim); returns the outcome."""
    if at.timestamp() >= link.expires:
        return "expired"
    return claims.claim(conn, cache, link.offer_id, link.customer_id, at, hold_ms).outcome


def checkout_product(conn: Conn, offer_id: int) -> str:
    """What Stripe's page names: the practice and the day, never the service (no health details)."""
    row = conn.execute(
        "select org.name, lower(o.slot) as starts, coalesce(c.timezone, org.timezone) as timezone"
        " from slotoptim_private.offer as o join slotoptim_private.organisation as org on org.id = o.org_id"
        " join slotoptim_private.customer as c on c.id = o.customer_id where o.id = %s",
        (offer_id,),
    ).fetchone()
    if row is None:
        return "Appointment"
    local = row["starts"].astimezone(ZoneInfo(str(row["timezone"])))
    return f"{row['name']}: appointment {long_when(local)}"
