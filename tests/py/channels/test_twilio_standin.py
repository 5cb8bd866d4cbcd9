"""The stand-in itself: what the real SDK can read back from it, and its signed status callbacks."""

from __future__ import annotations

import datetime as dt
import json
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from channels.twilio_standin import TwilioStandIn, running_standin
from twilio.base.exceptions import TwilioRestException  # type: ignore[import-untyped]
from twilio.rest import Client  # type: ignore[import-untyped]

from slotoptim.listener.channels.base import OutboundMessage, TransientSendError
from slotoptim.listener.channels.signature import valid_twilio_signature
from slotoptim.listener.channels.twilio_channel import TwilioChannel

FROM = "+15005550006"


@dataclass
class Received:
    path: str
    params: dict[str, str]
    signature: str | None


@dataclass
class CallbackReceiver:
    url: str
    received: list[Received] = field(default_factory=list)
    arrived: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    """Our side of a StatusCallback: a plain HTTP server on loopback that records each POST."""
    box: dict[str, CallbackReceiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"])).decode()
            params = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
            target = box["receiver"]
            target.received.append(Received(self.path, params, self.headers.get("X-Twilio-Signature")))
            self.send_response(204)
            self.end_headers()
            target.arrived.release()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box["receiver"] = CallbackReceiver(f"http://127.0.0.1:{server.server_port}/twilio/status?clinic=7")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield box["receiver"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def sdk_client(standin: TwilioStandIn) -> Any:
    client = Client(standin.account_sid, standin.auth_token)
    client.api.base_url = standin.base_url
    return client


def test_sdk_can_fetch_and_list_what_was_sent(twilio_standin: TwilioStandIn) -> None:
    sms = TwilioChannel("sms", twilio_standin.account_sid, twilio_standin.auth_token, FROM, twilio_standin.base_url)
    first = sms.send(OutboundMessage(1, "sms", "+14155550100", "one"))
    sms.send(OutboundMessage(2, "sms", "+14155550199", "other recipient"))
    second = sms.send(OutboundMessage(3, "sms", "+14155550100", "two"))
    client = sdk_client(twilio_standin)

    fetched = client.messages(first.provider_id).fetch()
    assert (fetched.sid, fetched.body, fetched.to, fetched.from_) == (first.provider_id, "one", "+14155550100", FROM)
    assert fetched.num_segments == "1" and fetched.direction == "outbound-api"
    assert fetched.date_created is not None  # the SDK parsed our RFC 2822 date

    # What a sender would do to reconcile after a timeout: list by recipient, newest first.
    listed = client.messages.list(to="+14155550100")
    assert [m.sid for m in listed] == [second.provider_id, first.provider_id]


def test_status_callbacks_are_posted_and_signed_like_twilio(
    twilio_standin: TwilioStandIn, receiver: CallbackReceiver
) -> None:
    sms = TwilioChannel("sms", twilio_standin.account_sid, twilio_standin.auth_token, FROM, twilio_standin.base_url)
    sid = sms.send(OutboundMessage(1, "sms", "+14155550100", "hi", status_callback=receiver.url)).provider_id

    result = twilio_standin.send_status_callback(sid, "undelivered", error_code=30003)
    assert result.http_status == 204
    [got] = receiver.received
    assert got.path == "/twilio/status?clinic=7"
    assert got.params["MessageSid"] == sid and got.params["MessageStatus"] == "undelivered"
    assert got.params["ErrorCode"] == "30003" and got.params["AccountSid"] == twilio_standin.account_sid
    assert valid_twilio_signature(twilio_standin.auth_token, receiver.url, got.params, got.signature)
    assert not valid_twilio_signature("another-token", receiver.url, got.params, got.signature)


def test_auto_callbacks_follow_each_accepted_message(receiver: CallbackReceiver) -> None:
    with running_standin(auto_callbacks=("sent", "delivered")) as standin:
        sms = TwilioChannel("sms", standin.account_sid, standin.auth_token, FROM, standin.base_url)
        sid = sms.send(OutboundMessage(1, "sms", "+14155550100", "hi", status_callback=receiver.url)).provider_id
        receiver.arrived.acquire()
        receiver.arrived.acquire()
    assert [(r.params["MessageSid"], r.params["MessageStatus"]) for r in receiver.received] == [
        (sid, "sent"),
        (sid, "delivered"),
    ]


def test_unknown_account_path_is_404_and_bad_auth_is_401(twilio_standin: TwilioStandIn) -> None:
    other = Client("AC" + "9" * 32, twilio_standin.auth_token)
    other.api.base_url = twilio_standin.base_url
    with pytest.raises(TwilioRestException) as caught:
        other.messages.create(to="+14155550100", from_=FROM, body="x")
    assert (caught.value.status, caught.value.code) == (401, 20003)

    client = sdk_client(twilio_standin)
    with pytest.raises(TwilioRestException) as caught:
        client.api.v2010.accounts("AC" + "9" * 32).messages.create(to="+14155550100", from_=FROM, body="x")
    assert (caught.value.status, caught.value.code) == (404, 20404)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"to": "+14155550100", "body": "x"}, 21603),
        ({"to": "+14155550100", "from_": FROM}, 21602),
        ({"to": "+14155550100", "from_": FROM, "body": "x" * 1601}, 21617),
        ({"to": "whatsapp:+14155550100", "from_": FROM, "body": "x"}, 21910),
        ({"to": "0044 20 7946 0000", "from_": FROM, "body": "x"}, 21211),
    ],
)
def test_requests_twilio_would_refuse_get_its_codes(
    twilio_standin: TwilioStandIn, params: dict[str, str], code: int
) -> None:
    with pytest.raises(TwilioRestException) as caught:
        sdk_client(twilio_standin).messages.create(**params)
    assert (caught.value.status, caught.value.code) == (400, code)


def test_a_request_without_to_gets_21604(twilio_standin: TwilioStandIn) -> None:
    # The SDK makes 'to' a required argument; send the bare request as another client might.
    response = sdk_client(twilio_standin).request(
        "POST",
        f"{twilio_standin.base_url}/2010-04-01/Accounts/{twilio_standin.account_sid}/Messages.json",
        data={"From": FROM, "Body": "x"},
    )
    assert response.status_code == 400
    assert json.loads(response.text)["code"] == 21604


def test_the_messages_list_filters_by_date_sent_as_twilio_does(twilio_standin: TwilioStandIn) -> None:
    sms = TwilioChannel("sms", twilio_standin.account_sid, twilio_standin.auth_token, FROM, twilio_standin.base_url)
    sent = sms.send(OutboundMessage(1, "sms", "+14155550100", "one"))
    client = sdk_client(twilio_standin)
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert [m.sid for m in client.messages.list(to="+14155550100", date_sent_after=today)] == [sent.provider_id]
    assert client.messages.list(to="+14155550100", date_sent_after=today + dt.timedelta(days=1)) == []
    assert client.messages.list(to="+14155550100", date_sent_before=today - dt.timedelta(days=1)) == []
    assert [m.sid for m in client.messages.list(from_=FROM, date_sent=today)] == [sent.provider_id]
    # What the channel's reconciliation look-up returns.
    found = sms.created_since(OutboundMessage(9, "sms", "+14155550100", "one"), today)
    assert [(f.provider_id, f.body) for f in found] == [(sent.provider_id, "one")]


def test_scripted_outages_answer_every_request_for_their_time(twilio_standin: TwilioStandIn) -> None:
    sms = TwilioChannel("sms", twilio_standin.account_sid, twilio_standin.auth_token, FROM, twilio_standin.base_url)
    twilio_standin.outage(429, seconds=60, retry_after=2)
    with pytest.raises(TransientSendError) as throttled:
        sms.send(OutboundMessage(1, "sms", "+14155550100", "one"))
    assert throttled.value.throttled and throttled.value.retry_after == 2.0 and not throttled.value.maybe_sent
    with pytest.raises(TransientSendError):
        sms.created_since(OutboundMessage(1, "sms", "+14155550100", "one"), dt.datetime.now(dt.UTC))
    assert twilio_standin.outage_answers == {429: 2} and twilio_standin.message_count == 0


def test_a_500_outage_can_create_what_it_refuses(twilio_standin: TwilioStandIn) -> None:
    sms = TwilioChannel("sms", twilio_standin.account_sid, twilio_standin.auth_token, FROM, twilio_standin.base_url)
    twilio_standin.outage(500, seconds=60, created_share=1.0)
    with pytest.raises(TransientSendError) as failed:
        sms.send(OutboundMessage(1, "sms", "+14155550100", "one"))
    assert failed.value.maybe_sent and not failed.value.throttled
    assert twilio_standin.message_count == 1, "created although the answer was a 500"
    assert twilio_standin.duplicate_deliveries() == 0
