"""Did the provider create this message after all? Asked before any resend of a message whose
last provider call had an unknown outcome (a timeout after the request left, a 5xx, a sender killed
mid-call). Twilio has no idempotency key for message creation, so the only safe resend is one that
follows a look-up which found nothing.

The look-up itself is the channel's (``created_since``: Twilio's Messages list filtered by To, From
and DateSent); the decision is here and knows nothing of HTTP, so the channel's transport can change
without touching it. A listed message matches when it went to the same address with exactly the
same body (the outbox stores the body before the first call, so every attempt sends the same text)
and its id is not already recorded for another outbox row (two rows with the same text to the same
person each claim their own provider message).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection

from slotoptim.listener.channels.base import OutboundMessage, ProviderMessage, ReconcilableChannel

# The provider's clock and ours may differ; Twilio filters by day anyway.
CLOCK_SKEW = dt.timedelta(minutes=10)


def matching(
    candidates: list[ProviderMessage], address: str, body: str, recorded: Collection[str]
) -> ProviderMessage | None:
    """The oldest listed message to ``address`` with ``body`` whose id no other row holds."""
    found = [c for c in candidates if c.to == address and c.body == body and c.provider_id not in recorded]
    if not found:
        return None
    oldest = dt.datetime.max.replace(tzinfo=dt.UTC)
    return min(found, key=lambda c: c.sent_at or oldest)


def find_created(
    channel: ReconcilableChannel,
    message: OutboundMessage,
    attempt_started_at: dt.datetime,
    recorded: Callable[[list[str]], Collection[str]],
) -> str | None:
    """The provider id of ``message`` if the provider created it, else None. ``recorded`` says
    which of a list of provider ids the outbox already holds. Raises TransientSendError when the
    provider cannot be asked (then nothing may be resent yet)."""
    candidates = channel.created_since(message, attempt_started_at - CLOCK_SKEW)
    address = channel.address(message)
    same = [c for c in candidates if c.to == address and c.body == message.body]
    if not same:
        return None
    match = matching(same, address, message.body, recorded([c.provider_id for c in same]))
    return None if match is None else match.provider_id
