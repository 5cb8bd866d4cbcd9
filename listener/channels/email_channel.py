"""Email through an SMTP relay (smtplib), one connection per message.

The provider id is the Message-ID header we generate, so bounces and replies can be matched to the
outbox row. Errors:

==========================================================  ====================================
what happened                                               raised
==========================================================  ====================================
5xx to RCPT (550 no such user, 553 bad address ...)         PermanentSendError
5xx to MAIL FROM, 535 bad login, no STARTTLS/AUTH offered,  PermanentSendError(config_error=True)
TLS certificate rejected
5xx to DATA (552 too big, 554 rejected as spam ...)         PermanentSendError
4xx anywhere (greylisting, 421 busy, 451 local error)       TransientSendError
connection refused / DNS / timeout before DATA              TransientSendError
disconnect or timeout during DATA                           TransientSendError(maybe_sent=True)
==========================================================  ====================================
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from slotoptim.listener.channels.base import OutboundMessage, PermanentSendError, SendResult, TransientSendError

DEFAULT_SUBJECT = "Appointment update"


class EmailChannel:
    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        from_address: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10,
        default_subject: str = DEFAULT_SUBJECT,
    ) -> None:
        if (username is None) != (password is None):
            raise ValueError("EmailChannel needs both a username and a password, or neither")
        self.host = host
        self.port = port
        self.from_address = from_address
        self._username = username
        self._password = password
        self.starttls = starttls
        self._timeout = timeout
        self._default_subject = default_subject
        # The sender's domain names our Message-IDs and our EHLO; left to itself smtplib would ask
        # socket.getfqdn(), which can stall on a host without working reverse DNS.
        domain = parseaddr(from_address)[1].rpartition("@")[2]
        self._domain = domain or "localhost"

    def build(self, message: OutboundMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.from_address
        email["To"] = message.to
        email["Subject"] = message.subject or self._default_subject
        email["Date"] = formatdate(usegmt=True)
        email["Message-ID"] = make_msgid(idstring=f"slotoptim.{message.message_id}", domain=self._domain)
        # RFC 3834: tells auto-responders (vacation replies) not to answer.
        email["Auto-Submitted"] = "auto-generated"
        email.set_content(message.body)
        return email

    def send(self, message: OutboundMessage) -> SendResult:
        email = self.build(message)
        stage = "connect"  # how far we got decides whether a dropped connection may have delivered
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self._timeout, local_hostname=self._domain) as smtp:
                stage = "session"
                smtp.ehlo_or_helo_if_needed()  # mail() below, unlike sendmail(), does not greet by itself
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._username is not None and self._password is not None:
                    smtp.login(self._username, self._password)
                stage = "envelope"
                # The envelope step by step rather than send_message(), to know when DATA began.
                code, reply = smtp.mail(self.from_address)
                if code != 250:
                    raise smtplib.SMTPSenderRefused(code, reply, self.from_address)
                code, reply = smtp.rcpt(message.to)
                if code not in (250, 251):
                    raise smtplib.SMTPRecipientsRefused({message.to: (code, reply)})
                stage = "data"
                code, reply = smtp.data(email.as_bytes(policy=email.policy.clone(linesep="\r\n")))
                if code != 250:
                    raise smtplib.SMTPDataError(code, reply)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise _by_reply(code, reply, "recipient refused") from exc
        except (smtplib.SMTPSenderRefused, smtplib.SMTPAuthenticationError) as exc:
            raise _by_reply(exc.smtp_code, exc.smtp_error, type(exc).__name__, config=True) from exc
        except smtplib.SMTPResponseException as exc:
            # A reply, even to the end of DATA, is a definite answer: a 4xx there means "not taken".
            raise _by_reply(exc.smtp_code, exc.smtp_error, type(exc).__name__) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentSendError(
                f"SMTP server lacks a feature we are configured to use: {exc}", config_error=True
            ) from exc
        except ssl.SSLCertVerificationError as exc:
            raise PermanentSendError(f"SMTP server certificate rejected: {exc}", config_error=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # SMTPServerDisconnected, refused connections, DNS failures, socket timeouts, TLS errors.
            raise TransientSendError(
                f"SMTP {stage} failed: {type(exc).__name__}: {exc}", maybe_sent=stage == "data"
            ) from exc
        return SendResult(provider_id=str(email["Message-ID"]), status="sent")


def _by_reply(
    code: int, reply: bytes | str, what: str, *, config: bool = False
) -> PermanentSendError | TransientSendError:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    message = f"SMTP {what}: {code} {text}"
    if 500 <= code < 600:
        return PermanentSendError(message, str(code), config_error=config)
    return TransientSendError(message, str(code))
