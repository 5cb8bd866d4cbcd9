"""X-Twilio-Signature helpers against the SDK's own RequestValidator."""

from __future__ import annotations

import hashlib
import json

from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from slotoptim.listener.channels.signature import twilio_signature, valid_twilio_signature

TOKEN = "12345678901234567890123456789012"
URL = "https://clinic.example.org/twilio/inbound?practice=lakeside"
PARAMS = {
    "MessageSid": "SM" + "a" * 32,
    "AccountSid": "AC" + "b" * 32,
    "From": "+14155550100",
    "To": "+15005550006",
    "Body": "YES",
    "NumMedia": "0",
}


def test_a_request_signed_by_the_sdk_validates() -> None:
    signature = RequestValidator(TOKEN).compute_signature(URL, PARAMS)
    assert valid_twilio_signature(TOKEN, URL, PARAMS, signature)
    assert twilio_signature(TOKEN, URL, PARAMS) == signature


def test_tampering_with_any_part_fails() -> None:
    signature = RequestValidator(TOKEN).compute_signature(URL, PARAMS)
    assert not valid_twilio_signature(TOKEN, URL, {**PARAMS, "Body": "STOP"}, signature)
    assert not valid_twilio_signature(TOKEN, URL, {**PARAMS, "Extra": "x"}, signature)
    assert not valid_twilio_signature(TOKEN, URL.replace("lakeside", "other"), PARAMS, signature)
    assert not valid_twilio_signature("0" * 32, URL, PARAMS, signature)
    assert not valid_twilio_signature(TOKEN, URL, PARAMS, signature[:-2] + "xx")
    assert not valid_twilio_signature(TOKEN, URL, PARAMS, None)
    assert not valid_twilio_signature(TOKEN, URL, PARAMS, "")


def test_explicit_default_port_is_accepted_either_way() -> None:
    # Twilio may sign https://host/... or https://host:443/...; the SDK tries both.
    with_port = URL.replace("clinic.example.org", "clinic.example.org:443")
    assert valid_twilio_signature(TOKEN, with_port, PARAMS, twilio_signature(TOKEN, URL, PARAMS))
    assert valid_twilio_signature(TOKEN, URL, PARAMS, twilio_signature(TOKEN, with_port, PARAMS))


def test_repeated_fields_are_all_signed() -> None:
    media = {**PARAMS, "NumMedia": "2", "MediaUrl": ["https://m.example/2", "https://m.example/1"]}
    signature = twilio_signature(TOKEN, URL, media)
    assert valid_twilio_signature(TOKEN, URL, media, signature)
    assert not valid_twilio_signature(TOKEN, URL, {**media, "MediaUrl": ["https://m.example/2"]}, signature)


def test_json_webhook_with_body_hash() -> None:
    body = json.dumps({"event": "delivered", "sid": "SM" + "a" * 32})
    url = f"{URL}&bodySHA256={hashlib.sha256(body.encode()).hexdigest()}"
    signature = twilio_signature(TOKEN, url, {})
    assert valid_twilio_signature(TOKEN, url, body, signature)
    assert not valid_twilio_signature(TOKEN, url, body.replace("delivered", "failed"), signature)
