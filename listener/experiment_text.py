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

from slotoptim.listener import message_catalogue as catalogue
from slotoptim.listener.channels.sms_text import gsm7_septets, is_gsm7, non_gsm7_chars, sms_segments
from slotoptim.listener.templates import SMS_LIMIT, STOP, MessageFacts, _day_time

PLACEHOLDERS = frozenset({"org", "provider", "when", "first_name", "minutes", "link"})
# The longest values a check renders with besides the catalogue's (a full link, the longest date):
# a long first name and a day-long offer window.
SAMPLE_FIRST_NAME = "Christabella"
SAMPLE_MINUTES = 1440


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
        text = f"{template.format(**fields)} {STOP}"
    except (KeyError, IndexError, ValueError):
        return None
    if facts.channel == "sms" and (not is_gsm7(text) or gsm7_septets(text) > SMS_LIMIT):
        return None
    return text


def check_variant(template: str, practice: str, provider: str, first_name: str = "") -> catalogue.TemplateCheck:
    """A variant's SMS at its longest (the organisation's longest provider name and customer first
    name, a full claim link, the longest date, a day-long window) as the message-templates check
    counts it; TemplateError("template") when it uses an unknown placeholder, has no {link}, or would
    not go out as one GSM-7 segment (the sender would then send the standard text instead)."""
    used = catalogue.placeholders(template) if "{" in template else set()
    unknown = used - PLACEHOLDERS
    if unknown:
        raise catalogue.TemplateError(
            "template", f"unknown placeholder {{{sorted(unknown)[0]}}}; use {sorted(PLACEHOLDERS)}"
        )
    if "link" not in used:
        raise catalogue.TemplateError("template", "must contain {link} (the claim link)")
    at = catalogue.SAMPLE_WHEN
    facts = MessageFacts(
        kind="offer",
        channel="email",  # rendered whatever its length; counted below
        org_name=practice,
        provider_name=provider,
        starts=at,
        expires=at + dt.timedelta(minutes=SAMPLE_MINUTES),
        customer_tz=str(at.tzinfo),
        link=catalogue.SAMPLE_LINK,
    )
    name = max(first_name, SAMPLE_FIRST_NAME, key=len)
    sample = render_variant(template, facts, name, at)
    if sample is None:
        raise catalogue.TemplateError("template", "cannot be rendered (write a literal brace as {{ or }})")
    result = catalogue.TemplateCheck(sms_segments(sample), is_gsm7(sample), non_gsm7_chars(sample), sample)
    if result.segments > 1:
        reason = f" (not GSM-7: {result.non_gsm7!r})" if not result.gsm7 else ""
        raise catalogue.TemplateError(
            "template",
            f"{result.segments} SMS segments at its longest{reason}, with the opt-out sentence; one is the limit",
        )
    return result
