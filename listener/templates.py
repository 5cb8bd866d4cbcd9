"""Message texts. No health details ever: a practice name, a provider name, a day and time in the
customer's own time zone with its abbreviation, an expiry, a link, and how to opt out.

SMS must fit one GSM-7 segment (160 characters); each template has shorter fallbacks, tried in
order, and the provider name is shortened only as the last resort.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from slotoptim.listener.channels.sms_text import gsm7_septets, is_gsm7

SMS_LIMIT = 160
STOP = "Reply STOP to opt out"


@dataclass(frozen=True)
class MessageFacts:
    kind: str
    channel: str
    org_name: str
    provider_name: str | None
    starts: dt.datetime | None
    expires: dt.datetime | None
    customer_tz: str
    link: str | None
    # Running-late heads-up: the provider's predicted delay, rounded to 5 minutes.
    delay_minutes: int | None = None
    # Move-up offer (issue 12): when the appointment the customer holds starts; it is released on a claim.
    replaces: dt.datetime | None = None


def _day_time(value: dt.datetime, tz: ZoneInfo, *, short: bool = False) -> str:
    local = value.astimezone(tz)
    hour = local.strftime("%I:%M %p").lstrip("0")
    if short:
        return f"{local.strftime('%a')} {local.month}/{local.day} {hour.replace(' ', '')} {local.tzname()}"
    return f"{local.strftime('%a %b')} {local.day} {hour} {local.tzname()}"


def _time(value: dt.datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%I:%M %p").lstrip("0")


def _variants(f: MessageFacts) -> list[Callable[[str, str], str]]:
    """Texts from longest to shortest; each takes (provider name, practice name)."""
    tz = ZoneInfo(f.customer_tz)
    when = _day_time(f.starts, tz) if f.starts else ""
    when_short = _day_time(f.starts, tz, short=True) if f.starts else ""
    until = _time(f.expires, tz) if f.expires else ""
    if f.kind == "offer" and f.replaces is not None:
        old = f.replaces.astimezone(tz)
        old_day = f"{old.month}/{old.day}"
        old_when = _day_time(f.replaces, tz, short=True)
        return [
            lambda p, o: (
                f"{o}: an earlier time with {p}: {when}, instead of {old_when}. Claim by {until}: {f.link} {STOP}"
            ),
            lambda p, o: f"{p}: earlier {when_short} instead of {old_day}. By {until}: {f.link} {STOP}",
            lambda p, o: f"Earlier {when_short}, not {old_day}. By {until}: {f.link} {STOP}",
        ]
    if f.kind == "offer":
        return [
            lambda p, o: f"{o}: {p} has an opening {when}. Claim by {until}: {f.link} {STOP}",
            lambda p, o: f"{p}: opening {when_short}. Claim by {until}: {f.link} {STOP}",
            lambda p, o: f"{p} {when_short}. By {until}: {f.link} {STOP}",
        ]
    if f.kind in ("filled", "retracted"):
        return [
            lambda p, o: (
                f"{o}: the {when} opening with {p} has been filled. We'll text you when another matches. {STOP}"
            ),
            lambda p, o: f"{o}: the {when_short} opening with {p} was filled. {STOP}",
            lambda p, o: f"The {when_short} opening with {p} was filled. {STOP}",
        ]
    if f.kind == "booked":
        return [
            lambda p, o: f"{o}: you're booked with {p} on {when}. Reply HELP for help. {STOP}",
            lambda p, o: f"Booked with {p} {when_short}. {STOP}",
        ]
    if f.kind == "running_late":
        at = _time(f.starts, tz) if f.starts else ""
        n = f.delay_minutes or 0
        return [
            lambda p, o: (
                f"{o}: {p} is running about {n} min late today. Your {at} visit may start later;"
                f" please still come on time. {STOP}"
            ),
            lambda p, o: f"{o}: {p} is running about {n} min late. Your {at} visit may start later. {STOP}",
            lambda p, o: f"{p} is running ~{n} min late. Your {at} visit may start later. {STOP}",
        ]
    if f.kind == "reminder" and f.channel == "email":
        # Email replies are not read: the reply keywords are for texts.
        return [
            lambda p, o: (
                f"{o}: a reminder of your visit with {p} on {when}. If you cannot come, please let us know"
                " (reply C to our text reminder, or call us) so that someone else can have the time."
            )
        ]
    if f.kind == "reminder":
        # Issue 12: the reply keywords double as a cancellation detector (api/queries/reminder_replies.py).
        return [
            lambda p, o: (
                f"{o}: reminder of your visit with {p} on {when}. Reply Y to confirm, C to cancel,"
                f" R to change, EARLIER for sooner. {STOP}"
            ),
            lambda p, o: (
                f"{o}: visit with {p} {when_short}. Reply Y confirm, C cancel, R change, EARLIER sooner. {STOP}"
            ),
            lambda p, o: f"{p} {when_short}. Y=confirm C=cancel R=change EARLIER=sooner. {STOP}",
        ]
    if f.kind == "preferences":
        return [
            lambda p, o: (
                f"{o}: we've paused waitlist offers after several went unanswered. "
                f"Reply START to keep getting them. {STOP}"
            ),
            lambda p, o: f"{o}: waitlist offers paused. Reply START to resume. {STOP}",
        ]
    if f.kind == "opt_out":
        return [
            lambda p, o: f"{o}: you're unsubscribed and will get no more messages. Reply START to resubscribe.",
            lambda p, o: f"{o}: unsubscribed. Reply START to resubscribe.",
        ]
    if f.kind == "opt_in":
        return [
            lambda p, o: f"{o}: you're subscribed to waitlist openings again. {STOP}",
            lambda p, o: f"{o}: subscribed again. {STOP}",
        ]
    return [
        lambda p, o: f"{o}: reply YES to claim the latest opening we sent, or use its link. {STOP}",
        lambda p, o: f"{o}: reply YES to claim our latest opening. {STOP}",
    ]


def _fits(text: str) -> bool:
    # Extension characters (such as [ ] { } €) cost two septets, so count septets, not characters.
    return is_gsm7(text) and gsm7_septets(text) <= SMS_LIMIT


def render(facts: MessageFacts) -> str:
    """The first variant that fits (SMS/WhatsApp: GSM-7 and 160 characters), else the shortest one
    with the names shortened until it fits."""
    provider = facts.provider_name or facts.org_name
    org = facts.org_name
    variants = _variants(facts)
    if facts.channel == "email":
        return variants[0](provider, org)
    for variant in variants:
        text = variant(provider, org)
        if _fits(text):
            return text
    last = variants[-1]
    for keep in range(max(len(provider), len(org)), 0, -1):
        text = last(_shorten(provider, keep), _shorten(org, keep))
        if _fits(text):
            return text
    return last("", "")[:SMS_LIMIT]


def _shorten(name: str, keep: int) -> str:
    return name if len(name) <= keep else name[:keep].rstrip() + "."


def subject(facts: MessageFacts) -> str:
    return {
        "offer": f"{facts.org_name}: an earlier appointment is available",
        "filled": f"{facts.org_name}: that opening has been filled",
        "retracted": f"{facts.org_name}: that opening is no longer available",
        "booked": f"{facts.org_name}: your appointment is booked",
        "running_late": f"{facts.org_name}: your provider is running late",
        "reminder": f"{facts.org_name}: appointment reminder",
    }.get(facts.kind, f"{facts.org_name}: waitlist update")
