"""The HTTP client TwilioChannel hands to ``twilio.rest.Client``.

It is the SDK's own ``TwilioHttpClient`` (requests underneath) with three changes:

- it adds ``I-Twilio-Idempotency-Token`` to a send's POST. Twilio documents that header on the
  webhooks it sends us; it does not document it on the Messages API, so nothing here relies on
  Twilio deduplicating. The value still identifies the outbox row in Twilio's request logs and
  lets the local stand-in count duplicate sends.
- it keeps the response headers of a send, because ``TwilioRestException`` drops them and a 429
  or 503 carries its back-off in ``Retry-After``.
- it never retries (requests' default adapter, ``max_retries=0``): a POST resent behind the
  caller's back could text a patient twice.

Per-send state travels in a ContextVar, so one channel can be shared by threads.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from requests.adapters import HTTPAdapter
from twilio.http.http_client import TwilioHttpClient  # type: ignore[import-untyped]

IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
POOL_SIZE = 32  # connections kept per host; the sender may call one channel from many threads


@dataclass
class Exchange:
    """One send: what to add to the request, and what came back."""

    idempotency_token: str
    response_headers: Mapping[str, str] | None = None


current_exchange: ContextVar[Exchange | None] = ContextVar("slotoptim_twilio_exchange", default=None)


class SendingHttpClient(TwilioHttpClient):  # type: ignore[misc]
    def __init__(self, timeout: float, direct: bool) -> None:
        super().__init__(timeout=timeout)
        # The SDK mounts a pooled adapter for https only; a local stand-in is plain http.
        for prefix in ("https://", "http://"):
            self.session.mount(prefix, HTTPAdapter(pool_maxsize=POOL_SIZE))
        if direct:
            # A stand-in on 127.0.0.1 must not be sent through HTTP(S)_PROXY from the environment.
            self.session.trust_env = False

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Any:
        exchange = current_exchange.get()
        if exchange is not None and method.upper() == "POST":
            headers = {**(headers or {}), IDEMPOTENCY_HEADER: exchange.idempotency_token}
        response = super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )
        if exchange is not None:
            exchange.response_headers = response.headers
        return response


def retry_after_seconds(headers: Mapping[str, str] | None, now: dt.datetime | None = None) -> float | None:
    """Retry-After as seconds from now: either delta-seconds or an HTTP-date (RFC 9110 10.2.3)."""
    if not headers:
        return None
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; an obsolete form may parse without a zone
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())
