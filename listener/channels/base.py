"""What every outbound channel takes, returns and raises.

The sender loop owns retries and fallbacks; a channel only makes one attempt and says, through the
type of error it raises, what the caller should do next:

- ``PermanentSendError``: this channel will not deliver this message however often it is tried;
  move on to the customer's next channel (and, if ``opt_out`` is set, record the opt-out).
- ``TransientSendError``: try the same channel again later, after ``retry_after`` seconds if the
  provider said so. ``maybe_sent`` warns that the provider may already have accepted the message
  (timeout after the request went out, 5xx), so the caller should reconcile before resending.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class OutboundMessage:
    message_id: int  # outbox row id; also the idempotency key basis
    channel: str  # 'sms' | 'whatsapp' | 'email' | 'console'
    to: str  # E.164 phone for sms/whatsapp (without 'whatsapp:'), email address for email
    body: str
    subject: str | None = None
    status_callback: str | None = None  # URL for Twilio delivery status callbacks, if configured


@dataclass(frozen=True)
class SendResult:
    provider_id: str  # Twilio SID / SMTP Message-ID / console id; the caller records it UNIQUE
    status: str  # the provider's initial status, e.g. 'queued', 'accepted', 'sent'


class SendError(Exception):
    """A send that did not go through. ``code`` is the provider's own code (Twilio error code,
    SMTP reply code) as text, or None when the failure was below the provider (network)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class PermanentSendError(SendError):
    """Retrying this channel is pointless. ``opt_out`` means the recipient unsubscribed (Twilio
    21610): the caller must record that. ``config_error`` means the fault is ours (credentials,
    sender number, region permissions) rather than the recipient's, so every message on this
    channel will fail the same way until someone fixes the configuration: worth an alert."""

    def __init__(
        self, message: str, code: str | None = None, *, opt_out: bool = False, config_error: bool = False
    ) -> None:
        super().__init__(message, code)
        self.opt_out = opt_out
        self.config_error = config_error


class TransientSendError(SendError):
    """Worth retrying on the same channel with backoff. ``retry_after`` is the provider's own
    hint in seconds (HTTP Retry-After), if it gave one; ``throttled`` marks a rate limit."""

    def __init__(
        self,
        message: str,
        code: str | None = None,
        *,
        retry_after: float | None = None,
        maybe_sent: bool = False,
        throttled: bool = False,
    ) -> None:
        super().__init__(message, code)
        self.retry_after = retry_after
        self.maybe_sent = maybe_sent
        # The provider said "not now" (429, or 503 with Retry-After): nothing was created, and the
        # whole account should slow down, not only this message.
        self.throttled = throttled


class Channel(Protocol):
    name: str

    def send(self, message: OutboundMessage) -> SendResult: ...


@dataclass(frozen=True)
class ProviderMessage:
    """A message as the provider's own records list it (for reconciliation)."""

    provider_id: str
    to: str  # as the channel addressed it (Twilio: with 'whatsapp:' for WhatsApp)
    body: str
    sent_at: dt.datetime | None


@runtime_checkable
class ReconcilableChannel(Protocol):
    """A channel whose provider can say what it created, so an ambiguous send can be checked
    before it is repeated. ``account`` names the provider account (the rate limit's key)."""

    name: str
    account: str

    def send(self, message: OutboundMessage) -> SendResult: ...

    def address(self, message: OutboundMessage) -> str:
        """The recipient as the provider records it."""
        ...

    def created_since(self, message: OutboundMessage, since: dt.datetime) -> list[ProviderMessage]:
        """Messages to this recipient from our sender that the provider lists as sent at or after
        ``since`` (at the provider's granularity: possibly more). Raises TransientSendError when
        the provider cannot be asked right now."""
        ...
