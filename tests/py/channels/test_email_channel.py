"""EmailChannel against a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from typing import Any, Protocol

import pytest
from channels.twilio_standin import free_port

from slotoptim.listener.channels.base import OutboundMessage, PermanentSendError, TransientSendError
from slotoptim.listener.channels.email_channel import DEFAULT_SUBJECT, EmailChannel

FROM = "Lakeside Dental <offers@lakeside.example>"
TO = "pat@example.org"


class SMTPFixture(Protocol):
    """The conftest's smtp_server, described here because conftest modules are not importable."""

    host: str
    port: int
    username: str
    password: str
    handler: Any  # RecordingHandler: received, rcpt_replies, data_reply


def mail_channel(server: SMTPFixture, **options: Any) -> EmailChannel:
    return EmailChannel(server.host, server.port, FROM, **options)


def offer(message_id: int = 11, to: str = TO, subject: str | None = "A slot opened") -> OutboundMessage:
    return OutboundMessage(message_id, "email", to, "Dr Lee has 3:40pm free today.\nReply YES to book.", subject)


def parse(content: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_sends_one_message_with_our_headers_and_message_id(smtp_server: SMTPFixture) -> None:
    result = mail_channel(smtp_server).send(offer())

    [mail] = smtp_server.handler.received
    assert mail.mail_from == "offers@lakeside.example"
    assert mail.rcpt_tos == [TO]
    received = parse(mail.content)
    assert received["From"] == FROM and received["To"] == TO
    assert received["Subject"] == "A slot opened"
    assert received.get_content().replace("\r\n", "\n") == "Dr Lee has 3:40pm free today.\nReply YES to book.\n"
    # A long Message-ID header is folded onto a continuation line; unfolded it is our provider id.
    assert received["Message-ID"].strip() == result.provider_id
    assert result.provider_id.startswith("<") and result.provider_id.endswith("@lakeside.example>")
    assert ".slotoptim.11@" in result.provider_id
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["Date"]
    assert result.status == "sent"


def test_each_attempt_gets_its_own_message_id(smtp_server: SMTPFixture) -> None:
    channel = mail_channel(smtp_server)
    assert channel.send(offer()).provider_id != channel.send(offer()).provider_id


def test_missing_subject_uses_the_default(smtp_server: SMTPFixture) -> None:
    mail_channel(smtp_server).send(offer(subject=None))
    assert parse(smtp_server.handler.received[0].content)["Subject"] == DEFAULT_SUBJECT


def test_login_with_the_right_credentials(smtp_server: SMTPFixture) -> None:
    channel = mail_channel(smtp_server, username=smtp_server.username, password=smtp_server.password)
    channel.send(offer())
    assert len(smtp_server.handler.received) == 1


def test_wrong_password_is_a_permanent_configuration_error(smtp_server: SMTPFixture) -> None:
    channel = mail_channel(smtp_server, username=smtp_server.username, password="wrong")
    with pytest.raises(PermanentSendError) as caught:
        channel.send(offer())
    assert caught.value.code == "535" and caught.value.config_error
    assert smtp_server.handler.received == []


def test_starttls_against_a_server_without_it_is_a_configuration_error(smtp_server: SMTPFixture) -> None:
    with pytest.raises(PermanentSendError) as caught:
        mail_channel(smtp_server, starttls=True).send(offer())
    assert caught.value.config_error


def test_550_recipient_refused_is_permanent(smtp_server: SMTPFixture) -> None:
    smtp_server.handler.rcpt_replies[TO] = "550 5.1.1 <pat@example.org>: Recipient address rejected"
    with pytest.raises(PermanentSendError) as caught:
        mail_channel(smtp_server).send(offer())
    assert caught.value.code == "550"
    assert not caught.value.opt_out and not caught.value.config_error
    assert "Recipient address rejected" in caught.value.message


def test_451_recipient_deferred_is_transient(smtp_server: SMTPFixture) -> None:
    smtp_server.handler.rcpt_replies[TO] = "451 4.7.1 Greylisted, try again later"
    with pytest.raises(TransientSendError) as caught:
        mail_channel(smtp_server).send(offer())
    assert caught.value.code == "451" and not caught.value.maybe_sent


def test_554_on_data_is_permanent_and_451_on_data_is_transient(smtp_server: SMTPFixture) -> None:
    smtp_server.handler.data_reply = "554 5.7.1 Message rejected as spam"
    with pytest.raises(PermanentSendError) as refused:
        mail_channel(smtp_server).send(offer())
    assert refused.value.code == "554"

    smtp_server.handler.data_reply = "451 4.3.0 Local error in processing"
    with pytest.raises(TransientSendError) as deferred:
        mail_channel(smtp_server).send(offer())
    assert deferred.value.code == "451" and not deferred.value.maybe_sent


def test_connection_refused_is_transient_and_not_sent() -> None:
    channel = EmailChannel("127.0.0.1", free_port(), FROM)
    with pytest.raises(TransientSendError) as caught:
        channel.send(offer())
    assert caught.value.code is None and not caught.value.maybe_sent


def test_username_without_password_is_rejected() -> None:
    with pytest.raises(ValueError):
        EmailChannel("127.0.0.1", 25, FROM, username="only-me")
