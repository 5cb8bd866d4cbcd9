"""Build the channels from environment variables.

=====================  =========================================================================
variable               use
=====================  =========================================================================
TWILIO_ACCOUNT_SID     with TWILIO_AUTH_TOKEN: enables 'sms' (needs TWILIO_FROM) and 'whatsapp'
TWILIO_AUTH_TOKEN      (needs TWILIO_WHATSAPP_FROM, with or without the 'whatsapp:' prefix)
TWILIO_FROM            SMS sender: E.164 number or a Messaging Service SID (MG...)
TWILIO_WHATSAPP_FROM   WhatsApp sender
TWILIO_BASE_URL        optional: send to a Twilio stand-in (http://127.0.0.1:PORT) instead
SMTP_HOST, SMTP_FROM   enable 'email'
SMTP_PORT              default 587 with STARTTLS, else 25
SMTP_USERNAME          with SMTP_PASSWORD: log in
SMTP_STARTTLS          1/true/yes/on or 0/false/no/off (default off)
=====================  =========================================================================

A channel whose variables are absent falls back to the console channel, so the demo runs with no
credentials at all. A half-configured channel (a SID without its token, SMTP_HOST without
SMTP_FROM ...) is an error instead: silently printing patients' messages to a console in
production would look like success.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TextIO

from slotoptim.listener.channels.base import Channel
from slotoptim.listener.channels.console_channel import ConsoleChannel
from slotoptim.listener.channels.email_channel import EmailChannel
from slotoptim.listener.channels.twilio_channel import TwilioChannel
from slotoptim.listener.config import ConfigError

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


def _get(environ: Mapping[str, str], key: str) -> str | None:
    value = environ.get(key, "").strip()
    return value or None


def _flag(environ: Mapping[str, str], key: str) -> bool:
    value = environ.get(key, "").strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ConfigError(f"{key}: {value!r} is not a yes/no value")


def _both_or_neither(environ: Mapping[str, str], first: str, second: str) -> None:
    """One line naming the variable that is missing."""
    if (_get(environ, first) is None) != (_get(environ, second) is None):
        present, missing = (first, second) if _get(environ, first) is not None else (second, first)
        raise ConfigError(f"{missing}: not set, but {present} is (set both, or neither)")


def channels_from_env(environ: Mapping[str, str], stream: TextIO | None = None) -> dict[str, Channel]:
    """name -> channel for 'sms', 'whatsapp', 'email' and 'console'. ``stream`` is where console
    fallbacks print (stdout by default)."""
    console = ConsoleChannel(stream)
    channels: dict[str, Channel] = {"sms": console, "whatsapp": console, "email": console, "console": console}

    _both_or_neither(environ, "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
    sid, token = _get(environ, "TWILIO_ACCOUNT_SID"), _get(environ, "TWILIO_AUTH_TOKEN")
    base_url = _get(environ, "TWILIO_BASE_URL")
    senders = {"sms": _get(environ, "TWILIO_FROM"), "whatsapp": _get(environ, "TWILIO_WHATSAPP_FROM")}
    if sid is None and any(senders.values()):
        raise ConfigError("TWILIO_ACCOUNT_SID: not set, but TWILIO_FROM or TWILIO_WHATSAPP_FROM is")
    if sid is not None and token is not None:
        if not any(senders.values()):
            raise ConfigError("TWILIO_FROM: not set (nor TWILIO_WHATSAPP_FROM), but the Twilio credentials are")
        for name, sender in senders.items():
            if sender is not None:
                channels[name] = TwilioChannel(name, sid, token, sender, base_url=base_url)

    _both_or_neither(environ, "SMTP_USERNAME", "SMTP_PASSWORD")
    host, sender = _get(environ, "SMTP_HOST"), _get(environ, "SMTP_FROM")
    if (host is None) != (sender is None):
        missing = "SMTP_FROM" if sender is None else "SMTP_HOST"
        raise ConfigError(f"{missing}: not set, but {'SMTP_HOST' if sender is None else 'SMTP_FROM'} is (set both)")
    if host is not None and sender is not None:
        starttls = _flag(environ, "SMTP_STARTTLS")
        port_text = _get(environ, "SMTP_PORT")
        try:
            port = int(port_text) if port_text else (587 if starttls else 25)
        except ValueError:
            raise ConfigError(f"SMTP_PORT: {port_text!r} is not a port number") from None
        channels["email"] = EmailChannel(
            host,
            port,
            sender,
            username=_get(environ, "SMTP_USERNAME"),
            password=_get(environ, "SMTP_PASSWORD"),
            starttls=starttls,
        )
    return channels
