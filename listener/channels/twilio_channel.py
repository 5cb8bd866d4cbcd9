"""SMS and WhatsApp through the Twilio Messages API, using the official SDK (``twilio.rest.Client``).

One ``send`` is one ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``. Errors are turned into
our two kinds (full table in ``twilio_errors``):

=====================================================  ==============================================
what happened                                          raised
=====================================================  ==============================================
21610 unsubscribed                                     PermanentSendError(opt_out=True)
21211, 21612, 21614, 21635, 63014, 63016, ...          PermanentSendError
20003, 21212, 21408, 21606, 21608, ... (our config)    PermanentSendError(config_error=True)
any other 4xx                                          PermanentSendError
HTTP 429 / 20429                                       TransientSendError(retry_after=Retry-After)
HTTP 5xx                                               TransientSendError(maybe_sent=True, except a
                                                       503 with Retry-After)
connection refused, DNS failure, connect timeout       TransientSendError (nothing reached Twilio)
read timeout, connection dropped mid-request           TransientSendError(maybe_sent=True)
201 with a body that is not JSON                       TransientSendError(maybe_sent=True)
=====================================================  ==============================================

``maybe_sent`` means Twilio may have queued the message although we got no SID back; the caller
looks it up with ``created_since`` (``GET Messages.json?To=...&From=...&DateSent>=...``, newest
first, at most ``LOOKUP_LIMIT`` messages) before sending again, because Twilio does not document an
idempotency key for message creation (see ``slotoptim.listener.reconcile``).

Pointing at a local stand-in: pass ``base_url="http://127.0.0.1:PORT"``; the channel sets
``client.api.base_url`` (the SDK builds every Api URL as ``{base_url}/2010-04-01/...``) and clears
edge/region, which would otherwise rewrite the host.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.request

from requests import RequestException
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import ConnectTimeout
from twilio.base.exceptions import (  # type: ignore[import-untyped]
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)
from twilio.rest import Client  # type: ignore[import-untyped]
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from slotoptim.listener.channels.base import OutboundMessage, ProviderMessage, SendResult, TransientSendError
from slotoptim.listener.channels.twilio_errors import send_error_for
from slotoptim.listener.channels.twilio_http import Exchange, SendingHttpClient, current_exchange, retry_after_seconds
from slotoptim.listener.channels.twilio_lean_http import LeanHttpClient

WHATSAPP_PREFIX = "whatsapp:"
CHANNEL_NAMES = ("sms", "whatsapp")
# Messages listed per reconciliation: one recipient's texts since the attempt's day.
LOOKUP_LIMIT = 200


def channel_address(channel: str, number: str) -> str:
    """The address Twilio expects: WhatsApp numbers carry a 'whatsapp:' prefix, SMS numbers none."""
    number = number.strip()
    if channel == "whatsapp" and not number.startswith(WHATSAPP_PREFIX):
        return WHATSAPP_PREFIX + number
    return number


def idempotency_token(channel: str, message_id: int) -> str:
    # Stable across retries of one outbox row, distinct per channel because a fallback from SMS to
    # WhatsApp for the same row is a different message.
    return f"slotoptim-{channel}-{message_id}"


class TwilioChannel:
    def __init__(
        self,
        name: str,
        account_sid: str,
        auth_token: str,
        from_number: str,
        base_url: str | None = None,
        timeout: float = 10,
    ) -> None:
        if name not in CHANNEL_NAMES:
            raise ValueError(f"TwilioChannel name must be one of {CHANNEL_NAMES}, not {name!r}")
        if not (account_sid and auth_token and from_number):
            raise ValueError("TwilioChannel needs an account SID, an auth token and a From number")
        self.name = name
        self.account = f"twilio:{account_sid}"
        # A Messaging Service SID (MG...) may stand in for the From number; Twilio then picks the sender.
        if from_number.startswith("MG"):
            self._sender = ("messaging_service_sid", from_number)
        else:
            self._sender = ("from_", channel_address(name, from_number))
        self._client = Client(account_sid, auth_token, http_client=_transport(timeout, base_url))
        if base_url is not None:
            self._client.api.base_url = base_url.rstrip("/")
            # TWILIO_EDGE / TWILIO_REGION in the environment would move the host off the stand-in.
            self._client.edge = None
            self._client.region = None
        self._messages = self._client.api.v2010.accounts(account_sid).messages

    def address(self, message: OutboundMessage) -> str:
        return channel_address(self.name, message.to)

    def created_since(self, message: OutboundMessage, since: dt.datetime) -> list[ProviderMessage]:
        """Twilio's Messages list filtered by To, From (unless a Messaging Service picks the
        sender) and DateSent on or after ``since``'s UTC day (Twilio's granularity)."""
        sender_param, sender = self._sender
        filters: dict[str, object] = {"to": self.address(message)}
        if sender_param == "from_":
            filters["from_"] = sender
        day = since.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        try:
            listed = self._messages.list(date_sent_after=day, limit=LOOKUP_LIMIT, **filters)
        except TwilioException as exc:
            # A page the SDK cannot fetch is a plain TwilioException ("Unable to fetch page", any
            # status), not a TwilioRestException: whatever it was, nothing can be concluded.
            raise TransientSendError(f"Twilio Messages list failed: {type(exc).__name__}", maybe_sent=True) from exc
        except (RequestException, json.JSONDecodeError) as exc:
            raise TransientSendError(f"Twilio Messages list failed: {type(exc).__name__}", maybe_sent=True) from exc
        return [
            ProviderMessage(
                provider_id=str(m.sid), to=str(m.to), body=str(m.body or ""), sent_at=m.date_sent or m.date_created
            )
            for m in listed
        ]

    def send(self, message: OutboundMessage) -> SendResult:
        sender_param, sender = self._sender
        params = {"to": channel_address(self.name, message.to), sender_param: sender, "body": message.body}
        if message.status_callback:
            params["status_callback"] = message.status_callback

        exchange = Exchange(idempotency_token(self.name, message.message_id))
        reset = current_exchange.set(exchange)
        try:
            created = self._messages.create(**params)
        except (TwilioRestException, TwilioServiceException) as exc:
            text = getattr(exc, "msg", None) or getattr(exc, "detail", None) or getattr(exc, "title", "") or str(exc)
            code = exc.code if isinstance(exc.code, int) else None
            raise send_error_for(exc.status, code, text, retry_after_seconds(exchange.response_headers)) from exc
        except RequestException as exc:
            raise TransientSendError(
                f"Twilio request failed: {type(exc).__name__}: {exc}", maybe_sent=not _never_reached_twilio(exc)
            ) from exc
        except json.JSONDecodeError as exc:
            raise TransientSendError(f"Twilio answered with a body that is not JSON: {exc}", maybe_sent=True) from exc
        finally:
            current_exchange.reset(reset)
        return SendResult(provider_id=str(created.sid), status=str(created.status or "queued"))


def _transport(timeout: float, base_url: str | None) -> LeanHttpClient | SendingHttpClient:
    """The lean transport (twilio_lean_http), except towards the real Twilio behind an HTTPS proxy
    from the environment, which only the SDK's requests transport knows how to go through."""
    if base_url is None and urllib.request.getproxies().get("https"):
        return SendingHttpClient(timeout, direct=False)
    return LeanHttpClient(timeout)


def _never_reached_twilio(exc: Exception) -> bool:
    """True when the request cannot have been received: no connection was ever made."""
    if isinstance(exc, ConnectTimeout):
        return True
    if isinstance(exc, RequestsConnectionError) and exc.args:
        reason = getattr(exc.args[0], "reason", exc.args[0])
        return isinstance(reason, NewConnectionError | NameResolutionError | ConnectTimeoutError)
    return False
