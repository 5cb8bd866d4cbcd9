"""Offer texts of a message experiment's variant (sql/57n_fn_experiments.sql).

A variant's template names what it may use: {org}, {provider}, {when} (day and time in the
customer's zone), {first_name}, {minutes} (until the offer ends) and {link}; the opt-out sentence
is always added. An SMS that would not fit one segment falls back to the standard text, so an
experiment can never break delivery (the funnel still counts it under its variant: the wording
sent is what the customer read, which the outbox keeps in message.body).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from slotoptim.listener.channels.sms_text import gsm7_septets, is_gsm7
from slotoptim.listener.templates import SMS_LIMIT, STOP, MessageFacts, _day_time


def render_variant(template: str, facts: MessageFacts, customer_name: str | None, at: dt.datetime) -> str | None:
    """The variant's text for an offer, or None when it cannot be used (then the standard text goes)."""
    if facts.kind != "offer" or facts.link is None or facts.starts is None:
        return None
    tz = ZoneInfo(facts.customer_tz)
    minutes = 0 if facts.expires is None else max(0, int((facts.expires - at).total_seconds() // 60))
    fields = {
        "org": facts.org_name,
        "provider": facts.provider_name or facts.org_name,
        "when": _day_time(facts.starts, tz),
        "first_name": (customer_name or "").split(" ")[0] or "there",
        "minutes": str(minutes),
        "link": facts.link,
    }
    try:
        text = template.format(**fields)
    except (KeyError, IndexError, ValueError):
        return None
    text = f"{text} {STOP}"
    if facts.channel == "sms" and (not is_gsm7(text) or gsm7_septets(text) > SMS_LIMIT):
        return None
    return text
