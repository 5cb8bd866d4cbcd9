"""What SlotOptim answers an inbound text with (TwiML), kept short and free of health details:
no service, provider, time or practice name, since anyone holding the phone reads it.

Twilio's own opt-out handling also answers STOP/START/HELP on long codes (and may suppress ours
after a STOP); ours are the fallback for WhatsApp and for free-text refusals Twilio does not know.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

HELP = "Reply YES to take an opening we offered you, or STOP to stop these texts. For anything else, call the practice."
STOPPED = "You're unsubscribed and will get no more texts from us. Reply START to subscribe again."
STARTED = "You're subscribed again. Reply STOP to unsubscribe."
NO_OFFER = "We couldn't find an open offer for this number. It may have expired."
CHECKED_IN = "You're checked in. We'll call you when it's your turn."
NO_VISIT_TODAY = "We couldn't find a visit today for this number. Please check in at the desk."

CLAIM = {
    "booked": "You're booked. A confirmation follows.",
    "awaiting_approval": "Thanks! The practice will confirm your booking shortly.",
    "already_yours": "This appointment is already yours.",
    "being_confirmed": "Someone else is confirming this opening right now. It may open again.",
    "filled": "Sorry, this opening has just been filled.",
    "expired": "Sorry, this offer has expired.",
    "payment_required": "This booking needs a card or deposit: open the link in our text to finish.",
}


def claim_reply(outcome: str | None) -> str:
    return CLAIM.get(outcome or "", NO_OFFER)


def twiml(message: str | None) -> str:
    """A TwiML answer: one message, or none."""
    if not message:
        return '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    return f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{escape(message)}</Message></Response>'
