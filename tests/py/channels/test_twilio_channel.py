"""TwilioChannel through the real twilio SDK against the local Messages API stand-in."""

from __future__ import annotations

import threading

import pytest
from channels.twilio_standin import TwilioStandIn, free_port

from slotoptim.listener.channels.base import OutboundMessage, PermanentSendError, TransientSendError
from slotoptim.listener.channels.twilio_channel import TwilioChannel

FROM = "+15005550006"
TO = "+14155550100"


def channel(
    standin: TwilioStandIn, name: str = "sms", *, timeout: float = 10, from_number: str = FROM
) -> TwilioChannel:
    return TwilioChannel(
        name, standin.account_sid, standin.auth_token, from_number, base_url=standin.base_url, timeout=timeout
    )


def message(message_id: int = 1, to: str = TO, channel: str = "sms", **extra: str) -> OutboundMessage:
    return OutboundMessage(
        message_id=message_id, channel=channel, to=to, body=f"Slot at 3:40pm, reply YES #{message_id}", **extra
    )


def test_sms_is_posted_with_to_from_body_callback_and_basic_auth(twilio_standin: TwilioStandIn) -> None:
    sms = channel(twilio_standin)
    result = sms.send(message(7, status_callback="https://example.org/twilio/status"))

    assert result.provider_id.startswith("SM") and len(result.provider_id) == 34
    assert result.status == "queued"
    [seen] = twilio_standin.messages
    assert seen.sid == result.provider_id
    assert seen.account_sid == twilio_standin.account_sid
    assert (seen.to, seen.from_, seen.body) == (TO, FROM, "Slot at 3:40pm, reply YES #7")
    assert seen.status_callback == "https://example.org/twilio/status"
    assert seen.idempotency_token == "slotoptim-sms-7"
    assert twilio_standin.auth_failures == 0


def test_no_status_callback_parameter_when_none_is_configured(twilio_standin: TwilioStandIn) -> None:
    channel(twilio_standin).send(message())
    [seen] = twilio_standin.messages
    assert "StatusCallback" not in seen.params


@pytest.mark.parametrize("from_number", [FROM, "whatsapp:" + FROM])
def test_whatsapp_prefixes_to_and_from_once(twilio_standin: TwilioStandIn, from_number: str) -> None:
    wa = channel(twilio_standin, "whatsapp", from_number=from_number)
    result = wa.send(message(3, channel="whatsapp"))

    [seen] = twilio_standin.messages
    assert (seen.to, seen.from_) == ("whatsapp:" + TO, "whatsapp:" + FROM)
    assert seen.sid == result.provider_id
    assert seen.idempotency_token == "slotoptim-whatsapp-3"


def test_messaging_service_sid_is_sent_instead_of_from(twilio_standin: TwilioStandIn) -> None:
    service = "MG" + "0" * 32
    result = channel(twilio_standin, from_number=service).send(message())
    [seen] = twilio_standin.messages
    assert seen.messaging_service_sid == service and seen.from_ is None
    assert result.status == "accepted"


def test_wrong_auth_token_is_a_permanent_configuration_error(twilio_standin: TwilioStandIn) -> None:
    bad = TwilioChannel("sms", twilio_standin.account_sid, "0" * 32, FROM, base_url=twilio_standin.base_url)
    with pytest.raises(PermanentSendError) as caught:
        bad.send(message())
    assert caught.value.code == "20003"
    assert caught.value.config_error and not caught.value.opt_out
    assert twilio_standin.auth_failures == 1 and twilio_standin.messages == []


def test_429_is_transient_with_retry_after_and_the_next_attempt_goes_through(twilio_standin: TwilioStandIn) -> None:
    sms = channel(twilio_standin)
    twilio_standin.fail_next(429, retry_after=7)
    with pytest.raises(TransientSendError) as caught:
        sms.send(message(1))
    assert caught.value.code == "20429"
    assert caught.value.retry_after == 7.0
    assert not caught.value.maybe_sent  # a 429 was never processed
    assert twilio_standin.messages == []

    result = sms.send(message(1))
    assert [m.sid for m in twilio_standin.messages] == [result.provider_id]


def test_429_without_retry_after_leaves_backoff_to_the_caller(twilio_standin: TwilioStandIn) -> None:
    twilio_standin.fail_next(429)
    with pytest.raises(TransientSendError) as caught:
        channel(twilio_standin).send(message())
    assert caught.value.retry_after is None


def test_500_is_transient_and_maybe_sent(twilio_standin: TwilioStandIn) -> None:
    twilio_standin.fail_next(500)
    with pytest.raises(TransientSendError) as caught:
        channel(twilio_standin).send(message())
    assert caught.value.code == "20500"
    assert caught.value.maybe_sent


def test_503_with_retry_after_was_not_processed(twilio_standin: TwilioStandIn) -> None:
    twilio_standin.fail_next(503, retry_after=2)
    with pytest.raises(TransientSendError) as caught:
        channel(twilio_standin).send(message())
    assert caught.value.retry_after == 2.0 and not caught.value.maybe_sent


def test_invalid_to_number_21211_is_permanent(twilio_standin: TwilioStandIn) -> None:
    with pytest.raises(PermanentSendError) as caught:
        channel(twilio_standin).send(message(to="+12"))
    assert caught.value.code == "21211"
    assert not caught.value.opt_out and not caught.value.config_error
    assert "+12" in caught.value.message


def test_unsubscribed_recipient_21610_is_permanent_and_an_opt_out(twilio_standin: TwilioStandIn) -> None:
    twilio_standin.reject_to(TO, 21610)
    with pytest.raises(PermanentSendError) as caught:
        channel(twilio_standin).send(message())
    assert caught.value.code == "21610"
    assert caught.value.opt_out
    # Other recipients are unaffected.
    channel(twilio_standin).send(message(to="+14155550101"))
    assert [m.to for m in twilio_standin.messages] == ["+14155550101"]


def test_whatsapp_outside_the_24h_window_63016_is_permanent_not_opt_out(twilio_standin: TwilioStandIn) -> None:
    twilio_standin.fail_next_with_code(63016)
    with pytest.raises(PermanentSendError) as caught:
        channel(twilio_standin, "whatsapp").send(message(channel="whatsapp"))
    assert caught.value.code == "63016"
    assert not caught.value.opt_out
    assert "Template" in caught.value.message


def test_other_4xx_is_permanent(twilio_standin: TwilioStandIn) -> None:
    twilio_standin.fail_next(400, 21999, message="Something Twilio will not accept")
    with pytest.raises(PermanentSendError) as caught:
        channel(twilio_standin).send(message())
    assert caught.value.code == "21999"


def test_read_timeout_is_transient_and_maybe_sent(twilio_standin: TwilioStandIn) -> None:
    twilio_standin.stall_next()
    with pytest.raises(TransientSendError) as caught:
        channel(twilio_standin, timeout=0.2).send(message())
    assert caught.value.maybe_sent
    assert caught.value.code is None

    # Twilio may well have queued it meanwhile: that is what maybe_sent warns about.
    twilio_standin.release_stalled()
    twilio_standin.wait_for_messages(1)
    assert [m.idempotency_token for m in twilio_standin.messages] == ["slotoptim-sms-1"]


def test_connection_dropped_after_the_request_is_transient_and_maybe_sent(twilio_standin: TwilioStandIn) -> None:
    twilio_standin.drop_next()
    with pytest.raises(TransientSendError) as caught:
        channel(twilio_standin).send(message())
    assert caught.value.maybe_sent
    assert len(twilio_standin.messages) == 1


def test_unreadable_success_body_is_transient_and_maybe_sent(twilio_standin: TwilioStandIn) -> None:
    twilio_standin.garble_next()
    with pytest.raises(TransientSendError) as caught:
        channel(twilio_standin).send(message())
    assert caught.value.maybe_sent
    assert len(twilio_standin.messages) == 1


def test_connection_refused_is_transient_and_certainly_not_sent() -> None:
    nowhere = TwilioChannel("sms", "AC" + "0" * 32, "t" * 32, FROM, base_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(TransientSendError) as caught:
        nowhere.send(message())
    assert not caught.value.maybe_sent


def test_edge_region_and_proxy_environment_do_not_divert_a_standin(
    twilio_standin: TwilioStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    monkeypatch.setenv("TWILIO_REGION", "au1")
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("NO_PROXY", "")
    channel(twilio_standin).send(message())
    assert len(twilio_standin.messages) == 1


def test_rejects_unknown_channel_names_and_missing_credentials() -> None:
    with pytest.raises(ValueError):
        TwilioChannel("email", "AC1", "tok", FROM)
    with pytest.raises(ValueError):
        TwilioChannel("sms", "AC1", "", FROM)


def test_one_channel_shared_by_threads_sends_each_message_once(twilio_standin: TwilioStandIn) -> None:
    many_threads = 8
    sms = channel(twilio_standin)
    per_thread = 100
    results: list[str] = []
    lock = threading.Lock()

    def work(offset: int) -> None:
        for i in range(per_thread):
            sid = sms.send(message(offset * per_thread + i)).provider_id
            with lock:
                results.append(sid)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(many_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    seen = twilio_standin.messages
    assert len(seen) == len(results) == many_threads * per_thread
    assert {m.sid for m in seen} == set(results)
    assert twilio_standin.duplicate_tokens() == {}
    assert {m.idempotency_token for m in seen} == {f"slotoptim-sms-{i}" for i in range(many_threads * per_thread)}
