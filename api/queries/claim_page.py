"""The claim page's data: which offer a link names, and what the customer should see.

The page is not signed in: the link's token is the capability. The token is checked as the
database owner (the signing key is instance-wide and owner-only, like a webhook's routing); once
it is genuine, everything else runs for the offer's organisation as the application role, so
row-level security still confines what the page can read or book.

No health details: the page shows the practice, the provider, the day and time in the customer's
time zone, the price and the expiry, never the service's name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import redis

from slotoptim import claims, holds
from slotoptim.api.db import Conn, Database
from slotoptim.api.identity import Actor, DbContext
from slotoptim.tokens import TokenError, read_token, signing_key, verify_token

CURRENCY_SIGNS = {"USD": "$", "CAD": "$", "AUD": "$", "NZD": "$", "EUR": "€", "GBP": "£"}
# Outcomes of slotoptim.claims that the page shows as "this link is not valid" (404).
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


@dataclass
class ClaimView:
    state: str  # open, being_confirmed, filled, expired, booked, awaiting_approval
    practice: str
    provider: str
    when: str  # "Tuesday, November 24, 2:00 PM EST"
    short_when: str  # "Tue 2:00 PM"
    price: str
    expires: str
    minutes_left: int
    alternatives: list[Alternative] = field(default_factory=list)


def clock_time(at: dt.datetime) -> str:
    hour = at.hour % 12 or 12
    return f"{hour}:{at.minute:02d} {'AM' if at.hour < 12 else 'PM'}"


def long_when(at: dt.datetime) -> str:
    return f"{at:%A, %B} {at.day}, {clock_time(at)} {at.tzname()}"


def money(amount: Decimal, currency: str) -> str:
    sign = CURRENCY_SIGNS.get(currency)
    text = f"{amount:,.2f}"
    return f"{sign}{text}" if sign else f"{text} {currency}"


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
        "select o.status, o.expires_at, lower(o.slot) as starts, o.gap_id, g.status as gap_status,"
        " p.name as provider, org.name as practice,"
        # The price fixed on the offer (last-minute pricing) when there is one, else the list price.
        " coalesce(o.currency, org.currency) as currency, coalesce(o.price_cents / 100.0, s.price) as price,"
        " case when o.price_cents < o.list_price_cents then o.list_price_cents / 100.0 end as list_price,"
        " coalesce(c.timezone, org.timezone) as timezone"
        " from slotoptim_private.offer as o"
        " join slotoptim_private.gap as g on g.id = o.gap_id"
        " join slotoptim_private.provider as p on p.id = g.provider_id"
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
    elif _held(cache, int(d["gap_id"])):
        state = "being_confirmed"
    else:
        state = "open"
    result = ClaimView(
        state=state,
        practice=str(d["practice"]),
        provider=str(d["provider"]),
        when=long_when(local),
        short_when=f"{local:%a} {clock_time(local)}",
        price=money(d["price"], str(d["currency"]))
        + (f" (usually {money(d['list_price'], str(d['currency']))})" if d["list_price"] is not None else ""),
        expires=f"{clock_time(expires_at.astimezone(tz))} {expires_at.astimezone(tz).tzname()}",
        minutes_left=max(0, int((expires_at - at).total_seconds() // 60)),
    )
    if state in ("filled", "expired"):
        result.alternatives = _alternatives(conn, link.offer_id, at, tz)
    return result


def claim(conn: Conn, cache: redis.Redis | None, link: Link, at: dt.datetime, hold_ms: int) -> str:
    """Books the offer for its customer (`conn` an autocommit session for the offer's
    organisation, see slotoptim.claims.claim); returns the outcome."""
    if at.timestamp() >= link.expires:
        return "expired"
    return claims.claim(conn, cache, link.offer_id, link.customer_id, at, hold_ms).outcome
