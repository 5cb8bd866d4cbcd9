"""Inbound reply classification: opt-out, opt-in, help, offer acceptance, other."""

from __future__ import annotations

import pytest

from slotoptim.listener.channels.opt_out import classify_inbound

CASES = [
    # Twilio's and the FCC's keywords, any case, spacing, punctuation
    ("STOP", "stop"),
    ("stop", "stop"),
    ("  Stop.  ", "stop"),
    ("STOP!!!", "stop"),
    ("STOPALL", "stop"),
    ("STOP ALL", "stop"),
    ("Unsubscribe", "stop"),
    ("CANCEL", "stop"),
    ("end", "stop"),
    ("QUIT", "stop"),
    ("OPTOUT", "stop"),
    ("opt out", "stop"),
    ("Opt-Out", "stop"),
    ("REVOKE", "stop"),
    ("Ｓｔｏｐ", "stop"),  # full-width letters from some keyboards
    # free-text revocation (TCPA: any reasonable means)
    ("stop texting me", "stop"),
    ("Please stop sending me these messages", "stop"),
    ("please stop", "stop"),
    ("STOP I already found another dentist", "stop"),
    ("can you stop the reminders", "stop"),
    ("Don't text me again", "stop"),
    ("dont text me", "stop"),
    ("Do not contact me", "stop"),
    ("don’t want any more texts", "stop"),
    ("I no longer want to receive texts", "stop"),
    ("unsubscribe me", "stop"),
    ("How do I unsubscribe?", "stop"),
    ("please remove me from this list", "stop"),
    ("remove my number", "stop"),
    ("take me off your list", "stop"),
    ("opt me out", "stop"),
    ("no more texts please", "stop"),
    ("leave me alone", "stop"),
    ("Wrong number", "stop"),
    ("cancel these texts", "stop"),
    ("No más", "stop"),
    ("ALTO", "stop"),
    ("Yes stop", "stop"),  # an opt-out wins over a yes
    # opt back in
    ("START", "start"),
    ("unstop", "start"),
    # help
    ("HELP", "help"),
    ("info", "help"),
    ("Help?", "help"),
    # claiming the offered slot
    ("YES", "yes"),
    ("yes", "yes"),
    ("Yes!", "yes"),
    ("Y", "yes"),
    ("yep", "yes"),
    ("Yeah", "yes"),
    ("CONFIRM", "yes"),
    ("yes please", "yes"),
    ("Sí", "yes"),
    ("YES 👍", "yes"),
    # answers to a reminder (issue 12)
    ("C", "cancel_visit"),
    ("c.", "cancel_visit"),
    ("R", "reschedule"),
    ("EARLIER", "earlier"),
    ("Sooner", "earlier"),
    ("CANCEL", "stop"),
    # everything else goes to a person (or the booking flow), never a claim nor an opt-out
    ("No", "other"),
    ("no thanks", "other"),
    ("not interested", "other"),
    ("Yes but can I come at 4 instead?", "other"),
    ("ok", "other"),
    ("👍", "other"),
    ("", "other"),
    ("Can I stop by tomorrow instead?", "other"),
    ("I need to cancel my appointment", "other"),
    ("Don't forget to call me about the slot", "other"),
    ("never mind, text me later", "other"),
    ("what time is it at?", "other"),
    ("The end of the week works better", "other"),
    ("starting Monday I'm free", "other"),
]


@pytest.mark.parametrize(("text", "kind"), CASES)
def test_classify_inbound(text: str, kind: str) -> None:
    assert classify_inbound(text) == kind
