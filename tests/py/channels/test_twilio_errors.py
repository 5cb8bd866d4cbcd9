"""The Twilio error table and Retry-After parsing, without a server."""

from __future__ import annotations

import datetime as dt

import pytest

from slotoptim.listener.channels.base import PermanentSendError, TransientSendError
from slotoptim.listener.channels.twilio_errors import classify_twilio_error, send_error_for
from slotoptim.listener.channels.twilio_http import retry_after_seconds


@pytest.mark.parametrize(
    ("status", "code", "transient", "opt_out", "config_error"),
    [
        (400, 21211, False, False, False),  # invalid To
        (400, 21610, False, True, False),  # unsubscribed
        (400, 21614, False, False, False),  # not a mobile
        (400, 63016, False, False, False),  # WhatsApp outside 24 h
        (400, 63014, False, False, False),  # WhatsApp: blocked by the user
        (400, 21408, False, False, True),  # region not enabled
        (400, 21606, False, False, True),  # From not SMS-capable
        (401, 20003, False, False, True),  # bad credentials
        (400, 21999, False, False, False),  # an unknown 4xx
        (429, 20429, True, False, False),
        (429, None, True, False, False),
        (500, 20500, True, False, False),
        (502, 502, True, False, False),  # a proxy's HTML page: the SDK uses the status as the code
        (503, 20503, True, False, False),
        (None, 30003, True, False, False),  # status callback: handset unreachable
        (None, 30008, True, False, False),  # status callback: unknown error
        (None, 30006, False, False, False),  # status callback: landline
        (None, 30007, False, False, False),  # status callback: carrier filtering
        (None, 21610, False, True, False),
        (None, 39999, False, False, False),  # unknown delivery failure: move on
    ],
)
def test_classification_table(
    status: int | None, code: int | None, transient: bool, opt_out: bool, config_error: bool
) -> None:
    kind = classify_twilio_error(status, code)
    assert (kind.transient, kind.opt_out, kind.config_error) == (transient, opt_out, config_error)


def test_send_error_for_builds_the_right_exception() -> None:
    error = send_error_for(400, 21610, "Attempt to send to unsubscribed recipient")
    assert isinstance(error, PermanentSendError) and error.opt_out and error.code == "21610"
    assert error.message == "Attempt to send to unsubscribed recipient"

    limited = send_error_for(429, 20429, "Too Many Requests", retry_after=3.0)
    assert isinstance(limited, TransientSendError)
    assert limited.retry_after == 3.0 and not limited.maybe_sent

    broken = send_error_for(500, 20500, "Internal Server Error")
    assert isinstance(broken, TransientSendError) and broken.maybe_sent

    unavailable = send_error_for(503, 20503, "Service Unavailable", retry_after=1.0)
    assert isinstance(unavailable, TransientSendError) and not unavailable.maybe_sent


NOW = dt.datetime(2026, 3, 2, 12, 0, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": " 1.5 "}, 1.5),
        ({"Retry-After": "-3"}, 0.0),
        ({"Retry-After": "Mon, 02 Mar 2026 12:00:30 GMT"}, 30.0),
        ({"Retry-After": "Mon, 02 Mar 2026 11:59:00 GMT"}, 0.0),  # already past
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "inf"}, None),
        ({"Retry-After": ""}, None),
        ({}, None),
        (None, None),
    ],
)
def test_retry_after(headers: dict[str, str] | None, seconds: float | None) -> None:
    assert retry_after_seconds(headers, now=NOW) == seconds
