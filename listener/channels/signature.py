"""X-Twilio-Signature for webhooks (inbound messages, status callbacks), via the SDK's RequestValidator.

Twilio asks integrators to use its library rather than re-implement the HMAC; this module only
gives it types and multi-valued form fields. ``url`` must be the public URL Twilio called, query
string included: behind a proxy, rebuild it from the forwarded scheme and host, not from the
local socket. Every received form field must be passed, because Twilio adds fields without notice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

SIGNATURE_HEADER = "X-Twilio-Signature"

FormParams = Mapping[str, str] | Mapping[str, Iterable[str]]


class _MultiValues(dict[str, list[str]]):
    """Form fields as RequestValidator reads Django's QueryDict: a key may repeat (MediaUrl0...)."""

    def getlist(self, name: str) -> list[str]:
        return self[name]


def _multi(params: FormParams) -> _MultiValues:
    return _MultiValues({k: [v] if isinstance(v, str) else list(v) for k, v in params.items()})


def twilio_signature(auth_token: str, url: str, params: FormParams) -> str:
    """The signature Twilio would put in X-Twilio-Signature for a form POST of ``params`` to ``url``."""
    return str(RequestValidator(auth_token).compute_signature(url, _multi(params)))


def valid_twilio_signature(auth_token: str, url: str, params: FormParams | str, signature: str | None) -> bool:
    """Check a webhook. ``params`` is the form fields, or the raw body for a JSON webhook (whose URL
    carries ``bodySHA256``). A missing signature is invalid."""
    if not signature:
        return False
    body = params if isinstance(params, str) else _multi(params)
    return bool(RequestValidator(auth_token).validate(url, body, signature))
