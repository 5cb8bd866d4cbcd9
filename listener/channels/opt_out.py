"""What an inbound SMS/WhatsApp reply means to us: opt-out, opt-in, help, offer acceptance, check-in
(HERE), or other.

Twilio itself acts on exact keywords only (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, OPTOUT,
REVOKE; START, UNSTOP, YES; HELP, INFO) and only on SMS long codes. The TCPA lets a patient revoke
consent "by any reasonable means" (47 CFR 64.1200(a)(10), in force since 2025-04-11), so free-text
refusals such as "stop texting me" or "wrong number" count as opt-outs too, and WhatsApp replies
get the same treatment.

Decisions:

- An opt-out wins over everything else in the same text ("yes, stop"): texting someone who said
  stop is the expensive mistake, ignoring a YES is not.
- CANCEL alone is an opt-out (a per se keyword for the FCC and for Twilio), and so is "cancel
  the texts"; "cancel my appointment" is 'other', for a person or the booking flow to read.
- START/UNSTOP are 'start' (opt back in). YES is 'yes' (claim the offered slot) although Twilio
  also treats YES as opt-in: for a number that had opted out, Twilio will have re-subscribed it,
  and the caller has to decide whether a YES also restores consent.
- 'yes' is exact words only: a slot must not be claimed by a sentence that merely contains "ok".
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

InboundKind = Literal["stop", "start", "help", "yes", "here", "cancel_visit", "reschedule", "earlier", "other"]

STOP_WORDS = frozenset(
    {
        "stop",
        "stopall",
        "stop all",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "optout",
        "opt out",
        "revoke",
        "remove",
        "remove me",
        # Spanish, common in US healthcare texting
        "alto",
        "parar",
        "basta",
        "no mas",
        "cancelar",
    }
)
START_WORDS = frozenset({"start", "unstop"})
HELP_WORDS = frozenset({"help", "info", "ayuda"})
YES_WORDS = frozenset({"yes", "y", "yep", "yeah", "yup", "yes please", "confirm", "confirmed", "si"})
# Checking in for today's visit (the check-in queue); exact words, like YES.
HERE_WORDS = frozenset({"here", "i m here", "im here", "i am here", "arrived", "check in", "checkin", "aqui", "llegue"})
# Answers to a reminder (issue 12): C cancels the appointment (CANCEL alone stays an opt-out, as
# for Twilio; api/queries/reminder_replies.py then also cancels the reminded appointment), R asks
# for another time, EARLIER for an earlier one (move-up). Y and CONFIRM are YES words: they confirm
# the reminded appointment when the reminder is the latest thing sent to that phone.
CANCEL_VISIT_WORDS = frozenset({"c"})
RESCHEDULE_WORDS = frozenset({"r"})
EARLIER_WORDS = frozenset({"earlier", "sooner", "antes"})

# What a patient asks us to stop doing, or stop sending.
_CONTACT = (
    r"(?:texts?|texting|txts?|messages?|messaging|msgs?|sms|contact|contacting|send|sending|calls?|calling"
    r"|e?mails?|emailing|bother|bothering|reminders?|notifications?|alerts?|offers?)"
)
# Words allowed between a negation and _CONTACT ("don't want any more texts"), chosen so that
# "don't forget to call" and "never mind, text me later" do not read as a refusal.
_FILLER = r"(?:(?:ever|again|please|want|wanna|need|any|more|to|me|you|u|anymore|receive|get)\s+){0,3}"
STOP_PATTERNS = tuple(
    re.compile(p)
    for p in (
        r"^stop\b(?!\s+by\b)",  # "STOP I already booked"
        r"\bstop$",  # "please just stop"
        rf"\b(?:stop(?!\s+by\b)|quit|cease)\b.*\b{_CONTACT}\b",  # "stop texting me", "please stop the reminders"
        rf"\b(?:do not|don t|dont|never(?!\s+mind)|no longer)\s+{_FILLER}{_CONTACT}\b",  # "don't text me"
        # "cancel the texts", but not "cancel my appointment and call me"
        r"\bcancel\b.*\b(?:texts?|txts?|messages?|msgs?|sms|reminders?|notifications?|alerts?|offers?)\b",
        r"\bunsubscribe\b",
        r"\bopt\s?(?:me\s)?out\b",  # "opt out", "opt-out", "opt me out"
        r"\b(?:remove|delete)\s+(?:me|my (?:number|phone|info|details))\b",  # "remove me from your list"
        r"\btake me off\b",
        r"\bno more (?:texts?|messages?|msgs?|sms|txts?)\b",
        r"\bleave me alone\b",
        r"\bwrong (?:number|person)\b",  # not the patient: the number's owner never consented
    )
)


def normalize(text: str) -> str:
    """Case- and accent-folded words separated by single spaces; apostrophes become spaces."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", folded).split())


def classify_inbound(text: str) -> InboundKind:
    words = normalize(text)
    if words in STOP_WORDS or any(p.search(words) for p in STOP_PATTERNS):
        return "stop"
    if words in START_WORDS:
        return "start"
    if words in HELP_WORDS:
        return "help"
    if words in YES_WORDS:
        return "yes"
    if words in HERE_WORDS:
        return "here"
    if words in CANCEL_VISIT_WORDS:
        return "cancel_visit"
    if words in RESCHEDULE_WORDS:
        return "reschedule"
    if words in EARLIER_WORDS:
        return "earlier"
    return "other"
