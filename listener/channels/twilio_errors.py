"""Twilio error codes and HTTP statuses mapped onto our retry policy.

Used for errors from the Messages API (``TwilioChannel.send``) and, with ``status=None``, for the
``ErrorCode`` of a failed/undelivered StatusCallback. Source: the integrations research (Twilio section 3.6).

============================  ==========================================  ============================
code / status                 meaning                                     class
============================  ==========================================  ============================
21610                         recipient replied STOP (unsubscribed)       permanent, opt_out
21211                         invalid 'To' number                         permanent
21612                         'To' not reachable via SMS from this From   permanent
21614, 21635                  'To' not a mobile / is a landline           permanent
21617                         body longer than 1,600 characters           permanent
30004, 30005, 30006           blocked / unknown handset / landline        permanent
30007                         carrier filtering (review content first)    permanent
63014                         WhatsApp: user blocked the business         permanent
63016                         WhatsApp: outside 24 h window, needs a      permanent (resend as template
                              template                                    or use the next channel)
20003, 20404                  bad credentials / wrong account SID         permanent, config_error
21212, 21606, 21659, 21660    'From' invalid / not ours / not SMS-capable permanent, config_error
21408, 21608                  region not enabled / trial unverified To    permanent, config_error
21910, 63007                  From/To channel mismatch / no WA sender     permanent, config_error
30002                         account suspended                           permanent, config_error
20429, HTTP 429, 63018        rate limited                                transient (honour Retry-After)
30001, 30003, 30008           queue overflow / handset off / unknown      transient (retry a few times)
HTTP 5xx                      Twilio-side failure                         transient, maybe_sent unless
                                                                          503 with Retry-After
other 4xx                     request Twilio will not accept              permanent
connect error / timeout       network                                     transient (see twilio_channel)
============================  ==========================================  ============================

A delivery-time code we do not know (``status=None``) is treated as permanent: moving on to the
customer's next channel is cheaper and less intrusive than texting the same number again.
"""

from __future__ import annotations

from dataclasses import dataclass

from slotoptim.listener.channels.base import PermanentSendError, SendError, TransientSendError

OPT_OUT_CODES = frozenset({21610})
CONFIG_CODES = frozenset({20003, 20404, 21212, 21606, 21659, 21660, 21408, 21608, 21910, 63007, 30002})
PERMANENT_CODES = (
    frozenset({21211, 21612, 21614, 21635, 21617, 30004, 30005, 30006, 30007, 63014, 63016})
    | OPT_OUT_CODES
    | CONFIG_CODES
)
TRANSIENT_CODES = frozenset({20429, 63018, 30001, 30003, 30008})


@dataclass(frozen=True)
class TwilioErrorClass:
    transient: bool
    opt_out: bool = False
    config_error: bool = False


def classify_twilio_error(status: int | None, code: int | None) -> TwilioErrorClass:
    """``status`` is the HTTP status of an API error, None for a StatusCallback ErrorCode."""
    # A known Twilio code says more than the HTTP status it came with.
    if code in TRANSIENT_CODES:
        return TwilioErrorClass(transient=True)
    if code in PERMANENT_CODES:
        return TwilioErrorClass(transient=False, opt_out=code in OPT_OUT_CODES, config_error=code in CONFIG_CODES)
    if status is not None and (status == 429 or status >= 500):
        return TwilioErrorClass(transient=True)
    return TwilioErrorClass(transient=False)


def send_error_for(status: int | None, code: int | None, message: str, retry_after: float | None = None) -> SendError:
    """The SendError the caller should see for a Twilio API error response."""
    kind = classify_twilio_error(status, code)
    text_code = None if code is None else str(code)
    if not kind.transient:
        return PermanentSendError(message, text_code, opt_out=kind.opt_out, config_error=kind.config_error)
    # 429 (and 503 with Retry-After) mean "not processed, come back later"; any other 5xx may have
    # been raised after Twilio had queued the message (integrations research 3.6).
    not_processed = status == 429 or code in (20429, 63018) or (status == 503 and retry_after is not None)
    maybe_sent = status is not None and status >= 500 and not not_processed
    return TransientSendError(
        message, text_code, retry_after=retry_after, maybe_sent=maybe_sent, throttled=not_processed
    )
